#include "csp/timer.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "csp/internal/no_destructor.h"
#include "csp/io.h"

// Invariants (under TimerQueue::mu_):
//  - heap_ is a 4-ary min-heap of (when, seq) over the pending entries; an entry's heap_index is
//    its position in heap_, or kNotInHeap. An entry is pending exactly while it is in the heap:
//    cancel() and reset() take it out at once, so a stopped timer keeps no memory alive (its
//    channel, its captures) until its old fire time.
//  - running_ names the entry whose callback the poller is running, else null. Callbacks run
//    without the lock held, so they may arm, cancel and reset timers.
//  - armed_for_ is the time the poller's wake-up (an Asio steady_timer) is set for, or
//    TimePoint::max() when none is set; it is never later than the earliest entry.
//
// Algorithm: timers have no thread of their own; the network poller (csp::io_context()) runs
// them, as Go's netpoller wakes for the earliest timer. Its wake-up is set for the earliest
// entry. An arm() earlier than armed_for_ lowers armed_for_ and posts a re-arm to the poller
// (arms later than that, the common case of a deadline after others, post nothing). When the
// wake-up fires, the poller takes each due entry out of the heap (a periodic one goes back in
// at its next tick first), marks it running_, unlocks, runs the callback, relocks and clears
// running_, then sets the wake-up for what is left. cancel() and reset() take the entry out of
// the heap and then, unless they are called on the poller thread, wait on idle_cv_ until
// running_ no longer names the entry. One thread runs every callback, so on the poller the
// entry is either not running or is the caller's own callback; waiting there could only
// deadlock. An entry cancelled early leaves the wake-up set for its old time: the poller wakes
// then, finds nothing due, and sets the next one.
//
// Cost: an entry and its callback are one allocation (the callback is stored in the entry, not
// in a std::function), so Timer, after() and sleep() allocate once for the timer (plus the
// channel). The heap stores each entry's time beside its pointer, so sifting compares without
// touching the entries.

namespace csp {
namespace internal {

inline constexpr std::size_t kNotInHeap = std::numeric_limits<std::size_t>::max();

struct TimerEntry {
  explicit TimerEntry(Duration p) : period(p) {}
  virtual ~TimerEntry() = default;
  TimerEntry(const TimerEntry&) = delete;
  TimerEntry& operator=(const TimerEntry&) = delete;
  virtual void fire(TimePoint now) = 0;

  const Duration period;                // zero: one-shot
  std::size_t heap_index = kNotInHeap;  // guarded by TimerQueue::mu_
};

namespace {

template <class F>
struct FuncTimerEntry final : TimerEntry {
  FuncTimerEntry(F fn, Duration p) : TimerEntry(p), f(std::move(fn)) {}
  void fire(TimePoint now) override { f(now); }
  F f;
};

// The callback of Timer, Ticker and after(): offer the time, drop it if the buffer is full.
struct SendTime {
  Chan<TimePoint> ch;
  void operator()(TimePoint now) const { ch.try_send(now); }
};

// True on the thread that runs timer callbacks (the poller) only; set by the first wake-up.
thread_local bool tls_on_timer_thread = false;

class TimerQueue {
 public:
  // Never destroyed: other threads and static destructors may still arm and cancel timers
  // while the process exits, and the poller that runs the callbacks lives until the end too
  // (csp/io.cc).
  static TimerQueue& instance() {
    static NoDestructor<TimerQueue> queue;
    return *queue;
  }

  TimerQueue() : wakeup_(io_context()) {}
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void arm(std::shared_ptr<TimerEntry> e, TimePoint when) {
    std::lock_guard lock(mu_);
    push_locked(std::move(e), when);
  }

  bool cancel(TimerEntry& e) {
    std::unique_lock lock(mu_);
    const bool was = remove_locked(e);
    wait_until_not_running(lock, e);
    return was;
  }

  bool reset(const std::shared_ptr<TimerEntry>& e, Duration d) {
    std::unique_lock lock(mu_);
    const bool was = remove_locked(*e);
    wait_until_not_running(lock, *e);
    // A reset on another thread may have armed it while we waited: the later call wins.
    remove_locked(*e);
    push_locked(e, Clock::now() + d);
    return was;
  }

  std::size_t pending() {
    std::lock_guard lock(mu_);
    return heap_.size();
  }

 private:
  struct Node {
    TimePoint when;
    std::uint64_t seq;  // FIFO among equal times
    std::shared_ptr<TimerEntry> entry;
    bool before(const Node& o) const { return when != o.when ? when < o.when : seq < o.seq; }
  };
  static constexpr std::size_t kArity = 4;

  // Requires mu_: puts node at i and records where it is.
  void place_locked(std::size_t i, Node node) {
    node.entry->heap_index = i;
    heap_[i] = std::move(node);
  }

  // Requires mu_: the node at i moves up to its place (i is a hole to fill with node).
  void sift_up_locked(std::size_t i, Node node) {
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!node.before(heap_[parent])) break;
      place_locked(i, std::move(heap_[parent]));
      i = parent;
    }
    place_locked(i, std::move(node));
  }

  // Requires mu_: node moves down from the hole at i to its place.
  void sift_down_locked(std::size_t i, Node node) {
    const std::size_t n = heap_.size();
    for (;;) {
      const std::size_t first = i * kArity + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t last = std::min(first + kArity, n);
      for (std::size_t c = first + 1; c < last; ++c) {
        if (heap_[c].before(heap_[best])) best = c;
      }
      if (!heap_[best].before(node)) break;
      place_locked(i, std::move(heap_[best]));
      i = best;
    }
    place_locked(i, std::move(node));
  }

