#pragma once
// How otlp-loadgen shows a run: the per-second progress line, the closing summary for people,
// and the same summary as one JSON object for scripts (bench/durable-queue/run reads it).

#include <string>

#include "apps/otlp_loadgen/generator.h"
#include "apps/otlp_loadgen/load_runner.h"

namespace loadgen {

// What was asked for, echoed in the summaries so a saved result says what it measured.
struct RunDescription {
  GeneratorOptions generator;
  LoadOptions load;
  double mean_request_bytes = 0;  // uncompressed protobuf
};

std::string format_progress(const Progress& progress);
std::string format_summary(const RunDescription& run, const Report& report);
std::string format_json(const RunDescription& run, const Report& report);

}  // namespace loadgen
