#include "components/extensions/bearertokenauth/factory.h"

#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"

namespace components {

namespace {

class BearerTokenAuthFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "bearertokenauth"; }
  pipeline::Stability stability() const override { return pipeline::Stability::kBeta; }
  absl::StatusOr<std::shared_ptr<pipeline::Component>> create(const pipeline::ComponentId& id,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host& host) const override {
    auto c = parse_bearer_token_auth_config(config);
    if (!c.ok()) return c.status();
    auto auth = BearerTokenAuth::make(id.str(), *std::move(c), host);
    if (!auth.ok()) return config.error(std::string(auth.status().message()));
    return std::shared_ptr<pipeline::Component>(*std::move(auth));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> make_bearer_token_auth_extension_factory() {
  return std::make_unique<BearerTokenAuthFactory>();
}

absl::StatusOr<std::shared_ptr<BearerTokenAuth>> find_authenticator(
    const pipeline::ConfigNode& node, const pipeline::Host& host) {
  if (!node.has("auth")) return nullptr;
  const pipeline::ConfigNode auth = node.child("auth");
  OTLPD_RETURN_IF_ERROR(auth.require("authenticator"));
  OTLPD_ASSIGN_OR_RETURN(std::string id, auth.string("authenticator", ""));
  OTLPD_RETURN_IF_ERROR(auth.check_no_unknown_keys());
  auto found = std::dynamic_pointer_cast<BearerTokenAuth>(host.extension(id));
  if (found == nullptr) {
    return auth.error_at("authenticator",
                         absl::StrCat("\"", id,
                                      "\" is not a bearertokenauth extension listed in "
                                      "service::extensions"));
  }
  return found;
}

}  // namespace components
