// DurableLog unit tests on the fault-injecting file system: framing on disk, segments, the
// cursor, reclaiming, the disk bound, dead letters, fsync policy, I/O errors, group commit.
#include "storage/durable_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/internal/frame.h"
#include "storage/internal/log_files.h"
#include "storage/internal/manifest.h"
#include "storage/testing/fault_injecting_file_system.h"

namespace storage {
namespace {

using testing::FaultInjectingFileSystem;
using testing::FaultOp;

constexpr const char* kDir = "/q";

DurableLogOptions small_options() {
  DurableLogOptions o;
  o.max_segment_bytes = 256;
  o.max_total_bytes = 4096;
  o.max_record_bytes = 200;
  o.cursor_persist_interval = std::chrono::hours(1);  // tests write the cursor with flush()
  o.free_space_reserve = 0;
  return o;
}

std::unique_ptr<DurableLog> open_log(FileSystem& fs, DurableLogOptions o = small_options()) {
  auto log = DurableLog::open(fs, kDir, o);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? std::move(*log) : nullptr;
}

std::string rec(int i, std::size_t size = 20) {
  std::string s = "record-" + std::to_string(i) + "-";
  s.resize(std::max(size, s.size()), '.');
  return s;
}

Record must_next(DurableLog& log) {
  auto r = log.try_next();
  EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r.ok() && r->has_value());
  return r.ok() && r->has_value() ? **r : Record{};
}

void expect_conserved(const DurableLogStats& s) {
  EXPECT_EQ(s.recovered + s.appended, s.acknowledged + s.dead_lettered + s.dead_letter_discarded +
                                          s.corrupt_skipped + s.pending);
}

TEST(DurableLog, AppendThenDeliverInOrder) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  for (int i = 0; i < 5; ++i) {
    auto seq = log->append_blocking(rec(i));
    ASSERT_TRUE(seq.ok()) << seq.status();
    EXPECT_EQ(*seq, static_cast<std::uint64_t>(i));
  }
  for (int i = 0; i < 5; ++i) {
    const Record r = must_next(*log);
    EXPECT_EQ(r.seq, static_cast<std::uint64_t>(i));
    EXPECT_EQ(r.payload, rec(i));
    EXPECT_EQ(r.attempts, 0u);
  }
  EXPECT_FALSE(log->try_next()->has_value());
  const DurableLogStats s = log->stats();
  EXPECT_EQ(s.appended, 5u);
  EXPECT_EQ(s.in_flight, 5u);
  EXPECT_EQ(s.pending, 5u);
  expect_conserved(s);
}

TEST(DurableLog, FramesOnDiskAreLengthCrcPayload) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  ASSERT_TRUE(log->append_blocking("abc").ok());
  ASSERT_TRUE(log->close().ok());
  const auto bytes = fs.contents(std::string(kDir) + "/" + internal::segment_file_name(0));
  ASSERT_TRUE(bytes.has_value());
  std::string expected;
  internal::append_frame(&expected, "abc");
  EXPECT_EQ(*bytes, expected);
  EXPECT_EQ(internal::get_le32(bytes->data()), 3u);
}

TEST(DurableLog, SegmentsRollAtTheSizeBound) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  // 20-byte payloads: 28-byte frames, 9 per 256-byte segment.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());
  EXPECT_EQ(log->stats().segments, 3u);
  EXPECT_TRUE(fs.contents(std::string(kDir) + "/" + internal::segment_file_name(0)));
  EXPECT_TRUE(fs.contents(std::string(kDir) + "/" + internal::segment_file_name(9)));
  EXPECT_TRUE(fs.contents(std::string(kDir) + "/" + internal::segment_file_name(18)));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(must_next(*log).payload, rec(i));
}

TEST(DurableLog, RecordLargerThanASegmentGetsItsOwn) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_segment_bytes = 64;
  auto log = open_log(fs, o);
  ASSERT_TRUE(log->append_blocking(rec(0, 10)).ok());
  ASSERT_TRUE(log->append_blocking(rec(1, 150)).ok());
  ASSERT_TRUE(log->append_blocking(rec(2, 10)).ok());
  EXPECT_EQ(log->stats().segments, 3u);
  EXPECT_EQ(must_next(*log).payload, rec(0, 10));
  EXPECT_EQ(must_next(*log).payload, rec(1, 150));
  EXPECT_EQ(must_next(*log).payload, rec(2, 10));
}

