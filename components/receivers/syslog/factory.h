#pragma once
// Factory and config of the `syslog` receiver.

#include <memory>

#include "components/receivers/syslog/syslog_receiver.h"
#include "pipeline/factory.h"

namespace components {

absl::StatusOr<SyslogReceiverConfig> parse_syslog_receiver_config(const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ReceiverFactory> make_syslog_receiver_factory();

}  // namespace components
