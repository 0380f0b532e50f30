#include "csp/wait_group.h"

#include <cstdio>
#include <cstdlib>

#include "csp/chan.h"

// Invariants:
//  - count_ reaches zero only under lock_, and the add() that gets it there takes every queued
//    waiter before releasing lock_; after that release it touches nothing of the WaitGroup.
//  - A waiter decides "count is zero, return" only while holding lock_. So when it returns (and
//    perhaps destroys the WaitGroup, as Go code often does right after Wait), no add() can still
//    be inside the WaitGroup: the last one has released the lock and kept only its local list.
//  - A waiter is queued only after seeing count_ != 0 under lock_, so the add() that brings it to
//    zero later finds it.

namespace csp {

void WaitGroup::add(std::int64_t n) {
  if (n >= 0) {
    count_.fetch_add(n, std::memory_order_acq_rel);
    return;
  }
  // Fast path: a decrement that cannot reach zero needs no lock.
  std::int64_t c = count_.load(std::memory_order_acquire);
  while (c + n > 0) {
    if (count_.compare_exchange_weak(c, c + n, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return;
    }
  }
  lock_.lock();
  const std::int64_t now = count_.fetch_add(n, std::memory_order_acq_rel) + n;
  if (now < 0) {
    std::fprintf(stderr, "csp: WaitGroup count went negative\n");
    std::abort();
  }
  internal::Waiter* first = nullptr;
  internal::Waiter* last = nullptr;
  if (now == 0) {
    while (internal::Waiter* w = waiters_.dequeue()) {
      w->next = nullptr;
      (last != nullptr ? last->next : first) = w;
      last = w;
    }
  }
  lock_.unlock();
  while (first != nullptr) {
    internal::Waiter* next = first->next;
    first->target->wake();
    first = next;
  }
}

bool WaitGroup::Awaiter::await_ready() noexcept {
  wg_.lock_.lock();
  if (wg_.count_.load(std::memory_order_acquire) == 0) {
    wg_.lock_.unlock();
    return true;
  }
  return false;  // keep the lock for await_suspend
}

void WaitGroup::Awaiter::suspend(std::coroutine_handle<> h, internal::GoroutineRecord* g) {
  target_ = internal::goroutine_target(h, g, "WaitGroup.wait", &wg_);
  waiter_.target = &target_;
  wg_.waiters_.push_back(&waiter_);
  wg_.lock_.unlock();
}

void WaitGroup::wait_blocking() {
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