TEST(DurableLog, RefusesRecordsAboveTheLimit) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  EXPECT_EQ(log->append_blocking(std::string(201, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(log->append_blocking(std::string(200, 'x')).ok());
}

TEST(DurableLog, CursorAdvancesOverTheContiguousAckedPrefixOnly) {
  FaultInjectingFileSystem fs;
  {
    auto log = open_log(fs);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());
    for (int i = 0; i < 5; ++i) must_next(*log);
    ASSERT_TRUE(log->ack(1).ok());
    ASSERT_TRUE(log->ack(3).ok());
    ASSERT_TRUE(log->flush().ok());
    EXPECT_EQ(log->stats().persisted_cursor, 0u);
    ASSERT_TRUE(log->ack(0).ok());
    ASSERT_TRUE(log->flush().ok());
    EXPECT_EQ(log->stats().persisted_cursor, 2u);  // 0 and 1; 2 is still out
  }
  // Reopen: 2, 3 and 4 come back (3 was acked but is above the cursor: at-least-once).
  auto log = open_log(fs);
  EXPECT_EQ(log->stats().recovery.records_recovered, 3u);
  EXPECT_EQ(must_next(*log).seq, 2u);
  EXPECT_EQ(must_next(*log).seq, 3u);
  EXPECT_EQ(must_next(*log).seq, 4u);
  EXPECT_EQ(log->stats().next_seq, 5u);
}

TEST(DurableLog, AckAndNackOfWhatIsNotHandedOutAreRefused) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  ASSERT_TRUE(log->append_blocking(rec(0)).ok());
  EXPECT_EQ(log->ack(0).code(), absl::StatusCode::kFailedPrecondition);  // not handed out
  must_next(*log);
  ASSERT_TRUE(log->nack(0).ok());
  EXPECT_EQ(log->ack(0).code(), absl::StatusCode::kFailedPrecondition);  // returned
  EXPECT_EQ(log->nack(0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->ack(99).code(), absl::StatusCode::kFailedPrecondition);
  const Record again = must_next(*log);
  EXPECT_EQ(again.attempts, 1u);
  ASSERT_TRUE(log->ack(0).ok());
  EXPECT_EQ(log->ack(0).code(), absl::StatusCode::kFailedPrecondition);  // twice
  expect_conserved(log->stats());
}

TEST(DurableLog, NackRedeliversBeforeNewRecords) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());
  must_next(*log);
  must_next(*log);
  ASSERT_TRUE(log->nack(1).ok());
  ASSERT_TRUE(log->nack(0).ok());
  EXPECT_EQ(must_next(*log).seq, 0u);
  EXPECT_EQ(must_next(*log).seq, 1u);
  EXPECT_EQ(must_next(*log).seq, 2u);
  EXPECT_EQ(log->stats().redeliveries, 2u);
}

TEST(DurableLog, SettledSegmentsAreDeletedAfterTheCursorIsWritten) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());
  ASSERT_EQ(log->stats().segments, 3u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->ack(must_next(*log).seq).ok());
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().segments, 2u);  // segment 0 (records 0-8) is gone
  EXPECT_FALSE(fs.contents(std::string(kDir) + "/" + internal::segment_file_name(0)));
  auto manifest = internal::decode_manifest(*fs.contents(std::string(kDir) + "/MANIFEST"));
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->cursor, 10u);
}

TEST(DurableLog, DiskBoundRefusesThenAcceptsAfterAcks) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_total_bytes = 1024;  // 4 segments of 256
  auto log = open_log(fs, o);
  int appended = 0;
  absl::Status refused;
  for (; appended < 100; ++appended) {
    auto seq = log->append_blocking(rec(appended));
    if (!seq.ok()) {
      refused = seq.status();
      break;
    }
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_EQ(appended, 1024 / 28);
  EXPECT_EQ(log->stats().appends_refused_full, 1u);
  EXPECT_LE(log->stats().disk_bytes, 1024u);
  // Deliver and ack everything: all of it is reclaimed and appends work again.
  for (int i = 0; i < appended; ++i) ASSERT_TRUE(log->ack(must_next(*log).seq).ok());
  ASSERT_TRUE(log->flush().ok());
  auto seq = log->append_blocking(rec(1000));
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(must_next(*log).payload, rec(1000));
  expect_conserved(log->stats());
}

