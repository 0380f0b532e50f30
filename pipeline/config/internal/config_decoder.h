#pragma once
// internal: turns the merged, expanded YAML tree into a Config and checks its structure
// (step 5 of load_config; see config.h). Every message names the key path and location;
// all problems found are reported, one per line.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/config/config.h"
#include "pipeline/config/internal/yaml_tree.h"

namespace pipeline::internal {

// `warnings` are those of earlier steps (unset variables); decoding appends its own.
absl::StatusOr<Config> decode_config(const YamlValuePtr& root, std::vector<std::string> warnings);

}  // namespace pipeline::internal
