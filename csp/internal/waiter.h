#pragma once
// Waiter: one parked channel operation (Go's sudog). A goroutine or thread that cannot complete a
// send or receive links a Waiter into the channel's send or receive queue and parks; the party
// that completes the operation fills it in under the channel lock and wakes it after unlocking.
//
// A select parks one Waiter per case, all pointing at one SelectState. Whoever dequeues such a
// Waiter must first win SelectState::done by compare-and-swap (made under that channel's lock);
// losing means the select already completed through another case, and the Waiter is stale.
//
// Lifetime: a Waiter lives in the parked party's frame or stack. After wake() the completer must
// not touch it again, since the owner may resume and return at once.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace csp {
class Scheduler;
namespace internal {

class ThreadParker;
struct Waiter;

struct SelectState {
  std::atomic<std::uint32_t> done{0};
  Waiter* winner = nullptr;  // written once, by the party that won `done`
};

struct GoroutineRecord;

// Who to wake: a goroutine (scheduler + handle) or a plain thread (parker). wake() first clears
// the goroutine's wait note (goroutine_record.h): from then on it is runnable, not waiting.
struct WakeTarget {
  Scheduler* scheduler = nullptr;
  std::coroutine_handle<> handle;
  ThreadParker* thread = nullptr;
  GoroutineRecord* goroutine = nullptr;
  void wake() const;
};

struct Waiter {
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  bool queued = false;  // linked into a channel queue; guarded by that channel's lock
  SelectState* select = nullptr;
  void* elem = nullptr;  // send: T* to move from; receive: std::optional<T>* to fill
  bool success = false;  // true: value moved; false: the channel was closed
  std::uint32_t case_index = 0;
  const WakeTarget* target = nullptr;
};

// Intrusive FIFO of Waiters. Guarded by the owning channel's lock.
class WaitQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }

  void push_back(Waiter* w) noexcept {
    w->next = nullptr;
    w->prev = tail_;
    if (tail_ != nullptr) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
    w->queued = true;
  }

  void remove(Waiter* w) noexcept {
    if (!w->queued) return;
    if (w->prev != nullptr) {
      w->prev->next = w->next;
    } else {
      head_ = w->next;
    }
    if (w->next != nullptr) {
      w->next->prev = w->prev;
    } else {
      tail_ = w->prev;
    }
    w->prev = w->next = nullptr;
    w->queued = false;
  }

  // Removes and returns the first Waiter that may complete: a plain operation, or a select case
  // whose select this call wins. Stale select Waiters met on the way are dropped. Null if none.
  Waiter* dequeue() noexcept {
    while (Waiter* w = head_) {
      remove(w);
      if (w->select == nullptr) return w;
      std::uint32_t expected = 0;
      if (w->select->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel,
                                                  std::memory_order_relaxed)) {
        w->select->winner = w;
        return w;
      }
    }
    return nullptr;
  }

  // Waiters that may still complete (stale select cases left out); for introspection.
  std::size_t size() const noexcept;

  // True if dequeue() would return a Waiter; does not claim it.
  bool has_ready_waiter() const noexcept {
    for (Waiter* w = head_; w != nullptr; w = w->next) {
      if (w->select == nullptr || w->select->done.load(std::memory_order_acquire) == 0) {
        return true;
      }
    }
    return false;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

}  // namespace internal
}  // namespace csp
