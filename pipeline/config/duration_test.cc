#include "pipeline/config/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace pipeline {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

TEST(ParseDuration, GoForms) {
  struct Case {
    const char* text;
    nanoseconds want;
  };
  for (const Case& c : {
           Case{"0", 0ns},
           Case{"-0", 0ns},
           Case{"200ms", 200ms},
           Case{"5s", 5s},
           Case{"1m30s", 90s},
           Case{"1h", 1h},
           Case{"1.5h", 90min},
           Case{".5s", 500ms},
           Case{"1.s", 1s},
           Case{"-2s", -2s},
           Case{"+3ms", 3ms},
           Case{"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
           Case{"10\xC2\xB5s", 10us},  // µ (micro sign)
           Case{"10\xCE\xBCs", 10us},  // μ (Greek mu)
           Case{"0.000000001s", 1ns},
           Case{"2562047h47m16.854775807s", nanoseconds(std::numeric_limits<int64_t>::max())},
           Case{"-2562047h47m16.854775808s", nanoseconds(std::numeric_limits<int64_t>::min())},
       }) {
    absl::StatusOr<nanoseconds> got = parse_duration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(got->count(), c.want.count()) << c.text;
  }
}

TEST(ParseDuration, BareNumbersNeedAUnit) {
  EXPECT_EQ(message_of(parse_duration("5").status()),
            "invalid duration \"5\": a number needs a unit (ns, us, ms, s, m or h), e.g. \"5s\" "
            "or \"200ms\"");
  EXPECT_EQ(message_of(parse_duration("1.5").status()),
            "invalid duration \"1.5\": a number needs a unit (ns, us, ms, s, m or h), e.g. "
            "\"5s\" or \"200ms\"");
  EXPECT_EQ(message_of(parse_duration("1s5").status()),
            "invalid duration \"1s5\": a number needs a unit (ns, us, ms, s, m or h), e.g. "
            "\"5s\" or \"200ms\"");
}

TEST(ParseDuration, RejectsWhatGoRejects) {
  EXPECT_EQ(message_of(parse_duration("").status()), "invalid duration \"\": it is empty");
  EXPECT_EQ(message_of(parse_duration("-").status()), "invalid duration \"-\": it is empty");
  EXPECT_EQ(message_of(parse_duration("5d").status()),
            "invalid duration \"5d\": unknown unit \"d\"; use ns, us, ms, s, m or h");
  EXPECT_EQ(message_of(parse_duration("5 s").status()),
            "invalid duration \"5 s\": unknown unit \" s\"; use ns, us, ms, s, m or h");
  EXPECT_EQ(message_of(parse_duration("s").status()),
            "invalid duration \"s\": expected a number before each unit");
  EXPECT_EQ(message_of(parse_duration(".s").status()),
            "invalid duration \".s\": expected digits around \".\"");
  EXPECT_EQ(message_of(parse_duration("2562047h47m16.854775808s").status()),
            "invalid duration \"2562047h47m16.854775808s\": it is out of range");
  EXPECT_EQ(message_of(parse_duration("9999999999999999999h").status()),
            "invalid duration \"9999999999999999999h\": it is out of range");
  EXPECT_FALSE(parse_duration("3000000h").ok());
}

TEST(FormatDuration, GoStringForm) {
  EXPECT_EQ(format_duration(0ns), "0s");
  EXPECT_EQ(format_duration(1ns), "1ns");
  EXPECT_EQ(format_duration(1500ns), "1.5\xC2\xB5s");  // Go writes U+00B5
  EXPECT_EQ(format_duration(200ms), "200ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(1h), "1h0m0s");
  EXPECT_EQ(format_duration(-2s), "-2s");
  EXPECT_EQ(format_duration(nanoseconds(std::numeric_limits<int64_t>::min())),
            "-2562047h47m16.854775808s");
}

TEST(FormatDuration, RoundTrips) {
  for (nanoseconds d :
       std::initializer_list<nanoseconds>{1ns, 999ns, 1us, 1234567ns, 1s, 61s, 3601s + 1ns, -5min,
                                          nanoseconds(std::numeric_limits<int64_t>::max())}) {
    absl::StatusOr<nanoseconds> back = parse_duration(format_duration(d));
    ASSERT_TRUE(back.ok()) << format_duration(d);
    EXPECT_EQ(back->count(), d.count()) << format_duration(d);
  }
}

}  // namespace
}  // namespace pipeline
