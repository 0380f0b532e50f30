#include "pipeline/config/duration.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "pipeline/config/internal/strings.h"

namespace pipeline {

using internal::append;
using internal::cat;
namespace {

// Same table as Go's unitMap (time/format.go).
struct Unit {
  std::string_view name;
  uint64_t nanos;
};
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1000},  // U+03BC Greek small letter mu
    {"ms", 1000 * 1000},
    {"s", 1000 * 1000 * 1000},
    {"m", 60ULL * 1000 * 1000 * 1000},
    {"h", 3600ULL * 1000 * 1000 * 1000},
};

// Largest magnitude: |INT64_MIN| (Go allows "-2562047h47m16.854775808s").
constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;

absl::Status bad_duration(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(cat("invalid duration \"", text, "\": ", why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads leading digits of *s into *value (saturating past kMaxMagnitude); returns how many.
size_t read_integer(std::string_view* s, uint64_t* value, bool* overflow) {
  size_t n = 0;
  *value = 0;
  while (n < s->size() && is_digit((*s)[n])) {
    uint64_t digit = static_cast<uint64_t>((*s)[n] - '0');
    if (*value > (kMaxMagnitude - digit) / 10) {
      *overflow = true;
    } else {
      *value = *value * 10 + digit;
    }
    ++n;
  }
  s->remove_prefix(n);
  return n;
}

// Reads a fraction's digits as value/scale, dropping digits past what scale can hold (Go's
// leadingFraction does the same).
void read_fraction(std::string_view* s, uint64_t* value, double* scale) {
  *value = 0;
  *scale = 1;
  bool saturated = false;
  size_t n = 0;
  while (n < s->size() && is_digit((*s)[n])) {
    if (!saturated) {
      uint64_t digit = static_cast<uint64_t>((*s)[n] - '0');
      if (*value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        saturated = true;
      } else {
        *value = *value * 10 + digit;
        *scale *= 10;
      }
    }
    ++n;
  }
  s->remove_prefix(n);
}

}  // namespace

absl::StatusOr<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return bad_duration(text, "it is empty");

  uint64_t total = 0;
  while (!s.empty()) {
    if (!is_digit(s[0]) && s[0] != '.') {
      return bad_duration(text, "expected a number before each unit");
    }
    bool overflow = false;
    uint64_t whole = 0;
    size_t whole_digits = read_integer(&s, &whole, &overflow);
    uint64_t fraction = 0;
    double scale = 1;
    bool has_fraction_digits = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t before = s.size();
      read_fraction(&s, &fraction, &scale);
      has_fraction_digits = s.size() != before;
    }
    if (whole_digits == 0 && !has_fraction_digits) {
      return bad_duration(text, "expected digits around \".\"");
    }
    if (overflow) return bad_duration(text, "it is out of range");

    size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
    std::string_view unit_text = s.substr(0, unit_len);
    s.remove_prefix(unit_len);
    if (unit_text.empty()) {
      return bad_duration(
          text, "a number needs a unit (ns, us, ms, s, m or h), e.g. \"5s\" or \"200ms\"");
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_text) unit = &u;
    }
    if (unit == nullptr) {
      return bad_duration(text, cat("unknown unit \"", unit_text, "\"; use ns, us, ms, s, m or h"));
    }

    if (whole > kMaxMagnitude / unit->nanos) return bad_duration(text, "it is out of range");
    uint64_t part = whole * unit->nanos;
    if (fraction > 0) {
      // Go computes fraction * unit / scale in float64 and adds it; so do we.
      part += static_cast<uint64_t>(static_cast<double>(fraction) *
                                    (static_cast<double>(unit->nanos) / scale));
      if (part > kMaxMagnitude) return bad_duration(text, "it is out of range");
    }
    if (part > kMaxMagnitude - total) return bad_duration(text, "it is out of range");
    total += part;
  }
  if (negative) {
    return std::chrono::nanoseconds(static_cast<int64_t>(0 - total));
  }
  if (total > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return bad_duration(text, "it is out of range");
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

std::string format_duration(std::chrono::nanoseconds duration) {
  int64_t ns = duration.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  // Magnitude as unsigned so INT64_MIN works.
  uint64_t u = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);

  auto fraction_text = [](uint64_t value, int digits) {
    // value has `digits` decimal places; print without trailing zeros (Go's fmtFrac).
    std::string frac(static_cast<size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
      frac[static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return frac.empty() ? std::string() : cat(".", frac);
  };

  constexpr uint64_t kSecond = 1000000000;
  if (u < kSecond) {
    // Below one second Go uses the largest of ns, µs, ms that keeps an integer part.
    if (u < 1000) return cat(sign, u, "ns");
    if (u < 1000000) return cat(sign, u / 1000, fraction_text(u % 1000, 3), "\xC2\xB5s");
    return cat(sign, u / 1000000, fraction_text(u % 1000000, 6), "ms");
  }
  uint64_t seconds = u / kSecond;
  std::string out = cat(seconds % 60, fraction_text(u % kSecond, 9), "s");
  uint64_t minutes = seconds / 60;
  if (minutes > 0) {
    out = cat(minutes % 60, "m", out);
    uint64_t hours = minutes / 60;
    if (hours > 0) out = cat(hours, "h", out);
  }
  return sign + out;
}

}  // namespace pipeline
