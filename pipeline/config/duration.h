#pragma once
// Go duration strings (time.ParseDuration), the format every Collector config uses for
// timeouts and intervals: "200ms", "5s", "1m30s", "1.5h", "-2s", "0".
//
// Contract:
//  - parse_duration() accepts exactly what Go accepts: an optional sign, then one or more
//    decimal numbers (with optional fraction) each followed by a unit — ns, us (or µs / μs),
//    ms, s, m, h — or the bare "0". Results that do not fit in int64 nanoseconds (about 292
//    years) are errors, as in Go.
//  - A bare number other than 0 is rejected, with a message that says a unit is needed: in
//    the Collector a plain `timeout: 5` silently means 5 nanoseconds, which is never meant.
//  - format_duration() writes Go's String() form ("1m30s", "200ms", "0s"); parse_duration
//    reads it back to the same value.
//  - Errors are InvalidArgument with a message that quotes the input; nothing throws.

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pipeline {

absl::StatusOr<std::chrono::nanoseconds> parse_duration(std::string_view text);

std::string format_duration(std::chrono::nanoseconds duration);

}  // namespace pipeline
