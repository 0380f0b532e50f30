// The official OTLP/JSON examples in otlp/testdata/examples, located through
// the OTLP_TESTDATA_DIR compile definition that CMake sets from the source tree.
#pragma once

#include <string>
#include <vector>

#include "otlp/signal.h"

namespace otlp::testing {

struct Example {
  std::string name;  // file name, e.g. "trace.json"
  Signal signal;     // from the top-level key (resourceSpans, …)
  std::string json;
};

// Every *.json file of the examples folder, sorted by name. Empty if missing.
std::vector<Example> load_examples();
std::string examples_dir();

}  // namespace otlp::testing
