#pragma once
// pipeline::Config and load_config(): the OpenTelemetry Collector's configuration format.
//
// Users bring their Collector YAML: `receivers`, `processors`, `exporters`, `connectors` and
// `extensions` define components by id (`otlp`, `otlp/2`); `service` lists the pipelines
// (`traces`, `metrics/fast`, ...) that join them, the extensions to start, and the collector's
// own log level. docs/configuration.md describes the format, the env expansion, --set, the
// merge rules and every error message; the tests in this folder check the same facts.
//
// Loading is a sequence of steps:
//   1. read each --config file (or the inline YAML) and parse it;
//   2. merge them in order: maps merge key by key, later scalars and lists replace earlier;
//   3. apply each --set key.path=value in order (the value is YAML);
//   4. expand ${env:VAR}, ${VAR}, ${env:VAR:-default} and $$ in every scalar value;
//   5. decode the sections and check the structure: ids, pipelines, references, connectors.
//
// Contract:
//  - load_config() never throws and never aborts on bad input. Every problem with the files
//    or their content is an error value whose message names the key path in the Collector's
//    notation (`service::pipelines::traces`) and the place (`config.yaml:30:18`); when several
//    problems are found they are all reported, one per line. Codes: NotFound /
//    PermissionDenied / ... for a file that cannot be read (from errno), InvalidArgument for
//    everything else, including LoadOptions that give no source or two kinds of source.
//  - What load_config() does NOT check: whether a component type exists and supports the
//    signals of its pipelines, and the settings inside a component. The engine does that
//    against its factory list, using the ConfigNodes and the ids' where() kept here.
//  - Components that are defined but used by no pipeline (and extensions not listed in
//    service::extensions) are not errors; they come back in Config::warnings, with locations.
//    References to unset environment variables are also warnings.
//  - Reentrant: loads may run concurrently; `env` is called on the calling thread only.
//  - A Config is a value; its ConfigNodes share the immutable tree and keep it alive. Reading
//    a component's ConfigNode records which keys were read (see config_node.h).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/config/component_id.h"
#include "pipeline/config/config_node.h"
#include "pipeline/config/env_expansion.h"
#include "pipeline/config/source_location.h"

namespace pipeline {

// The collector's own log levels (service::telemetry::logs::level), lowest first.
inline constexpr const char* kLogLevels[] = {"debug", "info", "warn", "error"};
inline constexpr const char* kDefaultLogLevel = "info";

struct PipelineConfig {
  SourceLocation where;  // the pipeline's key under service::pipelines
  // In the order written; processors run in this order. Each id's where() is its place in
  // the list.
  std::vector<ComponentId> receivers;
  std::vector<ComponentId> processors;
  std::vector<ComponentId> exporters;
};

struct ServiceConfig {
  std::vector<ComponentId> extensions;  // started in this order
  std::map<PipelineId, PipelineConfig> pipelines;
  std::string log_level = kDefaultLogLevel;  // one of kLogLevels
  std::string log_encoding = "console";      // service::telemetry::logs::encoding: console | json
  // service::telemetry::logs::initial_fields, in the order written (values as strings).
  std::vector<std::pair<std::string, std::string>> log_initial_fields;
  // service::telemetry::metrics as written (decoded by otlpd's self-telemetry,
  // apps/otlpd/self_telemetry.h); absent when the config has none.
  std::optional<ConfigNode> telemetry_metrics;
};

struct Config {
  // Each key's where() is the place the component is defined.
  std::map<ComponentId, ConfigNode> receivers;
  std::map<ComponentId, ConfigNode> processors;
  std::map<ComponentId, ConfigNode> exporters;
  std::map<ComponentId, ConfigNode> connectors;
  std::map<ComponentId, ConfigNode> extensions;
  ServiceConfig service;
  // Not fatal, for the log at start-up: unused components, unset environment variables.
  std::vector<std::string> warnings;

  const std::map<ComponentId, ConfigNode>& section(ComponentKind kind) const;
};

struct LoadOptions {
  // --config files, merged in this order. Names appear in messages as given here.
  std::vector<std::string> files;
  // --set arguments, "key.path=value" or "key::path=value", applied in order after the files.
  // Use "::" when a component name contains ".": "exporters::otlp/eu.west::endpoint=...".
  std::vector<std::string> sets;
  // Looks up environment variables; nullopt = unset.
  EnvLookup env = process_env();
  // YAML text used instead of files (the built-in default config, tests); named
  // `inline_name` in messages. Giving both files and inline_yaml is an error.
  std::optional<std::string> inline_yaml;
  std::string inline_name = "<inline>";
};

absl::StatusOr<Config> load_config(const LoadOptions& options);

}  // namespace pipeline