TEST(DurableLog, FullFileSystemRefusesWithResourceExhausted) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.free_space_reserve = 100;
  auto log = open_log(fs, o);
  fs.set_space_budget(fs.used_bytes() + 300);
  int ok = 0;
  absl::Status last;
  for (int i = 0; i < 20; ++i) {
    auto seq = log->append_blocking(rec(i));
    if (seq.ok()) {
      ++ok;
    } else {
      last = seq.status();
    }
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_GT(ok, 0);
  // The reserve keeps room for the manifest: acks still persist.
  for (int i = 0; i < ok; ++i) ASSERT_TRUE(log->ack(must_next(*log).seq).ok());
  EXPECT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().persisted_cursor, static_cast<std::uint64_t>(ok));
}

TEST(DurableLog, PoisonRecordGoesToTheDeadLetterFile) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_deliveries = 3;
  {
    auto log = open_log(fs, o);
    ASSERT_TRUE(log->append_blocking("poison").ok());
    ASSERT_TRUE(log->append_blocking("fine").ok());
    for (int attempt = 0; attempt < 3; ++attempt) {
      const Record r = must_next(*log);
      ASSERT_EQ(r.payload, "poison");
      EXPECT_EQ(r.attempts, static_cast<std::uint32_t>(attempt));
      ASSERT_TRUE(log->nack(r.seq).ok());
    }
    ASSERT_TRUE(log->flush().ok());  // the I/O thread has written the dead letter by now
    const Record fine = must_next(*log);
    EXPECT_EQ(fine.payload, "fine");
    ASSERT_TRUE(log->ack(fine.seq).ok());
    EXPECT_FALSE(log->try_next()->has_value());
    const DurableLogStats s = log->stats();
    EXPECT_EQ(s.dead_lettered, 1u);
    EXPECT_EQ(s.pending, 0u);
    expect_conserved(s);
  }
  const auto dead = fs.contents(std::string(kDir) + "/dead_letter.log");
  ASSERT_TRUE(dead.has_value());
  std::string expected;
  internal::append_frame(&expected, "poison");
  EXPECT_EQ(*dead, expected);
  auto log = open_log(fs, o);
  EXPECT_FALSE(log->try_next()->has_value());
}

TEST(DurableLog, DeliveryAttemptsSurviveARestart) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_deliveries = 3;
  {
    auto log = open_log(fs, o);
    ASSERT_TRUE(log->append_blocking("poison").ok());
    ASSERT_TRUE(log->nack(must_next(*log).seq).ok());
    ASSERT_TRUE(log->nack(must_next(*log).seq).ok());
  }
  auto log = open_log(fs, o);
  const Record r = must_next(*log);
  EXPECT_EQ(r.attempts, 2u);
  ASSERT_TRUE(log->nack(r.seq).ok());
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().dead_lettered, 1u);
}

TEST(DurableLog, DeadLetterBoundDiscardsAndCounts) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_deliveries = 1;
  o.max_dead_letter_bytes = 0;
  auto log = open_log(fs, o);
  ASSERT_TRUE(log->append_blocking("poison").ok());
  ASSERT_TRUE(log->nack(must_next(*log).seq).ok());
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().dead_letter_discarded, 1u);
  EXPECT_FALSE(fs.contents(std::string(kDir) + "/dead_letter.log").has_value());
  expect_conserved(log->stats());
}

TEST(DurableLog, ZeroMaxDeliveriesRetriesForever) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_deliveries = 0;
  auto log = open_log(fs, o);
  ASSERT_TRUE(log->append_blocking("x").ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->nack(must_next(*log).seq).ok());
  EXPECT_EQ(must_next(*log).attempts, 50u);
}

