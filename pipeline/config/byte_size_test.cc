#include "pipeline/config/byte_size.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

TEST(ParseByteSize, IntegersAndUnits) {
  struct Case {
    const char* text;
    uint64_t want;
  };
  for (const Case& c :
       {Case{"0", 0}, Case{"4096", 4096}, Case{"12B", 12}, Case{"512KiB", 512 * 1024},
        Case{"64MiB", 64ull << 20}, Case{"64 MiB", 64ull << 20}, Case{"2GiB", 2ull << 30},
        Case{"1TiB", 1ull << 40}, Case{"5KB", 5000}, Case{"3MB", 3000000}, Case{"1GB", 1000000000},
        Case{"1TB", 1000000000000ull}, Case{"8mib", 8ull << 20}, Case{" 7kb ", 7000},
        Case{"18446744073709551615", 18446744073709551615ull}}) {
    absl::StatusOr<uint64_t> got = parse_byte_size(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseByteSize, RejectsWithAHint) {
  EXPECT_EQ(message_of(parse_byte_size("64M").status()),
            "invalid byte size \"64M\": unknown unit \"M\"; use B, KiB, MiB, GiB, TiB (powers of "
            "1024) or KB, MB, GB, TB (powers of 1000)");
  EXPECT_EQ(message_of(parse_byte_size("1.5GiB").status()),
            "invalid byte size \"1.5GiB\": fractions are not supported; use a smaller unit (e.g. "
            "\"1536MiB\" instead of \"1.5GiB\")");
  EXPECT_EQ(message_of(parse_byte_size("lots").status()),
            "invalid byte size \"lots\": expected a whole number of bytes, optionally with a unit "
            "such as KiB, MiB, GiB, KB, MB or GB (e.g. \"64MiB\")");
  EXPECT_FALSE(parse_byte_size("-1").ok());
  EXPECT_FALSE(parse_byte_size("").ok());
  EXPECT_EQ(message_of(parse_byte_size("18446744073709551616").status()),
            "invalid byte size \"18446744073709551616\": it is too large");
  EXPECT_EQ(message_of(parse_byte_size("20000000TiB").status()),
            "invalid byte size \"20000000TiB\": it is too large");
}

TEST(MibToBytes, ScalesAndChecksOverflow) {
  EXPECT_EQ(*mib_to_bytes(0), 0u);
  EXPECT_EQ(*mib_to_bytes(4000), 4000ull << 20);
  EXPECT_EQ(*mib_to_bytes((uint64_t{1} << 44) - 1), ((uint64_t{1} << 44) - 1) << 20);
  EXPECT_EQ(message_of(mib_to_bytes(uint64_t{1} << 44).status()),
            "17592186044416 MiB is too large");
}

}  // namespace
}  // namespace pipeline
