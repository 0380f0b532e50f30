#pragma once
// What an exporter's `auth: {authenticator: <id>}` names: a bearertokenauth extension (an
// `authorization` header on every request) or a headers_setter extension (headers per batch,
// from its client metadata).

#include <memory>

#include "absl/status/statusor.h"
#include "components/extensions/bearertokenauth/bearer_token_auth.h"
#include "components/extensions/headers_setter/headers_setter.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"

namespace components {

struct ClientAuth {
  std::shared_ptr<BearerTokenAuth> bearer;
  std::shared_ptr<HeadersSetter> headers;
};

// Both null when the exporter has no `auth`. An error names the key when the id is neither
// kind of extension listed in service::extensions.
absl::StatusOr<ClientAuth> find_client_auth(const pipeline::ConfigNode& node,
                                            const pipeline::Host& host);

}  // namespace components
