// Recovery on the real file system (a temporary directory): segments truncated, bit-flipped,
// zero-filled or stuffed with junk by hand, a corrupt manifest, stray files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "storage/durable_log.h"
#include "storage/internal/frame.h"
#include "storage/internal/log_files.h"

namespace storage {
namespace {

namespace fsys = std::filesystem;

class PosixRecovery : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fsys::temp_directory_path() / "otlpd-log-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    options_.max_segment_bytes = 1024;
    options_.max_total_bytes = 1 << 20;
    options_.max_record_bytes = 512;
    options_.free_space_reserve = 0;
  }
  void TearDown() override { fsys::remove_all(dir_); }

  std::unique_ptr<DurableLog> open() {
    auto log = DurableLog::open(posix_file_system(), dir_, options_);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  // Appends n records of 100 bytes (108-byte frames: 9 per segment) and closes the log.
  void fill(int n) {
    auto log = open();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(log->append_blocking(payload(i)).ok());
  }

  static std::string payload(int i) {
    std::string s = "payload-" + std::to_string(i) + "-";
    s.resize(100, static_cast<char>('a' + i % 26));
    return s;
  }

  std::string segment(std::uint64_t first) const {
    return dir_ + "/" + internal::segment_file_name(first);
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void write(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  std::vector<Record> drain(DurableLog& log) {
    std::vector<Record> out;
    for (;;) {
      auto r = log.try_next();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || !r->has_value()) return out;
      out.push_back(**r);
    }
  }

  std::string dir_;
  DurableLogOptions options_;
};

TEST_F(PosixRecovery, CleanReopenRecoversEverything) {
  fill(20);
  auto log = open();
  const auto got = drain(*log);
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i].payload, payload(i));
  EXPECT_EQ(log->stats().recovery.records_recovered, 20u);
  EXPECT_EQ(log->stats().recovery.manifest, ManifestState::kOk);
}

TEST_F(PosixRecovery, TruncatedTailIsCutAndCounted) {
  fill(12);  // segments 0 (9 records) and 9 (3 records)
  const std::string last = segment(9);
  const std::string bytes = read(last);
  write(last, bytes.substr(0, bytes.size() - 50));  // half of record 11
  auto log = open();
  const auto got = drain(*log);
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(got.back().payload, payload(10));
  const RecoveryStats rs = log->stats().recovery;
  EXPECT_EQ(rs.torn_bytes_truncated, 58u);
  EXPECT_EQ(rs.records_recovered, 11u);
  EXPECT_EQ(fsys::file_size(last), 2u * 108);
  // Numbering goes on after the last whole record.
  auto seq = log->append_blocking("next");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 11u);
}

TEST_F(PosixRecovery, BitFlipInAPayloadSkipsThatRecordOnly) {
  fill(9);
  std::string bytes = read(segment(0));
  bytes[3 * 108 + 8 + 40] ^= 0x04;  // inside record 3's payload
  write(segment(0), bytes);
  auto log = open();
  EXPECT_EQ(log->stats().recovery.corrupt_records_skipped, 1u);
  const auto got = drain(*log);
  ASSERT_EQ(got.size(), 8u);
  EXPECT_EQ(got[2].seq, 2u);
  EXPECT_EQ(got[3].seq, 4u);  // 3 keeps its number, and is never delivered
  EXPECT_EQ(got[3].payload, payload(4));
  const DurableLogStats s = log->stats();
  EXPECT_EQ(s.corrupt_skipped, 1u);
  EXPECT_EQ(s.recovered, 9u);
  for (const Record& r : got) ASSERT_TRUE(log->ack(r.seq).ok());
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().persisted_cursor, 9u);  // the corrupt one is settled too
  EXPECT_EQ(log->stats().pending, 0u);
}

TEST_F(PosixRecovery, BitFlipInALengthDropsTheRestOfThatSegment) {
  fill(12);
  std::string bytes = read(segment(0));
  bytes[5 * 108 + 1] ^= 0x40;  // record 5's length
  write(segment(0), bytes);
  auto log = open();
  const RecoveryStats rs = log->stats().recovery;
  EXPECT_EQ(rs.corrupt_bytes_dropped, 4u * 108);
  const auto got = drain(*log);
  ASSERT_EQ(got.size(), 5u + 3u);  // 0-4, then segment 9's three
  EXPECT_EQ(got[4].seq, 4u);
  EXPECT_EQ(got[5].seq, 9u);
  EXPECT_EQ(got[5].payload, payload(9));
}

