#pragma once
// Environment references in configuration values, as the OpenTelemetry Collector expands them.
//
//   ${env:VAR}            the value of VAR
//   ${VAR}                the same (the Collector's default scheme is env)
//   ${env:VAR:-default}   the value of VAR, or `default` when VAR is not set
//   $$                    a literal "$" (so "$${env:X}" is the text "${env:X}")
//
// Contract:
//  - expand_env_refs() expands one scalar value; load_config applies it to every scalar value
//    of the config (never to keys). A "$" not followed by "$" or "{" stays as it is.
//  - A variable that is not set and has no default expands to "" and is listed in
//    `unset_variables` so that the loader can warn — the Collector does the same, and a config
//    must not fail because an optional variable is absent.
//  - A default only applies when the variable is unset; a variable set to "" stays "" (as in
//    the Collector, unlike the shell's ":-"). A default may itself contain references
//    (${env:A:-${env:B}}); the value of a variable is never expanded again.
//  - `whole_value` is true when the text was exactly one ${...} reference; the loader then
//    reads the result as YAML so that `port: ${env:PORT}` is still a number or
//    `receivers: ${env:LIST}` can be a list.
//  - Errors (InvalidArgument, message without location; the caller adds path and position):
//    an unterminated "${", an empty or malformed variable name, or a scheme other than env
//    (the Collector's file:, http:, yaml: sources are not supported).
//  - EnvLookup must return std::nullopt for an unset variable. process_env() reads the
//    process environment with getenv; do not call setenv concurrently with a load.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pipeline {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Looks names up in the process environment.
EnvLookup process_env();

struct ExpandedText {
  std::string text;
  bool whole_value = false;                  // input was exactly one ${...}
  std::vector<std::string> unset_variables;  // referenced, unset, no default; in order
};

absl::StatusOr<ExpandedText> expand_env_refs(std::string_view text, const EnvLookup& env);

}  // namespace pipeline
