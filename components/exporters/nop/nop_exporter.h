#pragma once
// The `nop` exporter: accepts everything and does nothing with it (for benchmarks and tests).

#include "pipeline/component.h"

namespace components {

class NopExporter final : public pipeline::Exporter {
 public:
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch) override {
    co_return absl::OkStatus();
  }
};

}  // namespace components
