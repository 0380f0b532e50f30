#include "components/exporters/otlp_udp/factory.h"

#include "absl/strings/str_cat.h"
#include "components/exporters/helper/config.h"
#include "components/internal/config_util.h"
#include "transport/udp_server.h"

namespace components {

absl::StatusOr<OtlpUdpExporterConfig> parse_otlp_udp_exporter_config(
    const pipeline::ConfigNode& node) {
  OtlpUdpExporterConfig c;
  OTLPD_RETURN_IF_ERROR(node.require("endpoint"));
  OTLPD_ASSIGN_OR_RETURN(c.client.endpoint, node.string("endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t size,
                         node.bytes("max_datagram_size", c.client.max_datagram_size));
  OTLPD_ASSIGN_OR_RETURN(auto timeout, node.duration("timeout", to_ns(c.timeout)));
  OTLPD_ASSIGN_OR_RETURN(c.queue, parse_queue_config(node));
  OTLPD_ASSIGN_OR_RETURN(c.retry, parse_retry_config(node));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (size < 2 || size > transport::kMaxUdpPayload) {
    return node.error_at("max_datagram_size",
                         absl::StrCat("must be in [2, ", transport::kMaxUdpPayload, "] bytes"));
  }
  c.client.max_datagram_size = size;
  if (timeout <= std::chrono::nanoseconds::zero()) {
    return node.error_at("timeout", "must be greater than zero");
  }
  c.timeout = to_duration(timeout);
  if (absl::Status s = c.client.validate(); !s.ok()) {
    return node.error_at("endpoint", std::string(s.message()));
  }
  return c;
}

namespace {

class OtlpUdpFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "otlp_udp"; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  bool shared_across_signals() const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host& host) const override {
    auto c = parse_otlp_udp_exporter_config(config);
    if (!c.ok()) return c.status();
    OTLPD_RETURN_IF_ERROR(check_queue_storage(config, c->queue, host));
    return make_otlp_udp_exporter(id.str(), *std::move(c), host);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> make_otlp_udp_exporter_factory() {
  return std::make_unique<OtlpUdpFactory>();
}

}  // namespace components
