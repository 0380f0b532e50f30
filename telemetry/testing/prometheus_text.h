#pragma once
// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every sample
// line becomes "name{labels}" -> value, exactly as written; # HELP and # TYPE lines are
// collected; any other line is an error. Tests check otlpd's /metrics with it.

#include <limits>
#include <map>
#include <regex>
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

inline absl::StatusOr<Exposition> parse_exposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  static const std::regex sample(
      R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? ([^ ]+)$)re");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  static const std::regex help(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$)");
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::smatch m;
    if (std::regex_match(line, m, type)) {
      if (!out.types.emplace(m[1], m[2]).second) {
        return absl::InvalidArgumentError(absl::StrCat("line ", number, ": second TYPE"));
      }
    } else if (std::regex_match(line, m, help)) {
      out.help[m[1]] = m[2];
    } else if (std::regex_match(line, m, sample)) {
      const std::string value = m[3].str();
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
      if (!out.samples.emplace(m[1].str() + m[2].str(), v).second) {
        return absl::InvalidArgumentError(absl::StrCat("line ", number, ": duplicate sample"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": not the format: ", line));
    }
  }
  return out;
}

}  // namespace telemetry::testing
