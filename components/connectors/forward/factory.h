#pragma once
// Factory of the `forward` connector (all four signals, same signal on both sides).

#include <memory>

#include "pipeline/factory.h"

namespace components {
std::unique_ptr<pipeline::ConnectorFactory> make_forward_connector_factory();
}
