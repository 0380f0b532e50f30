#pragma once
// The `memory_limiter` processor: keeps the collector under a memory limit by refusing data
// before it is decoded.
//
// Every check_interval it reads the process's resident memory. Above the soft limit
// (limit - spike_limit) it tells the receivers' admission control to refuse new requests
// (RESOURCE_EXHAUSTED with a retry delay, i.e. gRPC RESOURCE_EXHAUSTED + RetryInfo / HTTP 429);
// below it again, data flows. It also caps the bytes of requests in flight at spike_limit, so a
// burst of large requests cannot overshoot between two checks. In the pipeline it refuses
// batches while the limit is exceeded, for data that did not come through a receiver.

#include <cstdint>
#include <memory>
#include <string>

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

class MemoryLimiter final : public pipeline::Processor {
 public:
  MemoryLimiter(std::string id, MemoryLimiterConfig config,
                std::shared_ptr<pipeline::Consumer> next, pipeline::Host& host);

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

 private:
  void check();

  std::string id_;
  MemoryLimiterConfig config_;
  std::shared_ptr<pipeline::Consumer> next_;
  pipeline::Host& host_;
  std::int64_t soft_limit_ = 0;
  csp::TimerHandle checker_;
};

}  // namespace components
