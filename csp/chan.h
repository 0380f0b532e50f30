#pragma once
// csp::Chan<T>: Go's channel. A shared handle (copies refer to one channel); a default-constructed
// handle is the nil channel, on which every operation blocks forever and which select never
// chooses.
//
// Contract:
//  - Capacity 0 is a rendezvous: a send completes only when a receiver takes the value. Capacity
//    n > 0 buffers up to n values in FIFO order.
//  - Many senders and receivers (MPMC). Values from one sender are received in the order sent.
//    Blocked senders and receivers are served first come, first served.
//  - Every value sent successfully is received exactly once, or is still in the buffer when the
//    last handle goes away (then it is destroyed with the channel).
//  - send() on a closed channel fails (returns false) instead of panicking; the value is dropped.
//    recv() drains buffered values after close, then reports closed (std::nullopt).
//  - close() wakes every blocked sender (they fail) and receiver (they see closed). Closing a
//    closed or nil channel is misuse and returns false.
//  - co_await send()/recv() may only be used in goroutines; *_blocking() are for plain threads
//    (gRPC callbacks, main); try_*() never block and work anywhere.
//  - The handle an operation was started on must stay alive until the operation completes
//    (it always does in `co_await ch.recv()`).
//  - Fast paths never suspend: a send into a buffer with room, or a receive from a non-empty
//    buffer, completes inline. A value handed to a parked receiver is written straight into the
//    receiver's slot, and the receiver is scheduled after the channel lock is released.
//
// T must be nothrow-move-constructible (values move under a spin lock).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "csp/internal/spin_lock.h"
#include "csp/internal/waiter.h"
#include "csp/introspection.h"
#include "csp/scheduler.h"

namespace csp {

// The element type of signal-only channels (Go's chan struct{}).
struct Unit {
  friend bool operator==(Unit, Unit) { return true; }
};

namespace internal {

enum class OpResult : std::uint8_t { kNotReady, kOk, kClosed };

// The untyped part of a channel: lock, wait queues, close. Select works on this interface.
//
// Invariants (under lock_):
//  - At most one of recvq_ and sendq_ holds Waiters that can complete (stale select Waiters
//    aside): receivers wait only when the buffer is empty and no sender waits, and vice versa.
//  - A sender waits only when the buffer is full (always, for capacity 0).
//  - Once closed_, no Waiter is added.
class ChanCore {
 public:
  explicit ChanCore(std::size_t capacity) : capacity_(capacity) {
    readiness_.store(capacity > 0 ? kSendReady : 0, std::memory_order_relaxed);
  }
  virtual ~ChanCore() = default;
  ChanCore(const ChanCore&) = delete;
  ChanCore& operator=(const ChanCore&) = delete;

  void lock() noexcept { lock_.lock(); }
  // Publishes the readiness word (see below), then releases the lock.
  void unlock() noexcept {
    publish_readiness_locked();
    lock_.unlock();
  }
  WaitQueue& recvq() noexcept { return recvq_; }
  WaitQueue& sendq() noexcept { return sendq_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() noexcept;
  bool closed() noexcept;
  // Requires lock_ (introspection).
  std::size_t size_locked() const noexcept { return count_; }
  bool closed_locked() const noexcept { return closed_; }

  // Requires lock_. Completes a send of *value (a T*) or a receive into *slot
  // (a std::optional<T>*) if possible now. *to_wake gets a Waiter to wake after unlocking.
  virtual OpResult send_locked_erased(void* value, Waiter** to_wake) noexcept = 0;
  virtual OpResult recv_locked_erased(void* slot, Waiter** to_wake) noexcept = 0;

  bool close() noexcept;

  // Readiness word, for select-with-default's lock-free fast path: bit 0 "a receive may
  // complete", bit 1 "a send may complete", the rest a counter bumped at every unlock. The bits
  // over-approximate (a stale select Waiter counts as a partner) but never under-approximate, so
  // "not ready" read twice with the same counter, for every channel of a select, proves that at
  // one instant none of them was ready (a double-collect snapshot), and default may be taken
  // without locking anything.
  static constexpr std::uint64_t kRecvReady = 1;
  static constexpr std::uint64_t kSendReady = 2;
  static constexpr std::uint64_t kReadinessStep = 4;
  std::uint64_t readiness() const noexcept { return readiness_.load(std::memory_order_acquire); }

 protected:
  void publish_readiness_locked() noexcept {
    const std::uint64_t bits = (count_ > 0 || closed_ || !sendq_.empty() ? kRecvReady : 0) |
                               (count_ < capacity_ || closed_ || !recvq_.empty() ? kSendReady : 0);
    // Only a change of the bits needs a new counter value: an unchanged word still describes
    // the channel truthfully.
    const std::uint64_t word = readiness_.load(std::memory_order_relaxed);
    if ((word & 3) == bits) return;
    readiness_.store(((word & ~std::uint64_t{3}) + kReadinessStep) | bits,
                     std::memory_order_release);
  }

  SpinLock lock_;
  // Written under lock_ (publish_readiness_locked), read anywhere.
  std::atomic<std::uint64_t> readiness_{kSendReady};
  bool closed_ = false;  // guarded by lock_
  const std::size_t capacity_;
  std::size_t count_ = 0;  // values in the buffer; guarded by lock_
  WaitQueue recvq_;        // guarded by lock_
  WaitQueue sendq_;        // guarded by lock_
};

template <class T>
class ChanState final : public ChanCore {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "csp::Chan<T> needs a nothrow-move-constructible T");

