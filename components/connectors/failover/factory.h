#pragma once
// Factory and config of the `failover` connector (traces, metrics, logs, profiles).

#include <memory>

#include "components/connectors/failover/failover_connector.h"
#include "pipeline/factory.h"

namespace components {
absl::StatusOr<FailoverConfig> parse_failover_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ConnectorFactory> make_failover_connector_factory();
}  // namespace components
