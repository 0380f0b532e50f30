#pragma once
// The collector itself: `otlpd [--config FILE]... [--set key=value]...` runs it,
// `otlpd validate` builds it without starting, `otlpd components` lists what it can build.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/factory.h"

namespace otlpd {

// The configuration used when no --config is given.
extern const char* const kDefaultConfig;

struct CollectorOptions {
  std::vector<std::string> config_files;
  std::vector<std::string> sets;
  std::string shutdown_timeout = "30s";
};

// Adds the run options to the top-level app, and the validate and components subcommands.
void add_collector_commands(CLI::App& app, CollectorOptions* options,
                            std::function<int()>* selected);

// Runs the collector until SIGINT or SIGTERM, then shuts it down. The exit code.
int run_collector(const CollectorOptions& options);

}  // namespace otlpd