TEST_F(PosixRecovery, ZeroFilledTailIsTorn) {
  fill(3);
  std::string bytes = read(segment(0));
  write(segment(0), bytes + std::string(4096, '\0'));
  auto log = open();
  EXPECT_EQ(drain(*log).size(), 3u);
  EXPECT_EQ(log->stats().recovery.torn_bytes_truncated, 4096u);
}

TEST_F(PosixRecovery, GarbageSegmentAndStrayFilesDoNotStopTheLog) {
  fill(3);
  write(segment(100), std::string(700, '\x5a'));  // nothing valid in it
  write(dir_ + "/notes.txt", "an operator's file");
  write(dir_ + "/00000000000000000abc.seg", "not a segment name");
  auto log = open();
  EXPECT_EQ(drain(*log).size(), 3u);
  EXPECT_FALSE(fsys::exists(segment(100)));  // frameless: deleted
  EXPECT_TRUE(fsys::exists(dir_ + "/notes.txt"));
  auto seq = log->append_blocking("after");
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 3u);
}

TEST_F(PosixRecovery, CorruptManifestRedeliversFromTheOldestSegment) {
  {
    fill(12);
    auto log = open();
    for (int i = 0; i < 10; ++i) {
      auto r = log->try_next();
      ASSERT_TRUE(log->ack((*r)->seq).ok());
    }
    ASSERT_TRUE(log->flush().ok());
    ASSERT_EQ(log->stats().persisted_cursor, 10u);
  }
  // Segment 0 is deleted (settled); segment 9 holds 9, 10, 11.
  std::string manifest = read(dir_ + "/MANIFEST");
  manifest[9] ^= 1;
  write(dir_ + "/MANIFEST", manifest);
  auto log = open();
  EXPECT_EQ(log->stats().recovery.manifest, ManifestState::kCorrupt);
  const auto got = drain(*log);
  ASSERT_EQ(got.size(), 3u);  // 9 was acked, comes back: duplicates, never loss
  EXPECT_EQ(got[0].seq, 9u);
}

TEST_F(PosixRecovery, MissingManifestRedeliversEverything) {
  fill(5);
  fsys::remove(dir_ + "/MANIFEST");
  auto log = open();
  EXPECT_EQ(log->stats().recovery.manifest, ManifestState::kMissing);
  EXPECT_EQ(drain(*log).size(), 5u);
}

TEST_F(PosixRecovery, EveryTruncationPointRecovers) {
  fill(4);
  const std::string whole = read(segment(0));
  for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
    fsys::remove_all(dir_);
    fsys::create_directories(dir_);
    write(segment(0), whole.substr(0, cut));
    auto log = open();
    ASSERT_NE(log, nullptr) << cut;
    const auto got = drain(*log);
    ASSERT_EQ(got.size(), cut / 108) << cut;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].payload, payload(i)) << cut;
    EXPECT_EQ(log->stats().recovery.torn_bytes_truncated, cut % 108) << cut;
  }
}

TEST_F(PosixRecovery, EveryBitFlipIsDetected) {
  fill(2);
  const std::string whole = read(segment(0));
  for (std::size_t bit = 0; bit < whole.size() * 8; bit += 7) {
    fsys::remove_all(dir_);
    fsys::create_directories(dir_);
    std::string bad = whole;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    write(segment(0), bad);
    auto log = open();
    ASSERT_NE(log, nullptr) << bit;
    for (const Record& r : drain(*log)) {
      EXPECT_EQ(r.payload, payload(static_cast<int>(r.seq))) << bit;  // never altered data
    }
    const DurableLogStats s = log->stats();
    const RecoveryStats& rs = s.recovery;
    EXPECT_GT(rs.corrupt_records_skipped + rs.torn_bytes_truncated + rs.corrupt_bytes_dropped, 0u)
        << bit;
  }
}

}  // namespace
}  // namespace storage
