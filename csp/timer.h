#pragma once
// Timers: csp::sleep, csp::after, csp::Timer, csp::Ticker and csp::after_func.
//
// Contract:
//  - One timer thread per process keeps every pending timer in a heap and fires it at (or soon
//    after) its time; it never runs goroutine code itself.
//  - after(d) and Timer deliver the fire time once on a buffered(1) channel, so a timer fires
//    even if nobody is receiving yet, and select treats it as an ordinary receive case.
//  - Ticker delivers on a buffered(1) channel and drops ticks a slow receiver has not taken, as
//    Go's does; it keeps its period and does not drift with late receivers.
//  - Timer::stop() reports whether it prevented the timer from firing. Stopping does not drain
//    the channel. Destroying a Timer or Ticker stops it.
//  - co_await sleep(d) parks the goroutine and readies it when d has passed.
//  - after_func(d, f) runs f on the timer thread: f must be short and must not block. Every
//    timer, Ticker and context deadline in the process waits while f runs, so it is for csp's
//    own internals (deadlines, Timer, Ticker). Components must not do I/O in it (no disk, no
//    logging, no locks that I/O holds): periodic work belongs on a goroutine that selects on a
//    Ticker and a stop channel, joined by the component's shutdown.
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

// A pending action on the timer thread. Movable; destroying it does not cancel.
class TimerHandle {
 public:
  TimerHandle() = default;
  explicit TimerHandle(std::shared_ptr<internal::TimerEntry> e) : entry_(std::move(e)) {}
  // True if this call cancelled it before it fired.
  bool cancel() const;
  // Re-arms it to fire after d (as a one-shot, or with its period). True if it was pending.
  bool reset(Duration d) const;
  bool valid() const noexcept { return entry_ != nullptr; }

 private:
  std::shared_ptr<internal::TimerEntry> entry_;
};

// Runs f(fire_time) on the timer thread after d (and then every `period`, if non-zero).
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
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() const noexcept {}

 private:
  Duration d_;
};

// co_await csp::sleep(d): parks the goroutine for at least d.
inline SleepAwaiter sleep(Duration d) { return SleepAwaiter(d); }

// Timers pending on the timer thread (a snapshot; for tests and stats).
std::size_t pending_timers();

}  // namespace csp
