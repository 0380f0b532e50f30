// Frames, the scan rules of internal/frame.h, the manifest codec and segment names.
#include "storage/internal/frame.h"

#include <gtest/gtest.h>

#include <vector>

#include "storage/internal/log_files.h"
#include "storage/internal/manifest.h"

namespace storage::internal {
namespace {

std::string frames_of(const std::vector<std::string>& payloads) {
  std::string out;
  for (const auto& p : payloads) append_frame(&out, p);
  return out;
}

std::vector<FrameInfo> scan_all(std::string_view data, ScanResult* result, bool final_is_torn,
                                std::uint64_t max_frames = UINT64_MAX) {
  std::vector<FrameInfo> seen;
  *result = scan_frames(data, 1024, max_frames, final_is_torn,
                        [&](const FrameInfo& f) { seen.push_back(f); });
  return seen;
}

TEST(Frame, RoundTripsAndDelimits) {
  const std::string data = frames_of({"alpha", "", std::string(300, 'z')});
  ScanResult r;
  const auto seen = scan_all(data, &r, true);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(r.frames, 3u);
  EXPECT_EQ(r.corrupt_frames, 0u);
  EXPECT_EQ(r.end_offset, data.size());
  EXPECT_EQ(r.dropped_bytes, 0u);
  EXPECT_EQ(seen[1].offset, frame_bytes(5));
  EXPECT_EQ(seen[1].length, 0u);
  EXPECT_EQ(seen[2].length, 300u);
  FrameHeader h;
  EXPECT_EQ(check_frame(data, 1024, &h), FrameStatus::kOk);
  EXPECT_EQ(h.length, 5u);
}

TEST(Frame, ZeroedHeaderIsNotAnEmptyRecord) {
  FrameHeader h;
  EXPECT_EQ(check_frame(std::string(8, '\0'), 1024, &h), FrameStatus::kBadChecksum);
}

TEST(Frame, TornTailStopsTheScan) {
  const std::string whole = frames_of({"one", "two", "three"});
  for (std::size_t cut = 1; cut < frame_bytes(5); ++cut) {
    ScanResult r;
    scan_all(whole.substr(0, whole.size() - cut), &r, true);
    EXPECT_EQ(r.frames, 2u) << cut;
    EXPECT_EQ(r.end_offset, 2 * kFrameHeaderBytes + 6) << cut;
    EXPECT_EQ(r.dropped_bytes, frame_bytes(5) - cut) << cut;
  }
}

TEST(Frame, PayloadBitFlipKeepsItsPlace) {
  std::string data = frames_of({"first", "second", "third"});
  data[frame_bytes(5) + kFrameHeaderBytes + 2] ^= 0x10;  // inside "second"
  ScanResult r;
  const auto seen = scan_all(data, &r, true);
  ASSERT_EQ(r.frames, 3u);
  EXPECT_EQ(r.corrupt_frames, 1u);
  EXPECT_TRUE(seen[0].intact);
  EXPECT_FALSE(seen[1].intact);
  EXPECT_TRUE(seen[2].intact);
}

TEST(Frame, CorruptLastFrameIsTornOnlyInTheNewestSegment) {
  std::string data = frames_of({"first", "second"});
  data[data.size() - 1] ^= 1;
  ScanResult torn;
  scan_all(data, &torn, /*final_is_torn=*/true);
  EXPECT_EQ(torn.frames, 1u);
  EXPECT_EQ(torn.dropped_bytes, frame_bytes(6));
  ScanResult kept;
  scan_all(data, &kept, /*final_is_torn=*/false);
  EXPECT_EQ(kept.frames, 2u);
  EXPECT_EQ(kept.corrupt_frames, 1u);
}

TEST(Frame, CorruptLengthEndsTheSegment) {
  std::string data = frames_of({"first", "second", "third"});
  data[frame_bytes(5)] ^= 0x03;  // the length of "second": 6 -> 5
  ScanResult r;
  scan_all(data, &r, false);
  EXPECT_EQ(r.frames, 1u);
  EXPECT_EQ(r.stop_reason, FrameStatus::kBadChecksum);
  EXPECT_EQ(r.dropped_bytes, data.size() - frame_bytes(5));
}

TEST(Frame, ImpossibleLengthEndsTheSegment) {
  std::string data = frames_of({"first"});
  std::string huge(8, '\0');
  put_le32(huge.data(), 5000);  // above the 1024 limit
  data += huge + std::string(5000, 'x');
  ScanResult r;
  scan_all(data, &r, false);
  EXPECT_EQ(r.frames, 1u);
  EXPECT_EQ(r.stop_reason, FrameStatus::kBadLength);
}

TEST(Frame, MaxFramesCapsTheCount) {
  const std::string data = frames_of({"a", "b", "c", "d"});
  ScanResult r;
  scan_all(data, &r, false, 2);
  EXPECT_EQ(r.frames, 2u);
  EXPECT_TRUE(r.hit_max_frames);
  EXPECT_EQ(r.dropped_bytes, 2 * frame_bytes(1));
}

TEST(Manifest, RoundTrip) {
  Manifest m;
  m.cursor = 1234567890123ull;
  m.attempts = {{1234567890123ull, 3}, {1234567890200ull, 9}};
  absl::StatusOr<Manifest> back = decode_manifest(encode_manifest(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->cursor, m.cursor);
  EXPECT_EQ(back->attempts, m.attempts);
}

TEST(Manifest, EveryDamageIsDetected) {
  Manifest m;
  m.cursor = 42;
  m.attempts = {{42, 1}};
  const std::string good = encode_manifest(m);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(decode_manifest(good.substr(0, cut)).ok()) << cut;
  }
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::string bad = good;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(decode_manifest(bad).ok()) << bit;
  }
  EXPECT_FALSE(decode_manifest(good + "x").ok());
}

TEST(Manifest, KeepsAtMostTheBoundOfAttempts) {
  Manifest m;
  for (std::uint64_t i = 0; i < kMaxManifestAttempts + 10; ++i) m.attempts.emplace_back(i, 1);
  const std::string bytes = encode_manifest(m);
  EXPECT_LE(bytes.size(), kMaxManifestBytes);
  absl::StatusOr<Manifest> back = decode_manifest(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->attempts.size(), kMaxManifestAttempts);
}

TEST(SegmentName, RoundTripAndStrictParse) {
  EXPECT_EQ(segment_file_name(42), "00000000000000000042.seg");
  EXPECT_EQ(parse_segment_file_name(segment_file_name(42)), 42u);
  EXPECT_EQ(parse_segment_file_name(segment_file_name(kMaxSequence)), kMaxSequence);
  EXPECT_FALSE(parse_segment_file_name(segment_file_name(kMaxSequence + 1)));
  EXPECT_FALSE(parse_segment_file_name("42.seg"));
  EXPECT_FALSE(parse_segment_file_name("0000000000000000004x.seg"));
  EXPECT_FALSE(parse_segment_file_name("99999999999999999999.seg"));  // beyond u64
  EXPECT_FALSE(parse_segment_file_name("00000000000000000042.log"));
  EXPECT_FALSE(parse_segment_file_name("MANIFEST"));
}

}  // namespace
}  // namespace storage::internal
