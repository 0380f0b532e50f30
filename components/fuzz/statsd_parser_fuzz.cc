// libFuzzer target for the statsd receiver's parser (receivers/statsd/statsd_parser.h): any
// line. A parsed sample has a name, a known type, a sample rate in (0, 1], a finite value, and
// tags sorted as the contract says; sets carry their member.
//
// Input: the line.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "components/receivers/statsd/statsd_parser.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<components::StatsdSample> sample = components::parse_statsd_line(line);
  if (!sample.ok()) {
    check(!sample.status().message().empty());
    return 0;
  }
  check(!sample->name.empty());
  check(sample->sample_rate > 0 && sample->sample_rate <= 1);
  check(!components::statsd_type_name(sample->type).empty());
  if (sample->type != components::StatsdType::kSet) check(std::isfinite(sample->value));
  check(std::is_sorted(sample->tags.begin(), sample->tags.end()));
  check(sample->name.size() <= line.size());
  return 0;
}
