// otlpd: the OpenTelemetry pipeline daemon and its tools. Each subcommand
// lives in its own file pair and registers itself here; this file only
// dispatches. (The collector's `run` subcommand will be added the same way.)

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "apps/otlpd/convert.h"

int main(int argc, char** argv) {
  CLI::App app{"otlpd — OpenTelemetry (OTLP) telemetry pipeline"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("otlpd ") + OTLPD_VERSION);

  std::function<int()> selected;
  otlpd::add_convert_command(app, &selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!selected) {
    std::cerr << app.help();
    return 2;
  }
  return selected();
}
