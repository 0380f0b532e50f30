#include "csp/timer.h"

#include <condition_variable>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "csp/internal/no_destructor.h"

// Invariants (under TimerQueue::mu):
//  - Each heap node names an entry and the generation it was armed for; a node whose entry has
//    moved on (cancelled or reset) is stale and is dropped when it reaches the top.
//  - entry.pending is true exactly while a live node for the entry is in the heap.
//  - Callbacks run on the timer thread without the lock held, so they may arm timers.

namespace csp {
namespace internal {

struct TimerEntry {
  std::function<void(TimePoint)> fire;
  Duration period{};             // zero: one-shot
  std::uint64_t generation = 0;  // guarded by TimerQueue::mu
  bool pending = false;          // guarded by TimerQueue::mu
};

namespace {

class TimerQueue {
 public:
  // Never destroyed, and its thread is neither joined nor detached. Joining would mean stopping
  // the timer thread at exit, yet other threads and static destructors may still arm and
  // cancel timers while the process exits; their deadlines would silently stop firing, and
  // a cancel() waiting for a callback could hang. Destroying a joinable std::thread calls
  // std::terminate, so the thread object must simply never be destroyed: NoDestructor keeps it
  // and the queue it serves alive until the process ends, owned rather than detached, so a
  // shutdown step could still join it if one is ever added.
  static TimerQueue& instance() {
    static NoDestructor<TimerQueue> queue;
    return *queue;
  }

  TimerQueue() : thread_([this] { run(); }) {}
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void arm(const std::shared_ptr<TimerEntry>& e, TimePoint when) {
    std::lock_guard lock(mu_);
    arm_locked(e, when);
  }

  bool cancel(TimerEntry& e) {
    std::lock_guard lock(mu_);
    const bool was = e.pending;
    e.pending = false;
    ++e.generation;
    if (was) --live_;
    return was;
  }

  bool reset(const std::shared_ptr<TimerEntry>& e, Duration d) {
    std::lock_guard lock(mu_);
    const bool was = e->pending;
    if (was) --live_;
    ++e->generation;
    arm_locked(e, Clock::now() + d);
    return was;
  }

  std::size_t pending() {
    std::lock_guard lock(mu_);
    return live_;
  }

 private:
  struct Node {
    TimePoint when;
    std::uint64_t seq;  // FIFO among equal times
    std::uint64_t generation;
    std::shared_ptr<TimerEntry> entry;
    bool operator>(const Node& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  void arm_locked(const std::shared_ptr<TimerEntry>& e, TimePoint when) {
    e->pending = true;
    ++live_;
    const bool earliest = heap_.empty() || when < heap_.top().when;
    heap_.push(Node{when, next_seq_++, e->generation, e});
    if (earliest) cv_.notify_one();
  }

  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      if (heap_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const TimePoint now = Clock::now();
      if (heap_.top().when > now) {
        // A copy: wait_until keeps a reference, and arm() may reallocate the heap meanwhile.
        const TimePoint next = heap_.top().when;
        cv_.wait_until(lock, next);
        continue;
      }
      Node node = heap_.top();
      heap_.pop();
      TimerEntry& e = *node.entry;
      if (!e.pending || e.generation != node.generation) continue;  // stale
      if (e.period > Duration::zero()) {
        // Next tick on the original grid, skipping the ones already missed.
        TimePoint next = node.when + e.period;
        if (next <= now) next += ((now - next) / e.period + 1) * e.period;
        heap_.push(Node{next, next_seq_++, e.generation, node.entry});
      } else {
        e.pending = false;
        --live_;
      }
      lock.unlock();
      e.fire(now);
      node.entry.reset();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Node, std::vector<Node>, std::greater<Node>> heap_;  // guarded by mu_
  std::uint64_t next_seq_ = 0;                                             // guarded by mu_
  std::size_t live_ = 0;                                                   // guarded by mu_
  std::thread thread_;  // last: it starts running run() during construction
};

}  // namespace
}  // namespace internal

bool TimerHandle::cancel() const {
  return entry_ != nullptr && internal::TimerQueue::instance().cancel(*entry_);
}

bool TimerHandle::reset(Duration d) const {
  return entry_ != nullptr && internal::TimerQueue::instance().reset(entry_, d);
}

TimerHandle after_func(Duration d, std::function<void(TimePoint)> f, Duration period) {
  auto e = std::make_shared<internal::TimerEntry>();
  e->fire = std::move(f);
  e->period = period;
  internal::TimerQueue::instance().arm(e, Clock::now() + d);
  return TimerHandle(std::move(e));
}

Chan<TimePoint> after(Duration d) {
  Chan<TimePoint> ch(1);
  after_func(d, [ch](TimePoint now) { ch.try_send(now); });
  return ch;
}

Timer::Timer(Duration d) : chan_(1) {
  handle_ = after_func(d, [ch = chan_](TimePoint now) { ch.try_send(now); });
}

Ticker::Ticker(Duration period) : chan_(1) {
  handle_ = after_func(
      period, [ch = chan_](TimePoint now) { ch.try_send(now); }, period);
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  internal::WakeTarget target = internal::goroutine_target(h);
  after_func(d_, [target](TimePoint) { target.wake(); });
}

std::size_t pending_timers() { return internal::TimerQueue::instance().pending(); }

}  // namespace csp
