#include "components/extensions/health_check/factory.h"

#include "components/extensions/health_check/health_check.h"

namespace components {

namespace {

class HealthCheckFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "health_check"; }
  pipeline::Stability stability() const override { return pipeline::Stability::kBeta; }
  absl::StatusOr<std::shared_ptr<pipeline::Component>> create(const pipeline::ComponentId& id,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host& host) const override {
    auto c = parse_health_check_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Component>(
        std::make_shared<HealthCheck>(id.str(), *std::move(c), host));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> make_health_check_extension_factory() {
  return std::make_unique<HealthCheckFactory>();
}

}  // namespace components
