#include "components/receivers/syslog/factory.h"

#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<SyslogReceiverConfig> parse_syslog_receiver_config(
    const pipeline::ConfigNode& node) {
  SyslogReceiverConfig c;
  OTLPD_RETURN_IF_ERROR(node.require("protocol"));
  OTLPD_ASSIGN_OR_RETURN(std::string protocol, node.string("protocol", ""));
  OTLPD_ASSIGN_OR_RETURN(std::string location, node.string("location", "UTC"));
  OTLPD_ASSIGN_OR_RETURN(c.octet_counting, node.boolean("enable_octet_counting", false));
  if (node.has("udp")) {
    const pipeline::ConfigNode udp = node.child("udp");
    OTLPD_RETURN_IF_ERROR(udp.require("listen_address"));
    OTLPD_ASSIGN_OR_RETURN(std::string address, udp.string("listen_address", ""));
    OTLPD_RETURN_IF_ERROR(udp.check_no_unknown_keys());
    c.udp_endpoint = std::move(address);
  }
  if (node.has("tcp")) {
    const pipeline::ConfigNode tcp = node.child("tcp");
    OTLPD_RETURN_IF_ERROR(tcp.require("listen_address"));
    OTLPD_ASSIGN_OR_RETURN(std::string address, tcp.string("listen_address", ""));
    OTLPD_ASSIGN_OR_RETURN(std::uint64_t max, tcp.bytes("max_log_size", c.max_log_size));
    OTLPD_RETURN_IF_ERROR(tcp.check_no_unknown_keys());
    if (max < 64 || max > (64u << 20)) {
      return tcp.error_at("max_log_size", "must be in [64B, 64MiB]");
    }
    c.max_log_size = max;
    c.tcp_endpoint = std::move(address);
  }
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (protocol == "rfc5424") {
    c.parse.protocol = SyslogProtocol::kRfc5424;
  } else if (protocol == "rfc3164") {
    c.parse.protocol = SyslogProtocol::kRfc3164;
  } else {
    return node.error_at("protocol", absl::StrCat("\"", protocol, "\" is not rfc5424 or rfc3164"));
  }
  if (location == "UTC") {
    c.parse.utc = true;
  } else if (location == "Local") {
    c.parse.utc = false;
  } else {
    return node.error_at("location", absl::StrCat("\"", location,
                                                  "\": otlpd knows UTC and Local (the "
                                                  "machine's zone); set TZ for another"));
  }
  if (c.octet_counting && c.parse.protocol != SyslogProtocol::kRfc5424) {
    return node.error_at("enable_octet_counting", "is for protocol: rfc5424 only");
  }
  if (!c.udp_endpoint && !c.tcp_endpoint) return node.error("must set udp or tcp (or both)");
  return c;
}

namespace {

class SyslogReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "syslog"; }
  bool supports(otlp::Signal signal) const override { return signal == otlp::Signal::kLogs; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  absl::StatusOr<std::shared_ptr<pipeline::Receiver>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             pipeline::Host& host) const override {
    auto c = parse_syslog_receiver_config(config);
    if (!c.ok()) return c.status();
    return std::make_shared<SyslogReceiver>(id.str(), *std::move(c), host);
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> make_syslog_receiver_factory() {
  return std::make_unique<SyslogReceiverFactory>();
}

}  // namespace components