TEST(DurableLog, FsyncAlwaysSyncsEveryCommitAndNeverDoesNot) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kNever}) {
    FaultInjectingFileSystem fs;
    DurableLogOptions o = small_options();
    o.fsync = policy;
    auto log = open_log(fs, o);
    const std::uint64_t before = fs.datasync_calls();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());  // one segment
    const std::uint64_t syncs = fs.datasync_calls() - before;
    if (policy == FsyncPolicy::kAlways) {
      EXPECT_EQ(syncs, 5u);
    } else {
      EXPECT_EQ(syncs, 0u);
    }
    // Never: a power cut may take what was only written to the OS.
    fs.power_loss();
    log.reset();
    fs.power_on();
    auto reopened = open_log(fs, o);
    EXPECT_EQ(reopened->stats().recovery.records_recovered,
              policy == FsyncPolicy::kAlways ? 5u : 0u);
  }
}

TEST(DurableLog, WriteErrorFailsTheAppendAndTheLogGoesOn) {
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync, FaultOp::kCreate}) {
    FaultInjectingFileSystem fs;
    auto log = open_log(fs);
    ASSERT_TRUE(log->append_blocking("before").ok());
    fs.fail_nth(op, 1);
    auto failed = log->append_blocking("failed");
    if (op == FaultOp::kCreate) {
      // The first segment exists: creation is only hit at the next roll. Force one.
      EXPECT_TRUE(failed.ok());
      continue;
    }
    EXPECT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
    auto after = log->append_blocking("after");
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(*after, 2u);  // the failed append's number is not reused
    EXPECT_EQ(must_next(*log).payload, "before");
    EXPECT_EQ(must_next(*log).payload, "after");
    EXPECT_FALSE(log->try_next()->has_value());
    EXPECT_EQ(log->stats().append_errors, 1u);
    ASSERT_TRUE(log->ack(0).ok());
    ASSERT_TRUE(log->ack(2).ok());
    ASSERT_TRUE(log->flush().ok());
    EXPECT_EQ(log->stats().persisted_cursor, 3u);  // over the void number 1
    expect_conserved(log->stats());
  }
}

TEST(DurableLog, SegmentCreationErrorFailsTheAppend) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  fs.fail_nth(FaultOp::kCreate, 1);
  EXPECT_FALSE(log->append_blocking("first").ok());
  auto next = log->append_blocking("second");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(must_next(*log).payload, "second");
}

TEST(DurableLog, ManifestRenameErrorKeepsTheOldCursor) {
  FaultInjectingFileSystem fs;
  {
    auto log = open_log(fs);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->ack(must_next(*log).seq).ok());
    fs.fail_nth(FaultOp::kRename, 1);
    EXPECT_FALSE(log->flush().ok());
    EXPECT_EQ(log->stats().persisted_cursor, 0u);
    EXPECT_EQ(log->stats().cursor_write_errors, 1u);
    fs.power_loss();  // before any other cursor write
  }
  fs.power_on();
  auto log = open_log(fs);
  EXPECT_EQ(log->stats().recovery.records_recovered, 3u);  // redelivered, not lost
}

TEST(DurableLog, ClosedLogRefusesAndWakesReaders) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  ASSERT_TRUE(log->append_blocking("x").ok());
  std::atomic<bool> woke{false};
  absl::Status seen;
  std::thread reader([&] {
    auto a = csp::block_on(log->next(csp::Context::background()));  // takes "x"
    auto b = csp::block_on(log->next(csp::Context::background()));  // parks until close
    seen = b.status();
    woke = true;
  });
  while (log->stats().in_flight == 0) std::this_thread::yield();
  ASSERT_TRUE(log->close().ok());
  reader.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(seen.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->append_blocking("y").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->try_next().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(log->close().ok());  // twice is fine
  // Handed out, never acked: still there.
  auto reopened = open_log(fs);
  EXPECT_EQ(must_next(*reopened).payload, "x");
}

