#pragma once
// Factory of the `bearertokenauth` extension, and how receivers and exporters find it.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "components/extensions/bearertokenauth/bearer_token_auth.h"
#include "pipeline/factory.h"

namespace components {

std::unique_ptr<pipeline::ExtensionFactory> make_bearer_token_auth_extension_factory();

// The authenticator a component's `auth: {authenticator: <id>}` names under `node` (null when
// the component has no `auth`). An error names the key when the id is not a bearertokenauth
// extension listed in service::extensions.
absl::StatusOr<std::shared_ptr<BearerTokenAuth>> find_authenticator(
    const pipeline::ConfigNode& node, const pipeline::Host& host);

}  // namespace components
