#pragma once
// Factory of the `batch` processor (all four signals).

#include <memory>

#include "pipeline/factory.h"

namespace components {
std::unique_ptr<pipeline::ProcessorFactory> make_batch_processor_factory();
}
