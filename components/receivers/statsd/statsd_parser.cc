#include "components/receivers/statsd/statsd_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace components {

namespace {

absl::Status bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("statsd: ", std::string(what)));
}

// A finite double from all of `s` (no spaces, no hex, no inf/nan).
bool parse_double(std::string_view s, double& out) {
  if (s.empty()) return false;
  const char* begin = s.data();
  if (*begin == '+') ++begin;  // from_chars refuses a leading '+'
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

}  // namespace

std::string_view statsd_type_name(StatsdType type) {
  switch (type) {
    case StatsdType::kCounter:
      return "counter";
    case StatsdType::kGauge:
      return "gauge";
    case StatsdType::kTimer:
      return "timing";
    case StatsdType::kHistogram:
      return "histogram";
    case StatsdType::kDistribution:
      return "distribution";
    case StatsdType::kSet:
      return "set";
  }
  return "";
}

absl::StatusOr<StatsdSample> parse_statsd_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  StatsdSample s;
  const std::size_t colon = line.find(':');
  const std::size_t first_bar = line.find('|');
  if (colon == std::string_view::npos || colon == 0 || first_bar == std::string_view::npos ||
      first_bar < colon) {
    return bad("a line must be <name>:<value>|<type>");
  }
  s.name = std::string(line.substr(0, colon));
  const std::string_view value = line.substr(colon + 1, first_bar - colon - 1);
  std::string_view rest = line.substr(first_bar + 1);
  const std::size_t next_bar = rest.find('|');
  const std::string_view type = rest.substr(0, next_bar);
  rest = next_bar == std::string_view::npos ? std::string_view() : rest.substr(next_bar + 1);
  if (type == "c") {
    s.type = StatsdType::kCounter;
  } else if (type == "g") {
    s.type = StatsdType::kGauge;
  } else if (type == "ms") {
    s.type = StatsdType::kTimer;
  } else if (type == "h") {
    s.type = StatsdType::kHistogram;
  } else if (type == "d") {
    s.type = StatsdType::kDistribution;
  } else if (type == "s") {
    s.type = StatsdType::kSet;
  } else {
    return bad(absl::StrCat("unknown type \"", std::string(type), "\" of ", s.name));
  }
  if (s.type == StatsdType::kSet) {
    if (value.empty()) return bad(absl::StrCat("empty set member for ", s.name));
    s.set_member = std::string(value);
  } else {
    if (!parse_double(value, s.value)) {
      return bad(absl::StrCat("value \"", std::string(value), "\" of ", s.name,
                              " is not a finite number"));
    }
    s.relative = s.type == StatsdType::kGauge && (value[0] == '+' || value[0] == '-');
  }
  while (!rest.empty()) {
    const std::size_t bar = rest.find('|');
    const std::string_view section = rest.substr(0, bar);
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    if (section.empty()) continue;
    if (section[0] == '@') {
      double rate = 0;
      if (!parse_double(section.substr(1), rate) || rate <= 0 || rate > 1) {
        return bad(absl::StrCat("sample rate \"", std::string(section.substr(1)), "\" of ", s.name,
                                " is not in (0, 1]"));
      }
      s.sample_rate = rate;
    } else if (section[0] == '#') {
      std::string_view tags = section.substr(1);
      while (!tags.empty()) {
        const std::size_t comma = tags.find(',');
        const std::string_view tag = tags.substr(0, comma);
        tags = comma == std::string_view::npos ? std::string_view() : tags.substr(comma + 1);
        if (tag.empty()) continue;
        const std::size_t sep = tag.find(':');
        if (sep == 0) return bad(absl::StrCat("a tag of ", s.name, " has no key"));
        s.tags.emplace_back(
            std::string(tag.substr(0, sep)),
            sep == std::string_view::npos ? std::string() : std::string(tag.substr(sep + 1)));
      }
    }
    // Other DogStatsD sections (c: container id, T timestamp, e: external data) carry
    // nothing the metric needs.
  }
  std::sort(s.tags.begin(), s.tags.end());
  return s;
}

}  // namespace components
