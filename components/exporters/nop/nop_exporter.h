#pragma once
// The `nop` exporter: accepts everything and does nothing with it (for benchmarks and tests);
// after shutdown it refuses, as every component does.

#include <atomic>

#include "pipeline/component.h"

namespace components {

class NopExporter final : public pipeline::Exporter {
 public:
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch) override {
    if (shut_down_.load(std::memory_order_acquire)) {
      co_return absl::UnavailableError("exporter nop is shut down");
    }
    co_return absl::OkStatus();
  }
  csp::Task<void> shutdown(csp::Context) override {
    shut_down_.store(true, std::memory_order_release);
    co_return;
  }

 private:
  std::atomic<bool> shut_down_{false};
};

}  // namespace components
