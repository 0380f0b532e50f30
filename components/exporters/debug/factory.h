#pragma once
// Factories of the `debug` and `nop` exporters (all four signals).

#include <memory>

#include "components/exporters/debug/debug_exporter.h"
#include "pipeline/factory.h"

namespace components {
absl::StatusOr<DebugConfig> parse_debug_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ExporterFactory> make_debug_exporter_factory();
std::unique_ptr<pipeline::ExporterFactory> make_nop_exporter_factory();
}  // namespace components
