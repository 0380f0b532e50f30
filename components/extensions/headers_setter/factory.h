#pragma once
// Factory of the `headers_setter` extension.

#include <memory>

#include "pipeline/factory.h"

namespace components {

std::unique_ptr<pipeline::ExtensionFactory> make_headers_setter_extension_factory();

}  // namespace components
