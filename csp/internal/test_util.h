#pragma once
// Helpers shared by the csp tests (and later the pipeline tests): leak checks that wait for
// goroutines to finish winding down, within a generous timeout.

#include <chrono>
#include <cstdint>
#include <thread>

#include "csp/scheduler.h"

namespace csp::testing {

// Polls pred() every 10 ms until it is true or `patience` has passed, and returns its last
// answer. For conditions another thread or process makes true in its own time (a file
// re-read, a retry delivered); never a timing assertion: the patience is generous.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds patience = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// Waits (up to `patience`) until the default scheduler has `expected` live goroutines; returns
// the last count seen. Goroutines signal completion just before their frame ends, so a test that
// checks right after a wait group may see a few still finishing.
inline std::int64_t settle_live_goroutines(
    std::int64_t expected, std::chrono::seconds patience = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + patience;
  std::int64_t live = runtime_stats().live_goroutines;
  while (live != expected && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    live = runtime_stats().live_goroutines;
  }
  return live;
}

// Same for coroutine frames (all schedulers).
inline std::int64_t settle_live_frames(std::int64_t expected,
                                       std::chrono::seconds patience = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + patience;
  std::int64_t live = runtime_stats().live_frames;
  while (live != expected && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    live = runtime_stats().live_frames;
  }
  return live;
}

// Records the goroutine and frame counts at construction (after giving the goroutines of an
// earlier test a moment to finish); the *_now() calls wait for the counts to come back.
class LeakCheck {
 public:
  LeakCheck()
      : goroutines_(settle_live_goroutines(0, std::chrono::seconds(5))),
        frames_(runtime_stats().live_frames) {}
  std::int64_t goroutines_now() const { return settle_live_goroutines(goroutines_); }
  std::int64_t frames_now() const { return settle_live_frames(frames_); }
  std::int64_t goroutines_before() const { return goroutines_; }
  std::int64_t frames_before() const { return frames_; }

 private:
  std::int64_t goroutines_;
  std::int64_t frames_;
};

}  // namespace csp::testing
