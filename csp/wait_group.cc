#include "csp/wait_group.h"

#include <cstdio>
#include <cstdlib>

#include "csp/chan.h"

// Invariant: a waiter is queued only after it saw count_ != 0 while holding lock_, and the
// add() that brings count_ to zero takes lock_ afterwards, so it finds every such waiter.

namespace csp {

void WaitGroup::add(std::int64_t n) {
  const std::int64_t now = count_.fetch_add(n, std::memory_order_acq_rel) + n;
  if (now < 0) {
    std::fprintf(stderr, "csp: WaitGroup count went negative\n");
    std::abort();
  }
  if (now != 0 || n >= 0) return;
  lock_.lock();
  internal::Waiter* first = nullptr;
  internal::Waiter* last = nullptr;
  while (internal::Waiter* w = waiters_.dequeue()) {
    w->next = nullptr;
    (last != nullptr ? last->next : first) = w;
    last = w;
  }
  lock_.unlock();
  while (first != nullptr) {
    internal::Waiter* next = first->next;
    first->target->wake();
    first = next;
  }
}

bool WaitGroup::Awaiter::await_ready() noexcept {
  if (wg_.count_.load(std::memory_order_acquire) == 0) return true;
  wg_.lock_.lock();
  if (wg_.count_.load(std::memory_order_acquire) == 0) {
    wg_.lock_.unlock();
    return true;
  }
  return false;  // keep the lock for await_suspend
}

void WaitGroup::Awaiter::await_suspend(std::coroutine_handle<> h) {
  target_ = internal::goroutine_target(h);
  waiter_.target = &target_;
  wg_.waiters_.push_back(&waiter_);
  wg_.lock_.unlock();
}

void WaitGroup::wait_blocking() {
  if (count_.load(std::memory_order_acquire) == 0) return;
  lock_.lock();
  if (count_.load(std::memory_order_acquire) == 0) {
    lock_.unlock();
    return;
  }
  internal::ThreadParker parker;
  internal::WakeTarget target{nullptr, {}, &parker};
  internal::Waiter w;
  w.target = &target;
  waiters_.push_back(&w);
  lock_.unlock();
  parker.park();
}

}  // namespace csp
