#pragma once
// The `memory_limiter` processor: keeps the collector under a memory limit by refusing data
// before it is read, inflated or decoded.
//
// The decision is made on bytes the process knows it holds (pipeline::Admission): claims the
// receivers' servers take before they buffer, inflate or decode a request (kept until the
// request is answered), plus data buffered in batch processors and exporter queues. A claim that
// would take that sum past the soft limit (limit - spike_limit), or the claimed bytes past the
// spike allowance, is refused (gRPC RESOURCE_EXHAUSTED + RetryInfo / HTTP 429 + Retry-After).
// These counters fall as data drains, so refusals end by themselves.
//
// Resident memory is a second signal that can only tighten the decision, and only for a bounded
// time. Every check_interval the limiter reads RSS:
//  - above the soft limit it first asks the allocator to give free pages back (give_back; every
//    kGiveBackEveryChecks checks, or at every check above the hard limit);
//  - if RSS is still above the hard limit, every new claim is refused ("tightened") until, at a
//    later check, the accounted bytes are below the soft limit, or for at most
//    kMaxTightenedChecks checks; then data flows again even if RSS stays high (an allocator may
//    keep freed pages). It tightens again only once RSS has grown by a quarter of the spike
//    allowance past its lowest level since it relaxed, or after RSS has been below the limit.
// Each transition is logged once.
//
// Instances: one MemoryLimiter per id (the graph builds it once, as the factory's shared part,
// however many pipelines list the id), and in each pipeline a MemoryLimiterProcessor that refers
// to it. The processor refuses batches while the budget is tightened (for data that did not come
// through a receiver) and every batch once it or its limiter is shut down (UNAVAILABLE). With
// several memory_limiter ids, the first one started runs the check and sets the limits.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "csp/chan.h"
#include "csp/context.h"
#include "csp/timer.h"
#include "pipeline/component.h"
#include "pipeline/host.h"

namespace components {

struct MemoryLimiterConfig {
  csp::Duration check_interval{};     // required, > 0
  std::int64_t limit_mib = 0;         // or limit_percentage
  std::int64_t spike_limit_mib = 0;   // 0: 20% of the limit
  std::int64_t limit_percentage = 0;  // of total memory (cgroup limit when set)
  std::int64_t spike_limit_percentage = 0;

  // The limits in bytes, resolved against total memory.
  std::int64_t limit_bytes() const;
  std::int64_t spike_bytes() const;
};

// Resident set size of this process, in bytes (0 if unknown).
std::int64_t resident_memory_bytes();
// Memory available to this process: the cgroup limit if there is one, else MemTotal.
std::int64_t total_memory_bytes();

// Asks the allocator to return free pages to the OS: jemalloc's purge when jemalloc is the
// process's allocator, glibc's malloc_trim otherwise.
void give_back_free_memory();

// What the limiter reads and does outside itself; tests replace both.
struct MemoryProbe {
  std::function<std::int64_t()> resident_bytes;  // default: resident_memory_bytes
  std::function<void()> give_back;               // default: give_back_free_memory
};

class MemoryLimiter final : public pipeline::Component {
 public:
  // Checks while tightened after which data flows again whatever RSS says.
  static constexpr int kMaxTightenedChecks = 5;
  // After relaxing with RSS still above the limit, new growth of spike_allowance / this much
  // above RSS's lowest level since then tightens again (freed pages an allocator keeps do not
  // grow RSS; new data does).
  static constexpr int kRegrowthDivisor = 4;
  // Between soft and hard limit, the allocator is asked to give memory back every this many
  // checks (above the hard limit: at every check).
  static constexpr int kGiveBackEveryChecks = 5;

  MemoryLimiter(std::string id, MemoryLimiterConfig config, pipeline::Host& host,
                MemoryProbe probe = {});
  ~MemoryLimiter() override;

  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  // One periodic check (start() runs it every check_interval); public so that tests drive it
  // without a clock.
  void check() { checker_->check(); }
  bool tightened() const { return checker_->tightened; }

  // Why a batch must be refused now, or OK (MemoryLimiterProcessor asks before passing one on).
  absl::Status refusal() const;

 private:
  // The periodic check and its state, shared with the goroutine that runs it (which holds it
  // by shared_ptr, never `this`). check() runs on that goroutine only; the fields are read
  // elsewhere only by tests after check() returned.
  struct Checker {
    std::string id;
    pipeline::Host& host;  // outlives every component
    MemoryProbe probe;
    std::int64_t limit = 0;
    std::int64_t spike = 0;
    std::int64_t soft_limit = 0;
    int checks_since_give_back = kGiveBackEveryChecks;
    bool tightened = false;
    int tightened_checks = 0;
    // After relaxing: the lowest RSS seen since (0 = not relaxed above the limit). RSS must
    // grow past it by spike / kRegrowthDivisor (and be above the limit) to tighten again.
    std::int64_t relaxed_floor = 0;
    void check();
  };
  // The checking goroutine: ends when stop is closed, then closes done.
  static csp::Task<void> run(std::shared_ptr<Checker> checker, csp::Duration interval,
                             csp::Chan<csp::Unit> stop, csp::Chan<csp::Unit> done);

  MemoryLimiterConfig config_;
  pipeline::Host& host_;
  std::shared_ptr<Checker> checker_;
  bool checking_ = false;  // this instance runs the check (Admission::take_rss_check)
  csp::Chan<csp::Unit> stop_{0};
  csp::Chan<csp::Unit> done_{0};
  std::atomic<bool> shut_down_{false};
};

// The limiter's place in one pipeline: passes batches on unless the limiter refuses them.
class MemoryLimiterProcessor final : public pipeline::Processor {
 public:
  MemoryLimiterProcessor(std::shared_ptr<MemoryLimiter> limiter,
                         std::shared_ptr<pipeline::Consumer> next)
      : limiter_(std::move(limiter)), next_(std::move(next)) {}

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<void> shutdown(csp::Context ctx) override;
  bool delivering() const override { return next_->delivering(); }
  bool durable() const override { return next_->durable(); }

 private:
  std::shared_ptr<MemoryLimiter> limiter_;
  std::shared_ptr<pipeline::Consumer> next_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace components
