#include "csp/chan.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

// Invariants: see ChanCore in chan.h. Lock order: a channel lock is never held while taking
// another, except by select, which takes them in address order (select.cc).

namespace csp::internal {

void WakeTarget::wake() const {
  if (thread != nullptr) {
    thread->unpark();
  } else {
    clear_wait(goroutine);  // before ready(): once runnable it may run, end and free its record
    scheduler->ready(handle);
  }
}

WakeTarget goroutine_target(std::coroutine_handle<> h, GoroutineRecord* g, const char* what,
                            const void* object) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    std::fprintf(stderr, "csp: a channel operation was awaited outside a goroutine\n");
    std::abort();
  }
  note_wait(g, what, object);
  return WakeTarget{s, h, nullptr, g};
}

void block_forever_thread() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
}

std::size_t ChanCore::size() noexcept {
  lock();
  const std::size_t n = count_;
  unlock();
  return n;
}

bool ChanCore::closed() noexcept {
  lock();
  const bool c = closed_;
  unlock();
  return c;
}

bool ChanCore::close() noexcept {
  lock();
  if (closed_) {
    unlock();
    return false;
  }
  closed_ = true;
  // Collect every waiter that can still complete; each learns "closed" (success = false).
  // They are chained through `next` (free once dequeued) and woken after unlocking.
  Waiter* first = nullptr;
  Waiter* last = nullptr;
  auto collect = [&](WaitQueue& q) {
    while (Waiter* w = q.dequeue()) {
      w->success = false;
      w->next = nullptr;
      if (last != nullptr) {
        last->next = w;
      } else {
        first = w;
      }
      last = w;
    }
  };
  collect(recvq_);
  collect(sendq_);
  unlock();
  while (first != nullptr) {
    Waiter* next = first->next;  // read before waking: the owner may reuse the Waiter at once
    first->target->wake();
    first = next;
  }
  return true;
}

}  // namespace csp::internal