 public:
  explicit ChanState(std::size_t capacity) : ChanCore(capacity) {
    if (capacity_ > 0) buffer_ = std::allocator<T>().allocate(capacity_);
  }
  ~ChanState() override {
    while (count_ > 0) (void)pop_buffer();
    if (buffer_ != nullptr) std::allocator<T>().deallocate(buffer_, capacity_);
  }

  // Requires lock_. See ChanCore.
  OpResult send_locked(T& value, Waiter** to_wake) noexcept {
    if (closed_) return OpResult::kClosed;
    if (Waiter* w = recvq_.dequeue()) {
      static_cast<std::optional<T>*>(w->elem)->emplace(std::move(value));
      w->success = true;
      *to_wake = w;
      return OpResult::kOk;
    }
    if (count_ < capacity_) {
      push_buffer(std::move(value));
      return OpResult::kOk;
    }
    return OpResult::kNotReady;
  }

  OpResult recv_locked(std::optional<T>& slot, Waiter** to_wake) noexcept {
    if (Waiter* w = sendq_.dequeue()) {
      T& sent = *static_cast<T*>(w->elem);
      if (capacity_ == 0) {
        slot.emplace(std::move(sent));
      } else {
        // The buffer is full: take its oldest value and let the sender append to it.
        slot.emplace(pop_buffer());
        push_buffer(std::move(sent));
      }
      w->success = true;
      *to_wake = w;
      return OpResult::kOk;
    }
    if (count_ > 0) {
      slot.emplace(pop_buffer());
      return OpResult::kOk;
    }
    return closed_ ? OpResult::kClosed : OpResult::kNotReady;
  }

  OpResult send_locked_erased(void* value, Waiter** to_wake) noexcept override {
    return send_locked(*static_cast<T*>(value), to_wake);
  }
  OpResult recv_locked_erased(void* slot, Waiter** to_wake) noexcept override {
    return recv_locked(*static_cast<std::optional<T>*>(slot), to_wake);
  }

 private:
  void push_buffer(T&& value) noexcept {
    std::size_t tail = head_ + count_;
    if (tail >= capacity_) tail -= capacity_;
    std::construct_at(buffer_ + tail, std::move(value));
    ++count_;
  }
  T pop_buffer() noexcept {
    T value = std::move(buffer_[head_]);
    std::destroy_at(buffer_ + head_);
    if (++head_ == capacity_) head_ = 0;
    --count_;
    return value;
  }

  T* buffer_ = nullptr;   // capacity_ slots; [head_, head_ + count_) are live (mod capacity_)
  std::size_t head_ = 0;  // guarded by lock_
};

// Fills a WakeTarget for the goroutine being suspended (aborts outside a worker), and notes on
// its record (if any) that it waits on `what` (a static string) and `object`.
WakeTarget goroutine_target(std::coroutine_handle<> h, GoroutineRecord* g = nullptr,
                            const char* what = nullptr, const void* object = nullptr);

// Blocks the calling goroutine or thread forever (operations on a nil channel).
[[noreturn]] void block_forever_thread();

template <class T>
class SendAwaiter {
 public:
  SendAwaiter(ChanState<T>* ch, T&& value) noexcept : ch_(ch), value_(std::move(value)) {}

  bool await_ready() noexcept {
    if (ch_ == nullptr) return false;  // nil channel: park forever
    ch_->lock();
    Waiter* wake = nullptr;
    const OpResult r = ch_->send_locked(value_, &wake);
    if (r == OpResult::kNotReady) return false;  // keep the lock for await_suspend
    ch_->unlock();
    if (wake != nullptr) wake->target->wake();
    waiter_.success = (r == OpResult::kOk);
    return true;
  }

  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    if (ch_ == nullptr) {
      note_wait(goroutine_of(h), "chan send (nil chan)", nullptr);
      return;
    }
    target_ = goroutine_target(h, goroutine_of(h), "chan send", static_cast<ChanCore*>(ch_));
    waiter_.elem = &value_;
    waiter_.target = &target_;
    ch_->sendq().push_back(&waiter_);
    ch_->unlock();  // from here on the receiver may resume us on another worker
  }

  // True if the value was delivered (or buffered); false if the channel was closed.
  bool await_resume() const noexcept { return waiter_.success; }

 private:
  ChanState<T>* ch_;
  T value_;
  Waiter waiter_;
  WakeTarget target_;
};

template <class T>
class RecvAwaiter {
 public:
  explicit RecvAwaiter(ChanState<T>* ch) noexcept : ch_(ch) {}

