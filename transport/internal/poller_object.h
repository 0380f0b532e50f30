#pragma once
// PollerObject<T>: an Asio I/O object (a TCP socket or acceptor) that only the poller thread
// touches, driven from goroutines.
//
// Why: Asio (and Beast's composed operations) assume that one object is used by one thread at a
// time, with its handlers on the same implicit strand. A goroutine may move between workers
// between two operations, and shutdown or a timeout wants to cancel an operation from yet another
// thread; touching the socket from all of them is a data race. So every operation, timeout and
// cancellation is posted to the poller thread (csp::io_context()), the one thread that ever
// calls into the object, and the goroutine parks until its operation completes.
//
// Contract:
//  - make() creates the object on csp::io_context(). The creating thread may use
//    unsafe_object() (e.g. to open and bind an acceptor) until it first calls run() or shares the
//    pointer; from then on only callbacks given to run() and post() touch it, on the poller.
//  - co_await run(start, deadline) — goroutines only, one run() at a time per object — calls
//    start(object, done) on the poller thread. `start` begins one Asio operation (or does
//    something synchronous) and arranges for done(error_code) to be called exactly once, on the
//    poller thread. The goroutine resumes with that error code, or with asio::error::timed_out
//    if the deadline passed first (the operation is cancelled), or operation_aborted after
//    abort(). Everything `start` refers to must live until the run() completes (goroutine frame
//    objects are fine: the goroutine is parked until then).
//  - abort() — any thread — closes the object on the poller (a socket made for direct I/O is
//    shut down instead and closed with the last reference): the pending operation completes
//    with operation_aborted and every later run() fails at once with operation_aborted. Sticky.
//  - post(f) — any thread — runs f(object) on the poller, fire and forget.
//  - Lifetime: shared. Pending poller callbacks hold a reference, so the object outlives every
//    operation and timer that refers to it; it is destroyed (closing it) with the last reference.

#include <atomic>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "csp/io.h"
#include "csp/timer.h"

namespace transport::internal {

using ErrorCode = boost::system::error_code;

template <class IoObject>
class PollerObject : public std::enable_shared_from_this<PollerObject<IoObject>> {
  struct Private {};
  static constexpr bool kIsSocket = requires(IoObject & o, ErrorCode& ec) {
    o.shutdown(IoObject::shutdown_both, ec);
  };

 public:
  PollerObject(Private, bool direct_io)
      : object_(csp::io_context()), timer_(csp::io_context()), direct_io_(direct_io) {}
  PollerObject(const PollerObject&) = delete;
  PollerObject& operator=(const PollerObject&) = delete;

  // direct_io: a goroutine will also read and write the socket's descriptor itself
  // (socket_io.h); abort() then shuts the socket down instead of closing it.
  static std::shared_ptr<PollerObject> make(bool direct_io = false) {
    return std::make_shared<PollerObject>(Private{}, direct_io);
  }

  // Before the object is shared, or on the poller thread (see the contract).
  IoObject& unsafe_object() noexcept { return object_; }

  template <class Start>
  auto run(Start start, csp::TimePoint deadline = csp::TimePoint::max()) {
    return boost::asio::async_result<csp::UseGo, void(ErrorCode)>::initiate(
        [self = this->shared_from_this(), deadline](auto handler, Start start) mutable {
          boost::asio::post(csp::io_context(),
                            [self = std::move(self), deadline, start = std::move(start),
                             handler = std::move(handler)]() mutable {
                              self->start_on_poller(std::move(start), deadline, std::move(handler));
                            });
        },
        csp::use_go, std::move(start));
  }

