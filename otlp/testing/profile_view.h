// Resolves every sample of a profiles request through its dictionary into
// self-contained text, so tests can check that split/merge/concat kept what
// each sample means whatever its indices became.
#pragma once

#include <string>
#include <vector>

#include "otlp/signal.h"

namespace otlp::testing {

std::vector<std::string> resolved_samples(const ProfilesRequest& request);

}  // namespace otlp::testing
