#pragma once
// Factory and config of the `statsd` receiver.

#include <memory>

#include "components/receivers/statsd/statsd_receiver.h"
#include "pipeline/factory.h"

namespace components {

absl::StatusOr<StatsdReceiverConfig> parse_statsd_receiver_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ReceiverFactory> make_statsd_receiver_factory();

}  // namespace components
