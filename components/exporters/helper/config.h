#pragma once
// The `sending_queue`, `retry_on_failure` and `timeout` settings every network exporter shares
// (the Collector's names and defaults).

#include "absl/status/statusor.h"
#include "components/exporters/helper/queued_retry.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"

namespace components {

absl::StatusOr<QueueConfig> parse_queue_config(const pipeline::ConfigNode& exporter);
absl::StatusOr<RetryConfig> parse_retry_config(const pipeline::ConfigNode& exporter);
// sending_queue::storage must name a file_storage extension of service::extensions (the graph
// builds those before any exporter).
absl::Status check_queue_storage(const pipeline::ConfigNode& exporter, const QueueConfig& queue,
                                 const pipeline::Host& host);

}  // namespace components
