// otlpd: the OpenTelemetry pipeline daemon and its tools. Each subcommand
// lives in its own file pair and registers itself here; this file only
// dispatches. Without a subcommand, otlpd runs the collector.

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "apps/otlpd/collector.h"
#include "apps/otlpd/convert.h"

int main(int argc, char** argv) {
  CLI::App app{"otlpd — OpenTelemetry (OTLP) telemetry pipeline"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("otlpd ") + OTLPD_VERSION);

  std::function<int()> selected;
  otlpd::CollectorOptions collector;
  otlpd::add_collector_commands(app, &collector, &selected);
  otlpd::add_convert_command(app, &selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // No subcommand: run the collector.
  if (!selected) return otlpd::run_collector(collector);
  return selected();
}
