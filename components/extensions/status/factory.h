#pragma once
// Factory of the `status` extension (status_page.h).

#include <memory>

#include "pipeline/factory.h"

namespace components {
std::unique_ptr<pipeline::ExtensionFactory> make_status_extension_factory();
}  // namespace components
