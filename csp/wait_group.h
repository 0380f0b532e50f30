#pragma once
// csp::WaitGroup: Go's sync.WaitGroup. add(n) before starting work, done() when each piece
// finishes, and co_await wait() (or wait_blocking() on a plain thread) until the count is zero.
//
// Contract: the count never goes below zero (that is misuse and aborts with a message). Every
// waiter that started waiting before the count reached zero is woken when it does. Reusing a
// WaitGroup after it reached zero is allowed once all waiters have returned.

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "csp/internal/spin_lock.h"
#include "csp/internal/waiter.h"
#include "csp/task.h"

namespace csp {

class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(std::int64_t n);
  void done() { add(-1); }
  std::int64_t count() const noexcept { return count_.load(std::memory_order_acquire); }

  class Awaiter {
   public:
    explicit Awaiter(WaitGroup& wg) noexcept : wg_(wg) {}
    bool await_ready() noexcept;
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      suspend(h, internal::goroutine_of(h));
    }
    void await_resume() const noexcept {}

   private:
    void suspend(std::coroutine_handle<> h, internal::GoroutineRecord* g);
    WaitGroup& wg_;
    internal::Waiter waiter_;
    internal::WakeTarget target_;
  };
  [[nodiscard]] Awaiter wait() noexcept { return Awaiter(*this); }
  void wait_blocking();

 private:
  std::atomic<std::int64_t> count_{0};
  internal::SpinLock lock_;
  internal::WaitQueue waiters_;  // guarded by lock_
};

}  // namespace csp
