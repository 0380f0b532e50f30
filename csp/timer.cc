#include "csp/timer.h"

#include <condition_variable>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "csp/internal/no_destructor.h"

// Invariants (under TimerQueue::mu_):
//  - Each heap node names an entry and the generation it was armed for; a node whose entry has
//    moved on (cancelled or reset) is stale and is dropped when it reaches the top.
//  - entry.pending is true exactly while a live node for the entry is in the heap.
//  - running_ names the entry whose callback the timer thread is running, else null.
//    Callbacks run without the lock held, so they may arm, cancel and reset timers.
//
// Algorithm: the timer thread sleeps until the earliest node is due, pops it, and, if it is still
// live, marks the entry running_, unlocks, runs the callback, relocks and clears running_. cancel()
// and reset() make the entry's nodes stale and then, unless they are called on the timer thread,
// wait on idle_cv_ until running_ no longer names the entry. One thread runs every callback, so on
// the timer thread the entry is either not running or is the caller's own callback; waiting there
// could only deadlock.

namespace csp {
namespace internal {

struct TimerEntry {
  std::function<void(TimePoint)> fire;
  Duration period{};             // zero: one-shot
  std::uint64_t generation = 0;  // guarded by TimerQueue::mu_
  bool pending = false;          // guarded by TimerQueue::mu_
};

namespace {

// True on the timer thread only; set once when it starts.
thread_local bool tls_on_timer_thread = false;

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
    std::unique_lock lock(mu_);
    const bool was = disarm_locked(e);
    wait_until_not_running(lock, e);
    return was;
  }

  bool reset(const std::shared_ptr<TimerEntry>& e, Duration d) {
    std::unique_lock lock(mu_);
    const bool was = disarm_locked(*e);
    wait_until_not_running(lock, *e);
    // A reset on another thread may have armed it while we waited: the later call wins.
    disarm_locked(*e);
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

  // Requires mu_. Makes every node of e stale; true if it was pending.
  bool disarm_locked(TimerEntry& e) {
    const bool was = e.pending;
    if (was) --live_;
    e.pending = false;
    ++e.generation;
    return was;
  }

  // Requires mu_, and that e is not pending.
  void arm_locked(const std::shared_ptr<TimerEntry>& e, TimePoint when) {
    e->pending = true;
    ++live_;
    const bool earliest = heap_.empty() || when < heap_.top().when;
    heap_.push(Node{when, next_seq_++, e->generation, e});
    if (earliest) cv_.notify_one();
  }

  // Requires mu_ (held by `lock`); may release it while waiting. Returns once e's callback is not
  // running. On the timer thread it returns at once: there e is either idle or the caller's own
  // callback, which cannot finish while we wait for it.
  void wait_until_not_running(std::unique_lock<std::mutex>& lock, const TimerEntry& e) {
    if (tls_on_timer_thread) return;
    idle_cv_.wait(lock, [&] { return running_ != &e; });
  }

  void run() {
    tls_on_timer_thread = true;
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
      running_ = &e;
      lock.unlock();
      e.fire(now);
      // Released without mu_ (if this was the last reference, the callback's captures are destroyed
      // here, and their destructors may cancel timers). If the entry dies here and a new one reuses
      // its address before we relock, a cancel() of the new one waits for this relock for nothing:
      // harmless.
      node.entry.reset();
      lock.lock();
      running_ = nullptr;
      idle_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;       // the timer thread waits here for an earlier node
  std::condition_variable idle_cv_;  // cancel/reset wait here for running_ to change
  std::priority_queue<Node, std::vector<Node>, std::greater<Node>> heap_;  // guarded by mu_
  std::uint64_t next_seq_ = 0;                                             // guarded by mu_
  std::size_t live_ = 0;                                                   // guarded by mu_
  const TimerEntry* running_ = nullptr;                                    // guarded by mu_
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
