// CRC-32C known answers: RFC 3720 (iSCSI) appendix B.4, and the common "123456789" check value.
#include "storage/internal/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace storage::internal {
namespace {

std::string bytes_of(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

TEST(Crc32c, Rfc3720Vectors) {
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
  // An iSCSI SCSI Read (10) command PDU.
  const std::string pdu =
      bytes_of({0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
                0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(crc32c(pdu), 0xD9963A56u);
}

TEST(Crc32c, CheckValueAndEmpty) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ExtendEqualsWholeAtEverySplit) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const std::uint32_t whole = crc32c(data);
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    const std::string_view v(data);
    EXPECT_EQ(crc32c_extend(crc32c(v.substr(0, cut)), v.substr(cut)), whole) << cut;
  }
}

TEST(Crc32c, EveryBitFlipChangesTheValue) {
  std::string data(64, 'x');
  const std::uint32_t base = crc32c(data);
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    std::string flipped = data;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_NE(crc32c(flipped), base) << bit;
  }
}

// Both implementations agree, at every length and alignment (the hardware one reads 8 bytes at a
// time, so the tails and unaligned starts are where they could differ).
TEST(Crc32c, HardwareAndPortableAgree) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE 4.2 on this CPU";
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 131 + (i >> 3)));
  const std::string_view v(data);
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t len = 0; start + len <= data.size(); len += (len < 40 ? 1 : 97)) {
      const std::string_view part = v.substr(start, len);
      EXPECT_EQ(crc32c_extend_hardware(0x12345678u, part),
                crc32c_extend_portable(0x12345678u, part))
          << start << "+" << len;
    }
  }
  EXPECT_EQ(crc32c_extend_hardware(0, "123456789"), 0xE3069283u);
}

}  // namespace
}  // namespace storage::internal
