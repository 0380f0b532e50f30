#pragma once
// Byte sizes in configuration: a plain integer is bytes (the Collector's convention, e.g. the
// OTLP/HTTP receiver's `max_request_body_size`), and a string may carry a unit: "512KiB",
// "64 MiB", "1GB".
//
// Contract:
//  - Accepted: an unsigned decimal integer, optionally followed (after optional spaces) by a
//    unit. Binary units KiB, MiB, GiB, TiB are powers of 1024; decimal units KB, MB, GB, TB
//    are powers of 1000; B is bytes. Units are matched case-insensitively ("mib" = "MiB").
//    Fractions ("1.5GiB") and single letters ("64M", ambiguous between 10^6 and 2^20) are
//    rejected with a message that suggests a form that works.
//  - Results above 2^64-1 are errors.
//  - mib_to_bytes() scales a count of mebibytes (memory_limiter's `limit_mib`) to bytes,
//    failing on overflow.
//  - Errors are InvalidArgument with a message that quotes the input; nothing throws.

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace pipeline {

absl::StatusOr<uint64_t> parse_byte_size(std::string_view text);

absl::StatusOr<uint64_t> mib_to_bytes(uint64_t mib);

}  // namespace pipeline
