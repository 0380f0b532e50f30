#include "components/processors/memory_limiter/factory.h"

#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<MemoryLimiterConfig> parse_memory_limiter_config(const pipeline::ConfigNode& node) {
  MemoryLimiterConfig c;
  OTLPD_ASSIGN_OR_RETURN(auto interval,
                         node.duration("check_interval", std::chrono::nanoseconds(0)));
  OTLPD_ASSIGN_OR_RETURN(c.limit_mib, node.int64("limit_mib", 0));
  OTLPD_ASSIGN_OR_RETURN(c.spike_limit_mib, node.int64("spike_limit_mib", 0));
  OTLPD_ASSIGN_OR_RETURN(c.limit_percentage, node.int64("limit_percentage", 0));
  OTLPD_ASSIGN_OR_RETURN(c.spike_limit_percentage, node.int64("spike_limit_percentage", 0));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  c.check_interval = to_duration(interval);
  if (c.check_interval <= csp::Duration::zero()) {
    return node.error_at("check_interval", "must be greater than zero");
  }
  if (c.limit_mib < 0) return node.error_at("limit_mib", "must not be negative");
  if (c.limit_percentage < 0 || c.limit_percentage > 100) {
    return node.error_at("limit_percentage", "must be between 0 and 100");
  }
  if (c.limit_mib == 0 && c.limit_percentage == 0) {
    return node.error("either limit_mib or limit_percentage must be greater than zero");
  }
  if (c.limit_mib > 0 && c.spike_limit_mib >= c.limit_mib) {
    return node.error_at("spike_limit_mib", "must be smaller than limit_mib");
  }
  if (c.limit_percentage > 0 && c.spike_limit_percentage >= c.limit_percentage) {
    return node.error_at("spike_limit_percentage", "must be smaller than limit_percentage");
  }
  return c;
}

namespace {

class MemoryLimiterFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "memory_limiter"; }
  bool supports(otlp::Signal) const override { return true; }
  // One limiter per id, whatever pipelines list it: it configures the collector's memory budget
  // and runs the resident-memory check once.
  bool has_shared_part() const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Component>> create_shared(
      const pipeline::ComponentId& id, const pipeline::ConfigNode& config,
      pipeline::Host& host) const override {
    auto c = parse_memory_limiter_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Component>(
        std::make_shared<MemoryLimiter>(id.str(), *c, host));
  }
  absl::StatusOr<std::shared_ptr<pipeline::Processor>> create(
      const pipeline::ComponentId&, const pipeline::ConfigNode&, otlp::Signal,
      std::shared_ptr<pipeline::Consumer> next, std::shared_ptr<pipeline::Component> shared,
      pipeline::Host&) const override {
    return std::shared_ptr<pipeline::Processor>(std::make_shared<MemoryLimiterProcessor>(
        std::static_pointer_cast<MemoryLimiter>(std::move(shared)), std::move(next)));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> make_memory_limiter_factory() {
  return std::make_unique<MemoryLimiterFactory>();
}

}  // namespace components
