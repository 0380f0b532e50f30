#include "components/connectors/failover/factory.h"

#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<FailoverConfig> parse_failover_config(const pipeline::ConfigNode& node) {
  FailoverConfig c;
  c.node = node;
  OTLPD_RETURN_IF_ERROR(node.require("priority_levels"));
  OTLPD_ASSIGN_OR_RETURN(c.priority_levels, node.string_lists("priority_levels"));
  OTLPD_ASSIGN_OR_RETURN(auto interval, node.duration("retry_interval", to_ns(c.retry_interval)));
  c.retry_interval = to_duration(interval);
  // The Collector's knobs for its own probing schedule: ours probes one level per interval.
  for (const char* key : {"retry_gap", "max_retries"}) {
    if (node.has(key)) {
      return node.error_at(key,
                           "is not supported: otlpd probes one higher level every "
                           "retry_interval, for as long as a lower level is in use");
    }
  }
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (c.priority_levels.empty()) return node.error_at("priority_levels", "must not be empty");
  for (const auto& level : c.priority_levels) {
    if (level.empty()) return node.error_at("priority_levels", "a level must list a pipeline");
  }
  if (c.priority_levels.size() > 16) {
    return node.error_at("priority_levels", "at most 16 levels are supported");
  }
  if (c.retry_interval <= csp::Duration::zero()) {
    return node.error_at("retry_interval", "must be greater than zero");
  }
  return c;
}

namespace {

class FailoverFactory final : public pipeline::ConnectorFactory {
 public:
  std::string_view type() const override { return "failover"; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  absl::StatusOr<std::shared_ptr<pipeline::Connector>> create(const pipeline::ComponentId& id,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host&) const override {
    auto c = parse_failover_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Connector>(
        std::make_shared<FailoverConnector>(id.str(), *std::move(c)));
  }
};

}  // namespace

std::unique_ptr<pipeline::ConnectorFactory> make_failover_connector_factory() {
  return std::make_unique<FailoverFactory>();
}

}  // namespace components
