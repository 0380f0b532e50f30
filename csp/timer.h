#pragma once
// Timers: csp::sleep, csp::after, csp::Timer, csp::Ticker and csp::after_func.
//
// Contract:
//  - One heap per process keeps every pending timer, and the network poller thread
//    (csp::io_context(), csp/io.h) fires each at (or soon after) its time, as Go's netpoller
//    wakes for the earliest timer: timers have no thread of their own. The poller never runs
//    goroutine code itself.
//  - after(d) and Timer deliver the fire time once on a buffered(1) channel, so a timer fires
//    even if nobody is receiving yet, and select treats it as an ordinary receive case.
//  - Ticker delivers on a buffered(1) channel and drops ticks a slow receiver has not taken, as
//    Go's does; it keeps its period and does not drift with late receivers.
//  - Timer::stop() reports whether it prevented the timer from firing. Stopping does not drain
//    the channel. Destroying a Timer or Ticker stops it.
//  - co_await sleep(d) parks the goroutine and readies it when d has passed.
//  - after_func(d, f) runs f on the poller thread: f must be short and must not block. Every
//    timer, Ticker, context deadline and socket in the process waits while f runs, and so does
//    every cancel() or reset() of f's own handle, so it is for csp's own internals (deadlines,
//    Timer, Ticker). Components must not do I/O in it (no disk, no logging, no locks that I/O
//    holds): periodic work belongs on a goroutine that selects on a Ticker and a stop channel,
//    joined by the component's shutdown.
//  - Cancellation is synchronous. When TimerHandle::cancel() returns, f is not running and will
//    not start again (until a later reset()), so the caller may then destroy what f touches:
//    if f is running on the poller thread when cancel() is called, cancel() waits for it to
//    return. The one exception is cancel() called from inside f itself (on the poller thread):
//    it returns at once without waiting, since waiting would deadlock; the running call
//    finishes normally and no later call starts. reset(d) is cancel() followed by re-arming:
//    it waits the same way (again, not from inside f), so the next call of f is the one reset
//    scheduled. Timer::stop/reset and Ticker::stop, and their destructors, inherit this.
//  - Because cancel() and reset() may wait for f, never call them while holding a lock (or
//    any other resource) that f needs: that deadlocks with the poller thread.
//  - f itself (its captures) is destroyed on whichever thread drops the last reference to the
//    timer: the last TimerHandle, or the poller thread after a one-shot timer that nobody holds
//    has fired. A cancelled timer leaves the queue at once, so it keeps nothing alive until
//    its old fire time. Captures must be safe to destroy on either thread.
//
// Thread-safety: every function may be called from any thread; a Timer/Ticker object is not
// meant to be used by two threads at once (like most objects).

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>

#include "csp/chan.h"

namespace csp {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

namespace internal {
struct TimerEntry;
}

// A pending action on the poller thread. Movable and copyable (copies name the same timer);
// destroying it does not cancel.
class TimerHandle {
 public:
  TimerHandle() = default;
  explicit TimerHandle(std::shared_ptr<internal::TimerEntry> e) : entry_(std::move(e)) {}
  // Stops the timer: after it returns the callback is not running (unless cancel() is called
  // from inside the callback) and will not run again. Waits for a callback in progress on the
  // poller thread. True if the timer was pending (for a periodic timer: always, until it is
  // cancelled), false if it had already fired (one-shot) or been cancelled. False on an empty
  // handle.
  bool cancel() const;
  // Cancels as cancel() does, waiting the same way, then re-arms the timer to fire after d (as
  // a one-shot, or with its period), d measured from when the wait ends. True if it was
  // pending. Called from inside the callback, it re-arms without waiting.
  bool reset(Duration d) const;
  bool valid() const noexcept { return entry_ != nullptr; }

 private:
  std::shared_ptr<internal::TimerEntry> entry_;
};

// Runs f(fire_time) on the poller thread after d (and then every `period`, if non-zero).
// Not for components' periodic work: see the contract above.
TimerHandle after_func(Duration d, std::function<void(TimePoint)> f,
                       Duration period = Duration::zero());

// A channel that receives the current time once, after d.
Chan<TimePoint> after(Duration d);

class Timer {
 public:
  explicit Timer(Duration d);
  ~Timer() { stop(); }
  Timer(Timer&&) noexcept = default;
  Timer& operator=(Timer&&) noexcept = default;

  const Chan<TimePoint>& chan() const noexcept { return chan_; }
  bool stop() const { return handle_.cancel(); }
  bool reset(Duration d) const { return handle_.reset(d); }

 private:
  Chan<TimePoint> chan_;
  TimerHandle handle_;
};

class Ticker {
 public:
  explicit Ticker(Duration period);
  ~Ticker() { stop(); }
  Ticker(Ticker&&) noexcept = default;
  Ticker& operator=(Ticker&&) noexcept = default;

  const Chan<TimePoint>& chan() const noexcept { return chan_; }
  void stop() const { handle_.cancel(); }

 private:
  Chan<TimePoint> chan_;
  TimerHandle handle_;
};

class SleepAwaiter {
 public:
  explicit SleepAwaiter(Duration d) : d_(d) {}
  bool await_ready() const noexcept { return d_ <= Duration::zero(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    suspend(h, internal::goroutine_of(h));
  }
  void await_resume() const noexcept {}

 private:
  void suspend(std::coroutine_handle<> h, internal::GoroutineRecord* g);
  Duration d_;
};

// co_await csp::sleep(d): parks the goroutine for at least d.
inline SleepAwaiter sleep(Duration d) { return SleepAwaiter(d); }

// Timers pending on the poller thread (a snapshot; for tests and stats).
std::size_t pending_timers();

}  // namespace csp
