#include "components/extensions/headers_setter/factory.h"

#include "components/extensions/headers_setter/headers_setter.h"

namespace components {

namespace {

class HeadersSetterFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "headers_setter"; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  absl::StatusOr<std::shared_ptr<pipeline::Component>> create(const pipeline::ComponentId& id,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host& host) const override {
    auto c = parse_headers_setter_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Component>(
        std::make_shared<HeadersSetter>(id.str(), *std::move(c), host));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> make_headers_setter_extension_factory() {
  return std::make_unique<HeadersSetterFactory>();
}

}  // namespace components
