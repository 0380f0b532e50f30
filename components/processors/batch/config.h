#pragma once
// Configuration of the `batch` processor (the Collector's names and defaults).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "csp/timer.h"
#include "pipeline/config/config_node.h"

namespace components {

struct BatchConfig {
  static constexpr std::uint32_t kDefaultSendBatchSize = 8192;
  static constexpr csp::Duration kDefaultTimeout = std::chrono::milliseconds(200);

  // Items that make a batch go out at once. Must be > 0.
  std::uint32_t send_batch_size = kDefaultSendBatchSize;
  // How long the first item of a batch waits for more. Must be > 0.
  csp::Duration timeout = kDefaultTimeout;
  // Upper bound on the items of an outgoing batch; 0 = no bound. If set, >= send_batch_size.
  std::uint32_t send_batch_max_size = 0;
  // Client metadata names (lower case) whose values split the batches: one batcher per distinct
  // combination, each handing on just these names (pipeline::ClientMetadata). Empty: one
  // batcher, and batches handed on carry no client metadata.
  std::vector<std::string> metadata_keys;
  // Most distinct combinations at once; a batch with a new one beyond is refused. 0 = no limit.
  std::uint32_t metadata_cardinality_limit = 1000;

  // Reads and validates the `batch` section; errors name the key and its line.
  static absl::StatusOr<BatchConfig> parse(const pipeline::ConfigNode& node);
};

}  // namespace components
