#include "otlp/compression.h"

#include <gtest/gtest.h>

#include <chrono>

#include "otlp/errors.h"
#include "otlp/testing/random_requests.h"

namespace otlp {
namespace {

constexpr Compression kCodecs[] = {Compression::kGzip, Compression::kDeflate, Compression::kZstd};

std::string payload() { return testing::random_traces(7).SerializeAsString(); }

TEST(Compression, ParsesContentEncodingNames) {
  EXPECT_EQ(parse_compression("gzip"), Compression::kGzip);
  EXPECT_EQ(parse_compression(" GZIP "), Compression::kGzip);
  EXPECT_EQ(parse_compression("x-gzip"), Compression::kGzip);
  EXPECT_EQ(parse_compression("deflate"), Compression::kDeflate);
  EXPECT_EQ(parse_compression("zstd"), Compression::kZstd);
  EXPECT_EQ(parse_compression(""), Compression::kNone);
  EXPECT_EQ(parse_compression("identity"), Compression::kNone);
  EXPECT_EQ(parse_compression("br"), std::nullopt);
  for (Compression c : kCodecs) EXPECT_EQ(parse_compression(compression_name(c)), c);
}

TEST(Compression, EveryCodecRoundTrips) {
  const std::string input = payload();
  for (Compression c : kCodecs) {
    for (const std::string& data : {input, std::string(), std::string(1 << 20, 'x')}) {
      absl::StatusOr<std::string> packed = compress(c, data);
      ASSERT_TRUE(packed.ok()) << compression_name(c);
      absl::StatusOr<std::string> unpacked = decompress(c, *packed);
      ASSERT_TRUE(unpacked.ok()) << compression_name(c) << ": " << unpacked.status();
      EXPECT_EQ(*unpacked, data) << compression_name(c);
    }
  }
  EXPECT_EQ(*decompress(Compression::kNone, input), input);
}

TEST(Compression, ExactlyAtTheCapIsAccepted) {
  const std::string data(100000, 'a');
  for (Compression c : kCodecs) {
    EXPECT_TRUE(decompress(c, *compress(c, data), data.size()).ok()) << compression_name(c);
  }
}

TEST(Compression, BombsAreTheirOwnErrorAndCaughtEarly) {
  // 256 MiB of zeros compresses to a few hundred KiB; the cap is 1 MiB.
  const std::string zeros(256u << 20, '\0');
  for (Compression c : kCodecs) {
    std::string bomb = *compress(c, zeros, c == Compression::kZstd ? 19 : 9);
    ASSERT_LT(bomb.size(), 1u << 20);
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> out = decompress(c, bomb, 1u << 20);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(error_kind(out.status()), ErrorKind::kDecompressionBomb) << compression_name(c);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
    // Stopping at the cap means doing a tiny fraction of the full inflate.
    EXPECT_LT(elapsed, std::chrono::milliseconds(200)) << compression_name(c);
  }
  // Uncompressed input over the cap is simply too large.
  EXPECT_EQ(error_kind(decompress(Compression::kNone, zeros, 10).status()),
            ErrorKind::kMessageTooLarge);
}

TEST(Compression, ZstdFrameThatDeclaresATooLargeSizeIsRefusedUpFront) {
  std::string frame = *compress(Compression::kZstd, std::string(5000, 'z'));
  absl::StatusOr<std::string> out = decompress(Compression::kZstd, frame, 4999);
  EXPECT_EQ(error_kind(out.status()), ErrorKind::kDecompressionBomb);
}

TEST(Compression, CorruptTruncatedOrTrailingInputIsMalformed) {
  const std::string input = payload();
  for (Compression c : kCodecs) {
    std::string packed = *compress(c, input);
    std::string truncated = packed.substr(0, packed.size() / 2);
    EXPECT_EQ(error_kind(decompress(c, truncated).status()), ErrorKind::kMalformed)
        << compression_name(c);
    std::string corrupt = packed;
    for (size_t i = 4; i < corrupt.size(); i += 7) corrupt[i] ^= 0x5a;
    EXPECT_EQ(error_kind(decompress(c, corrupt).status()), ErrorKind::kMalformed)
        << compression_name(c);
    EXPECT_EQ(error_kind(decompress(c, packed + "junk").status()), ErrorKind::kMalformed)
        << compression_name(c);
    EXPECT_EQ(error_kind(decompress(c, "").status()), ErrorKind::kMalformed) << compression_name(c);
    EXPECT_EQ(error_kind(decompress(c, "not compressed at all").status()), ErrorKind::kMalformed)
        << compression_name(c);
  }
}

TEST(Compression, GzipAcceptsConcatenatedMembers) {
  std::string two =
      *compress(Compression::kGzip, "hello ") + *compress(Compression::kGzip, "world");
  EXPECT_EQ(*decompress(Compression::kGzip, two), "hello world");
}

TEST(Compression, ZstdAcceptsConcatenatedFrames) {
  std::string two =
      *compress(Compression::kZstd, "hello ") + *compress(Compression::kZstd, "world");
  EXPECT_EQ(*decompress(Compression::kZstd, two), "hello world");
}

TEST(Compression, DeflateAcceptsRawStreamsToo) {
  // A zlib stream minus its 2-byte header and 4-byte checksum is raw deflate.
  std::string zlib = *compress(Compression::kDeflate, "raw deflate body");
  std::string raw = zlib.substr(2, zlib.size() - 6);
  EXPECT_EQ(*decompress(Compression::kDeflate, raw), "raw deflate body");
}

}  // namespace
}  // namespace otlp