  void abort() {
    abort_requested_.store(true, std::memory_order_release);  // direct calls fail from now on
    boost::asio::post(csp::io_context(), [self = this->shared_from_this()] {
      self->aborted_ = true;
      ErrorCode ignored;
      bool shut_down = false;
      if constexpr (kIsSocket) {
        if (self->direct_io_) {
          // Shut down, not closed: a goroutine may be in a direct recv()/send() on the
          // descriptor (socket_io.h), and a closed number could be reused by another
          // connection meanwhile. Shutdown ends those calls (EOF, EPIPE) and cancel()
          // completes the pending operation; the descriptor is closed with the last reference.
          self->object_.shutdown(IoObject::shutdown_both, ignored);
          self->object_.cancel(ignored);
          shut_down = true;
        }
      }
      // Closing is what stops a composed operation (a connect trying address after address).
      if (!shut_down) self->object_.close(ignored);
      self->timer_.cancel();
    });
  }

  // Any thread: abort() has been called. Direct calls check it before each syscall, so an
  // aborted connection reads nothing more, not even bytes already queued in the kernel.
  bool abort_requested() const noexcept { return abort_requested_.load(std::memory_order_acquire); }

  // The descriptor, for direct non-blocking syscalls from the goroutine that owns the
  // connection (socket_io.h); only for objects made with direct_io. Valid from the hand-over to
  // a goroutine until the object is destroyed: abort() shuts such a socket down but leaves the
  // descriptor open.
  int native_handle() noexcept requires(kIsSocket) { return object_.native_handle(); }

  // Poller thread only (inside a run() callback): whether the current operation has been
  // cancelled by its deadline or by abort(). Multi-step operations check it between steps.
  bool interrupted_on_poller() const noexcept { return aborted_ || timed_out_; }

  template <class F>
  void post(F f) {
    boost::asio::post(csp::io_context(),
                      [self = this->shared_from_this(), f = std::move(f)]() { f(self->object_); });
  }

 private:
  // Poller thread only, like every member below.
  template <class Start, class Handler>
  void start_on_poller(Start start, csp::TimePoint deadline, Handler handler) {
    if (aborted_) {
      handler(
          ErrorCode(boost::asio::error::operation_aborted));  // wakes the goroutine; nothing after
      return;
    }
    const std::uint64_t op = ++op_serial_;
    op_active_ = true;
    timed_out_ = false;
    if (deadline != csp::TimePoint::max()) {
      timer_.expires_at(deadline);
      timer_.async_wait([self = this->shared_from_this(), op](ErrorCode ec) {
        // A timer that expired just as its operation completed can still run: the serial and
        // the active flag tell it apart from the operation it was armed for.
        if (ec || op != self->op_serial_ || !self->op_active_) return;
        self->timed_out_ = true;
        ErrorCode ignored;
        self->object_.cancel(ignored);
      });
    }
    start(object_,
          [self = this->shared_from_this(), handler = std::move(handler)](ErrorCode ec) mutable {
            self->op_active_ = false;
            self->timer_.cancel();
            // Whatever error an interrupted operation ends with (a composed one may report its
            // last step's), the caller learns why it was interrupted.
            if (ec && self->aborted_) {
              ec = boost::asio::error::operation_aborted;
            } else if (ec && self->timed_out_) {
              ec = boost::asio::error::timed_out;
            }
            handler(ec);  // the goroutine may run (and free what `start` referred to) from here on
          });
  }

  IoObject object_;
  boost::asio::steady_timer timer_;           // the deadline of the current operation
  std::uint64_t op_serial_ = 0;               // operations started so far
  bool op_active_ = false;                    // an operation is between start and done
  bool timed_out_ = false;                    // the current operation's deadline fired
  bool aborted_ = false;                      // abort() was called: fail everything from now on
  const bool direct_io_;                      // see make()
  std::atomic<bool> abort_requested_{false};  // abort() was called (any thread)
};

// Adapts done(ErrorCode) to Asio's read/write completion signature (ErrorCode, bytes).
template <class Done>
auto ignore_size(Done done) {
  return [done = std::move(done)](ErrorCode ec, std::size_t) mutable { done(ec); };
}

}  // namespace transport::internal
