#pragma once
// pipeline::SourceLocation: where a configuration value came from, for error messages.
//
// Contract:
//  - `file` is the config file path exactly as the user gave it (so messages match what they
//    typed), "<inline>" style names for inline YAML, or the whole `--set key=value` argument
//    for values that came from the command line.
//  - `line` and `column` are 1-based; 0 means "not known" (values from --set, or a location
//    that has no place in a file such as a missing top-level section).
//  - str() is "file:line:column", or just "file" when the line is not known, or "" when
//    nothing is known. Messages append it in parentheses: `... (config.yaml:7:9)`.
//  - A plain value type: copy it freely, use it from any thread.

#include <string>

namespace pipeline {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown

  bool known() const { return !file.empty() || line > 0; }
  std::string str() const;

  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

// " (config.yaml:7:9)" for a known location, "" otherwise: the trailer of every message.
std::string location_suffix(const SourceLocation& where);

}  // namespace pipeline
