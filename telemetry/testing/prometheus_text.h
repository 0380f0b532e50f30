#pragma once
// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every sample
// line becomes "name{labels}" -> value, exactly as written; # HELP and # TYPE lines are
// collected; any other line is an error. Tests check otlpd's /metrics with it.

#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace telemetry::testing {

struct Exposition {
  std::map<std::string, double> samples;     // `name{a="b",...}` -> value
  std::map<std::string, std::string> types;  // family -> counter | gauge | histogram
  std::map<std::string, std::string> help;   // family -> help text (escaped as written)

  // The value of a sample, or -1 when it is absent (values in these tests are never negative).
  double get(const std::string& series) const {
    auto it = samples.find(series);
    return it == samples.end() ? -1 : it->second;
  }
};

namespace internal {

inline bool name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// Reads a metric or label name at `pos`; empty if there is none.
inline std::string read_name(const std::string& line, std::size_t& pos, bool label) {
  const std::size_t start = pos;
  while (pos < line.size() && name_char(line[pos], pos == start) && !(label && line[pos] == ':')) {
    ++pos;
  }
  return line.substr(start, pos - start);
}

// "# HELP name text" / "# TYPE name type": the name and the rest, or false.
inline bool comment(const std::string& line, const std::string& kind, std::string& name,
                    std::string& rest) {
  const std::string prefix = "# " + kind + " ";
  if (line.rfind(prefix, 0) != 0) return false;
  std::size_t pos = prefix.size();
  name = read_name(line, pos, false);
  if (name.empty() || pos >= line.size() || line[pos] != ' ') return false;
  rest = line.substr(pos + 1);
  return true;
}

// A sample line: `name{label="value",...} value`; the series (as written) and the value.
inline bool sample(const std::string& line, std::string& series, std::string& value) {
  std::size_t pos = 0;
  if (read_name(line, pos, false).empty()) return false;
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      if (read_name(line, pos, true).empty()) return false;
      if (line.compare(pos, 2, "=\"") != 0) return false;
      pos += 2;
      while (pos < line.size() && line[pos] != '"') {
        if (line[pos] == '\\') {
          if (pos + 1 >= line.size()) return false;
          const char e = line[pos + 1];
          if (e != '\\' && e != '"' && e != 'n') return false;
          ++pos;
        }
        ++pos;
      }
      if (pos >= line.size()) return false;
      ++pos;  // the closing quote
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    if (pos >= line.size()) return false;
    ++pos;  // '}'
  }
  if (pos >= line.size() || line[pos] != ' ') return false;
  series = line.substr(0, pos);
  value = line.substr(pos + 1);
  return !value.empty() && value.find(' ') == std::string::npos;
}

}  // namespace internal

inline absl::StatusOr<Exposition> parse_exposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string name, rest, series, value;
    if (internal::comment(line, "TYPE", name, rest)) {
      if (rest != "counter" && rest != "gauge" && rest != "histogram") {
        return absl::InvalidArgumentError(absl::StrCat("line ", number, ": bad type ", rest));
      }
      if (!out.types.emplace(name, rest).second) {
        return absl::InvalidArgumentError(absl::StrCat("line ", number, ": second TYPE"));
      }
    } else if (internal::comment(line, "HELP", name, rest)) {
      out.help[name] = rest;
    } else if (internal::sample(line, series, value)) {
      double v = 0;
      if (value == "+Inf") {
        v = std::numeric_limits<double>::infinity();
      } else {
        std::size_t used = 0;
        try {
          v = std::stod(value, &used);
        } catch (...) {
          used = 0;
        }
        if (used != value.size()) {
          return absl::InvalidArgumentError(absl::StrCat("line ", number, ": bad value ", value));
        }
      }
      if (!out.samples.emplace(series, v).second) {
        return absl::InvalidArgumentError(absl::StrCat("line ", number, ": duplicate sample"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": not the format: ", line));
    }
  }
  return out;
}

}  // namespace telemetry::testing
