#pragma once
// ManualRetryClock: a RetryClock for tests. Time stands still except when an exporter sleeps:
// each sleep is recorded and completes at once, moving the clock forward by exactly the wait it
// asked for. A retry schedule is then a list of durations a test can compare with the
// configuration, and max_elapsed_time runs out after the configured waits, however long the
// attempts themselves took in real time.
//
// hold_sleeps(true) turns every later sleep into one that never ends on its own: it returns
// (false) only when the exporter's context is done, as at a shutdown deadline.
//
// Thread-safety: every member may be called from any thread and goroutine. The virtual time is
// one for all senders, so exact schedules need one sender (num_consumers: 1).

#include <mutex>
#include <vector>

#include "components/exporters/helper/retry_clock.h"
#include "csp/chan.h"

namespace components::testing {

class ManualRetryClock final : public RetryClock {
 public:
  csp::TimePoint now() override {
    std::lock_guard lock(mu_);
    return now_;
  }

  csp::Task<bool> sleep(csp::Duration d, csp::Context ctx) override {
    bool hold = false;
    {
      std::lock_guard lock(mu_);
      waits_.push_back(d);
      hold = hold_;
    }
    if (hold) {
      csp::Chan<csp::Unit> done = ctx.done();
      co_await done.recv();
      co_return false;
    }
    if (ctx.is_done()) co_return false;
    std::lock_guard lock(mu_);
    now_ += d;
    co_return true;
  }

  // Every wait asked for so far, in order.
  std::vector<csp::Duration> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }
  // The virtual time passed since the clock was made: the sum of the completed waits.
  csp::Duration elapsed() const {
    std::lock_guard lock(mu_);
    return now_ - csp::TimePoint{};
  }
  void hold_sleeps(bool hold) {
    std::lock_guard lock(mu_);
    hold_ = hold;
  }

 private:
  mutable std::mutex mu_;
  csp::TimePoint now_{};              // guarded by mu_
  std::vector<csp::Duration> waits_;  // guarded by mu_
  bool hold_ = false;                 // guarded by mu_
};

}  // namespace components::testing
