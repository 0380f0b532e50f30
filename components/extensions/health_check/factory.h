#pragma once
// Factory of the `health_check` extension.

#include <memory>

#include "pipeline/factory.h"

namespace components {
std::unique_ptr<pipeline::ExtensionFactory> make_health_check_extension_factory();
}  // namespace components