TEST(DurableLog, SecondOpenOfTheSameDirectoryIsRefused) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  EXPECT_EQ(DurableLog::open(fs, kDir, small_options()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  log.reset();
  EXPECT_TRUE(DurableLog::open(fs, kDir, small_options()).ok());
}

TEST(DurableLog, InvalidOptionsAreRefused) {
  FaultInjectingFileSystem fs;
  DurableLogOptions o = small_options();
  o.max_segment_bytes = o.max_total_bytes;
  EXPECT_EQ(DurableLog::open(fs, kDir, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DurableLog, NextWaitsForAnAppendAndHonoursTheContext) {
  FaultInjectingFileSystem fs;
  auto log = open_log(fs);
  auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
  std::thread cancelled([&, ctx = ctx] {
    auto r = csp::block_on(log->next(ctx));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  });
  cancel();
  cancelled.join();
  std::thread waiter([&] {
    auto r = csp::block_on(log->next(csp::Context::background()));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->payload, "late");
  });
  ASSERT_TRUE(csp::block_on(log->append("late")).ok());
  waiter.join();
}

// A file system whose datasync blocks until released, so a test can hold one group commit open
// and watch appends pile up behind it, without timing.
class GatedFileSystem final : public FileSystem {
 public:
  explicit GatedFileSystem(FileSystem& base) : base_(base) {}
  void close_gate() { gate_closed_ = true; }
  void open_gate() { gate_closed_ = false; }
  bool a_sync_waits() const { return waiting_ > 0; }

  absl::StatusOr<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    auto f = base_.open(path, mode);
    if (!f.ok()) return f.status();
    return std::make_unique<GatedFile>(this, std::move(*f));
  }
  absl::Status rename(const std::string& a, const std::string& b) override {
    return base_.rename(a, b);
  }
  absl::Status unlink(const std::string& p) override { return base_.unlink(p); }
  absl::StatusOr<std::vector<std::string>> list(const std::string& d) override {
    return base_.list(d);
  }
  absl::Status sync_dir(const std::string& d) override { return base_.sync_dir(d); }
  absl::Status create_dir(const std::string& d) override { return base_.create_dir(d); }
  absl::StatusOr<std::uint64_t> free_space(const std::string& d) override {
    return base_.free_space(d);
  }
  absl::StatusOr<std::unique_ptr<FileLock>> lock(const std::string& p) override {
    return base_.lock(p);
  }
  std::string boot_id() override { return base_.boot_id(); }

 private:
  class GatedFile final : public File {
   public:
    GatedFile(GatedFileSystem* fs, std::unique_ptr<File> f) : fs_(fs), f_(std::move(f)) {}
    absl::Status append(std::string_view d) override { return f_->append(d); }
    absl::Status pwrite(std::uint64_t o, std::string_view d) override { return f_->pwrite(o, d); }
    absl::Status pread(std::uint64_t o, std::size_t n, std::string* out) override {
      return f_->pread(o, n, out);
    }
    absl::Status datasync() override {
      ++fs_->waiting_;
      while (fs_->gate_closed_) std::this_thread::yield();
      --fs_->waiting_;
      return f_->datasync();
    }
    absl::StatusOr<std::uint64_t> size() override { return f_->size(); }
    absl::Status truncate(std::uint64_t s) override { return f_->truncate(s); }

   private:
    GatedFileSystem* fs_;
    std::unique_ptr<File> f_;
  };

  FileSystem& base_;
  std::atomic<bool> gate_closed_{false};
  std::atomic<int> waiting_{0};
};

TEST(DurableLog, GroupCommitCoversEveryAppendQueuedDuringASync) {
  FaultInjectingFileSystem base;
  GatedFileSystem fs(base);
  DurableLogOptions o = small_options();
  o.max_segment_bytes = 2048;
  auto log = open_log(fs, o);
  ASSERT_TRUE(log->append_blocking("warm-up").ok());  // creates the segment
  const std::uint64_t commits_before = log->stats().group_commits;
  fs.close_gate();
  constexpr int kAppenders = 8;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { ASSERT_TRUE(log->append_blocking("first").ok()); });
  while (!fs.a_sync_waits()) std::this_thread::yield();  // "first" is being synced
  for (int i = 0; i < kAppenders; ++i) {
    threads.emplace_back([&, i] { ASSERT_TRUE(log->append_blocking(rec(i)).ok()); });
  }
  while (log->stats().next_seq < 2 + kAppenders) std::this_thread::yield();  // all queued
  fs.open_gate();
  for (auto& t : threads) t.join();
  // One commit for "first", one for all the others.
  EXPECT_EQ(log->stats().group_commits - commits_before, 2u);
  EXPECT_EQ(log->stats().appended, 2u + kAppenders);
}

}  // namespace
}  // namespace storage
