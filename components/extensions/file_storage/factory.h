#pragma once
// Factory and config of the `file_storage` extension.

#include <memory>

#include "components/extensions/file_storage/file_storage.h"
#include "pipeline/factory.h"

namespace components {
absl::StatusOr<FileStorageConfig> parse_file_storage_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ExtensionFactory> make_file_storage_extension_factory();
}  // namespace components
