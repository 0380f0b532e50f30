#include "components/extensions/status/factory.h"

#include "components/extensions/status/status_page.h"

namespace components {

namespace {

class StatusFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "status"; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  absl::StatusOr<std::shared_ptr<pipeline::Component>> create(const pipeline::ComponentId& id,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host& host) const override {
    auto c = parse_status_page_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Component>(
        std::make_shared<StatusPage>(id.str(), *std::move(c), host));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> make_status_extension_factory() {
  return std::make_unique<StatusFactory>();
}

}  // namespace components