  bool await_ready() noexcept {
    if (ch_ == nullptr) return false;
    ch_->lock();
    Waiter* wake = nullptr;
    const OpResult r = ch_->recv_locked(slot_, &wake);
    if (r == OpResult::kNotReady) return false;  // keep the lock for await_suspend
    ch_->unlock();
    if (wake != nullptr) wake->target->wake();
    return true;
  }

  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    if (ch_ == nullptr) {
      note_wait(goroutine_of(h), "chan receive (nil chan)", nullptr);
      return;
    }
    target_ = goroutine_target(h, goroutine_of(h), "chan receive", static_cast<ChanCore*>(ch_));
    waiter_.elem = &slot_;
    waiter_.target = &target_;
    ch_->recvq().push_back(&waiter_);
    ch_->unlock();
  }

  // The value, or std::nullopt once the channel is closed and drained.
  std::optional<T> await_resume() noexcept { return std::move(slot_); }

 private:
  ChanState<T>* ch_;
  std::optional<T> slot_;
  Waiter waiter_;
  WakeTarget target_;
};

}  // namespace internal

template <class T>
class Chan {
 public:
  using value_type = T;

  // The nil channel.
  Chan() noexcept = default;
  // A channel with room for `capacity` values (0: unbuffered).
  explicit Chan(std::size_t capacity)
      : state_(std::make_shared<internal::ChanState<T>>(capacity)) {}

  [[nodiscard]] internal::SendAwaiter<T> send(T value) const noexcept {
    return internal::SendAwaiter<T>(state_.get(), std::move(value));
  }
  [[nodiscard]] internal::RecvAwaiter<T> recv() const noexcept {
    return internal::RecvAwaiter<T>(state_.get());
  }

  // Sends only if that completes now. On failure (full, closed or nil) value is left untouched.
  bool try_send(T&& value) const noexcept { return try_send_ref(value); }
  bool try_send(const T& value) const {
    T copy(value);
    return try_send_ref(copy);
  }

  // Receives only if that completes now. std::nullopt if nothing is ready; *closed (if given)
  // tells whether that is because the channel is closed and drained.
  std::optional<T> try_recv(bool* closed = nullptr) const noexcept {
    std::optional<T> slot;
    if (closed != nullptr) *closed = false;
    if (!state_) return slot;
    internal::Waiter* wake = nullptr;
    state_->lock();
    const internal::OpResult r = state_->recv_locked(slot, &wake);
    state_->unlock();
    if (wake != nullptr) wake->target->wake();
    if (r == internal::OpResult::kClosed && closed != nullptr) *closed = true;
    return slot;
  }

  // Blocking variants for threads that are not goroutines.
  bool send_blocking(T value) const {
    if (!state_) internal::block_forever_thread();
    internal::Waiter* wake = nullptr;
    state_->lock();
    const internal::OpResult r = state_->send_locked(value, &wake);
    if (r == internal::OpResult::kNotReady) {
      internal::ThreadParker parker;
      internal::WakeTarget target{nullptr, {}, &parker};
      internal::Waiter w;
      w.elem = &value;
      w.target = &target;
      state_->sendq().push_back(&w);
      state_->unlock();
      parker.park();
      return w.success;
    }
    state_->unlock();
    if (wake != nullptr) wake->target->wake();
    return r == internal::OpResult::kOk;
  }

  std::optional<T> recv_blocking() const {
    if (!state_) internal::block_forever_thread();
    std::optional<T> slot;
    internal::Waiter* wake = nullptr;
    state_->lock();
    const internal::OpResult r = state_->recv_locked(slot, &wake);
    if (r == internal::OpResult::kNotReady) {
      internal::ThreadParker parker;
      internal::WakeTarget target{nullptr, {}, &parker};
      internal::Waiter w;
      w.elem = &slot;
      w.target = &target;
      state_->recvq().push_back(&w);
      state_->unlock();
      parker.park();
      return slot;
    }
    state_->unlock();
    if (wake != nullptr) wake->target->wake();
    return slot;
  }

  // Closes the channel. False if it was already closed, or is nil.
  bool close() const noexcept { return state_ && state_->close(); }

  std::size_t size() const noexcept { return state_ ? state_->size() : 0; }
  std::size_t capacity() const noexcept { return state_ ? state_->capacity() : 0; }
  bool is_nil() const noexcept { return !state_; }
  // Lists the channel in csp::channel_table() (and names it in goroutine dumps) under `name`
  // while it lives. Not for the data path: it takes a mutex.
  void set_name(std::string name) const { internal::name_channel(state_, std::move(name)); }
  bool is_closed() const noexcept { return state_ && state_->closed(); }

  internal::ChanState<T>* state() const noexcept { return state_.get(); }
  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.state_ == b.state_; }

 private:
  bool try_send_ref(T& value) const noexcept {
    if (!state_) return false;
    internal::Waiter* wake = nullptr;
    state_->lock();
    const internal::OpResult r = state_->send_locked(value, &wake);
    state_->unlock();
    if (wake != nullptr) wake->target->wake();
    return r == internal::OpResult::kOk;
  }

  std::shared_ptr<internal::ChanState<T>> state_;
};

}  // namespace csp
