#include "pipeline/config/byte_size.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "pipeline/config/internal/strings.h"

namespace pipeline {

using internal::append;
using internal::cat;
namespace {

struct ByteUnit {
  std::string_view name;
  uint64_t multiplier;
};
constexpr uint64_t kKi = 1024;
constexpr uint64_t kK = 1000;
constexpr ByteUnit kByteUnits[] = {
    {"B", 1},
    {"KiB", kKi},
    {"MiB", kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
    {"KB", kK},
    {"MB", kK* kK},
    {"GB", kK* kK* kK},
    {"TB", kK* kK* kK* kK},
};

absl::Status bad_size(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(cat("invalid byte size \"", text, "\": ", why));
}

}  // namespace

absl::StatusOr<uint64_t> parse_byte_size(std::string_view text) {
  std::string_view s = internal::sv(absl::StripAsciiWhitespace(internal::av(text)));
  size_t digits = 0;
  uint64_t value = 0;
  while (digits < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[digits]))) {
    uint64_t digit = static_cast<uint64_t>(s[digits] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return bad_size(text, "it is too large");
    }
    value = value * 10 + digit;
    ++digits;
  }
  if (digits == 0) {
    return bad_size(text,
                    "expected a whole number of bytes, optionally with a unit such as "
                    "KiB, MiB, GiB, KB, MB or GB (e.g. \"64MiB\")");
  }
  std::string_view unit =
      internal::sv(absl::StripLeadingAsciiWhitespace(internal::av(s.substr(digits))));
  if (unit.empty()) return value;
  if (unit[0] == '.') {
    return bad_size(text,
                    "fractions are not supported; use a smaller unit (e.g. \"1536MiB\" "
                    "instead of \"1.5GiB\")");
  }
  for (const ByteUnit& u : kByteUnits) {
    if (!absl::EqualsIgnoreCase(internal::av(u.name), internal::av(unit))) continue;
    if (value > std::numeric_limits<uint64_t>::max() / u.multiplier) {
      return bad_size(text, "it is too large");
    }
    return value * u.multiplier;
  }
  return bad_size(text, cat("unknown unit \"", unit,
                            "\"; use B, KiB, MiB, GiB, TiB (powers of 1024) or KB, "
                            "MB, GB, TB (powers of 1000)"));
}

absl::StatusOr<uint64_t> mib_to_bytes(uint64_t mib) {
  constexpr uint64_t kMiB = kKi * kKi;
  if (mib > std::numeric_limits<uint64_t>::max() / kMiB) {
    return absl::InvalidArgumentError(cat(mib, " MiB is too large"));
  }
  return mib * kMiB;
}

}  // namespace pipeline
