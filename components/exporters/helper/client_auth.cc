#include "components/exporters/helper/client_auth.h"

#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<ClientAuth> find_client_auth(const pipeline::ConfigNode& node,
                                            const pipeline::Host& host) {
  ClientAuth auth;
  if (!node.has("auth")) return auth;
  const pipeline::ConfigNode section = node.child("auth");
  OTLPD_RETURN_IF_ERROR(section.require("authenticator"));
  OTLPD_ASSIGN_OR_RETURN(std::string id, section.string("authenticator", ""));
  OTLPD_RETURN_IF_ERROR(section.check_no_unknown_keys());
  std::shared_ptr<pipeline::Component> extension = host.extension(id);
  auth.bearer = std::dynamic_pointer_cast<BearerTokenAuth>(extension);
  auth.headers = std::dynamic_pointer_cast<HeadersSetter>(extension);
  if (auth.bearer == nullptr && auth.headers == nullptr) {
    return section.error_at("authenticator",
                            absl::StrCat("\"", id,
                                         "\" is not a bearertokenauth or headers_setter "
                                         "extension listed in service::extensions"));
  }
  return auth;
}

}  // namespace components
