#pragma once
// Factory and config of the `file` exporter (all four signals).

#include <memory>

#include "components/exporters/file/file_exporter.h"
#include "pipeline/factory.h"

namespace components {
absl::StatusOr<FileConfig> parse_file_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ExporterFactory> make_file_exporter_factory();
}  // namespace components