  // Requires mu_, and that e is not in the heap.
  void push_locked(std::shared_ptr<TimerEntry> e, TimePoint when) {
    heap_.emplace_back();
    sift_up_locked(heap_.size() - 1, Node{when, next_seq_++, std::move(e)});
    if (when < armed_for_) {
      armed_for_ = when;
      boost::asio::post(io_context(), [this] { set_wakeup(); });
    }
  }

  // Requires mu_ and a non-empty heap: takes the node at i out.
  Node take_locked(std::size_t i) {
    Node out = std::move(heap_[i]);
    out.entry->heap_index = kNotInHeap;
    Node last = std::move(heap_.back());
    heap_.pop_back();
    if (i < heap_.size()) {
      // The last node fills the hole: up if it is earlier than the hole's parent, else down.
      if (i > 0 && last.before(heap_[(i - 1) / kArity])) {
        sift_up_locked(i, std::move(last));
      } else {
        sift_down_locked(i, std::move(last));
      }
    }
    return out;
  }

  // Requires mu_. Takes e out of the heap; true if it was pending. The heap's reference is
  // dropped here, under the lock: the caller holds another, so it is never the last.
  bool remove_locked(TimerEntry& e) {
    if (e.heap_index == kNotInHeap) return false;
    (void)take_locked(e.heap_index);
    return true;
  }

  // Requires mu_ (held by `lock`); may release it while waiting. Returns once e's callback is not
  // running. On the timer thread it returns at once: there e is either idle or the caller's own
  // callback, which cannot finish while we wait for it.
  void wait_until_not_running(std::unique_lock<std::mutex>& lock, const TimerEntry& e) {
    if (tls_on_timer_thread) return;
    idle_cv_.wait(lock, [&] { return running_ != &e; });
  }

  // Poller only: sets the wake-up for the earliest entry (none if there is none).
  void set_wakeup() {
    TimePoint next;
    {
      std::lock_guard lock(mu_);
      next = heap_.empty() ? TimePoint::max() : heap_.front().when;
      armed_for_ = next;
    }
    if (next == TimePoint::max()) {
      wakeup_.cancel();
      return;
    }
    wakeup_.expires_at(next);  // cancels the wait for an older time, if any
    wakeup_.async_wait([this](boost::system::error_code ec) {
      if (!ec) fire_due();
    });
  }

  // Poller only: runs every entry that is due, then sets the next wake-up.
  void fire_due() {
    tls_on_timer_thread = true;
    std::unique_lock lock(mu_);
    for (;;) {
      const TimePoint now = Clock::now();
      if (heap_.empty() || heap_.front().when > now) break;
      Node node = take_locked(0);
      TimerEntry& e = *node.entry;
      if (e.period > Duration::zero()) {
        // Next tick on the original grid, skipping the ones already missed.
        TimePoint next = node.when + e.period;
        if (next <= now) next += ((now - next) / e.period + 1) * e.period;
        push_locked(node.entry, next);
      }
      running_ = &e;
      lock.unlock();
      e.fire(now);
      // Released without mu_ (if this was the last reference, the callback's captures are
      // destroyed here, and their destructors may cancel timers). If the entry dies here and a
      // new one reuses its address before we relock, a cancel() of the new one waits for this
      // relock for nothing: harmless.
      node.entry.reset();
      lock.lock();
      running_ = nullptr;
      idle_cv_.notify_all();
    }
    // Callbacks may have armed earlier entries and posted re-arms; this one covers them all.
    armed_for_ = TimePoint::max();
    lock.unlock();
    set_wakeup();
  }

  std::mutex mu_;
  std::condition_variable idle_cv_;         // cancel/reset wait here for running_ to change
  std::vector<Node> heap_;                  // guarded by mu_
  std::uint64_t next_seq_ = 0;              // guarded by mu_
  const TimerEntry* running_ = nullptr;     // guarded by mu_
  TimePoint armed_for_ = TimePoint::max();  // guarded by mu_
  boost::asio::steady_timer wakeup_;        // the poller's alone
};

template <class F>
TimerHandle arm(Duration d, F f, Duration period) {
  auto e = std::make_shared<FuncTimerEntry<F>>(std::move(f), period);
  TimerQueue::instance().arm(e, Clock::now() + d);
  return TimerHandle(std::move(e));
}

}  // namespace
}  // namespace internal

bool TimerHandle::cancel() const {
  return entry_ != nullptr && internal::TimerQueue::instance().cancel(*entry_);
}

bool TimerHandle::reset(Duration d) const {
  return entry_ != nullptr && internal::TimerQueue::instance().reset(entry_, d);
}

TimerHandle after_func(Duration d, std::function<void(TimePoint)> f, Duration period) {
  return internal::arm(d, std::move(f), period);
}

Chan<TimePoint> after(Duration d) {
  Chan<TimePoint> ch(1);
  (void)internal::arm(d, internal::SendTime{ch}, Duration::zero());
  return ch;
}

Timer::Timer(Duration d) : chan_(1) {
  handle_ = internal::arm(d, internal::SendTime{chan_}, Duration::zero());
}

Ticker::Ticker(Duration period) : chan_(1) {
  handle_ = internal::arm(period, internal::SendTime{chan_}, period);
}

void SleepAwaiter::suspend(std::coroutine_handle<> h, internal::GoroutineRecord* g) {
  internal::WakeTarget target = internal::goroutine_target(h, g, "sleep", nullptr);
  (void)internal::arm(
      d_, [target](TimePoint) { target.wake(); }, Duration::zero());
}

std::size_t pending_timers() { return internal::TimerQueue::instance().pending(); }

}  // namespace csp
