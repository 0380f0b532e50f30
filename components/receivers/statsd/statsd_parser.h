#pragma once
// StatsD lines, with the DogStatsD extensions that clients send (tags, sample rates):
//
//   <name>:<value>|<type>[|@<sample rate>][|#<tag>[:<value>],...][|c:<container>][|T<ts>]
//
// types: c (counter), g (gauge; a leading + or - adjusts the current value), ms (timer),
// h (histogram), d (distribution), s (set). A datagram may hold several lines ('\n').
//
// Contract: parse_statsd_line never throws and reads nothing outside `line`; a line that does
// not follow the format is an error naming what is wrong. Unknown DogStatsD sections
// (container id, timestamps) are skipped.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace components {

enum class StatsdType { kCounter, kGauge, kTimer, kHistogram, kDistribution, kSet };

struct StatsdSample {
  std::string name;
  StatsdType type = StatsdType::kCounter;
  double value = 0;        // all but sets
  std::string set_member;  // sets: the member as sent
  bool relative = false;   // gauges: "+N" / "-N" adjust the current value
  double sample_rate = 1;  // in (0, 1]
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key, then value
};

absl::StatusOr<StatsdSample> parse_statsd_line(std::string_view line);

// "counter", "gauge", "timing", "histogram", "distribution", "set": the metric_type attribute.
std::string_view statsd_type_name(StatsdType type);

}  // namespace components
