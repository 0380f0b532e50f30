#pragma once
// Factory and config of the `otlp` receiver (traces, metrics, logs, profiles).

#include <memory>

#include "components/receivers/otlp/otlp_receiver.h"
#include "pipeline/factory.h"

namespace components {
absl::StatusOr<OtlpReceiverConfig> parse_otlp_receiver_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ReceiverFactory> make_otlp_receiver_factory();
}  // namespace components
