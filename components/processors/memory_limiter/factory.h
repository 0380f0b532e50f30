#pragma once
// Factory and config of the `memory_limiter` processor (all four signals).

#include <memory>

#include "components/processors/memory_limiter/memory_limiter.h"
#include "pipeline/factory.h"

namespace components {
// Reads and validates the `memory_limiter` section.
absl::StatusOr<MemoryLimiterConfig> parse_memory_limiter_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ProcessorFactory> make_memory_limiter_factory();
}  // namespace components
