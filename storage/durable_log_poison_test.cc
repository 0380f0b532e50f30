// Poison records: a record that is being worked on whenever the process dies is dead-lettered
// after max_crashes_in_flight deaths instead of crash-looping (durable_log.h, "Crashes"). A
// process death is FaultInjectingFileSystem::process_crash() (unsynced writes survive, the
// log's own close() reaches nothing), or on the real file system a forked child that is
// killed with SIGKILL while it holds the record.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "storage/durable_log.h"
#include "storage/internal/frame.h"
#include "storage/internal/inflight.h"
#include "storage/testing/fault_injecting_file_system.h"

namespace storage {
namespace {

using testing::FaultInjectingFileSystem;
using testing::FaultOp;

constexpr const char* kDir = "/q";
const std::string kInFlightPath = std::string(kDir) + "/inflight";
const std::string kDeadLetterPath = std::string(kDir) + "/dead_letter.log";

DurableLogOptions options() {
  DurableLogOptions o;
  o.max_segment_bytes = 256;
  o.max_total_bytes = 8192;
  o.max_record_bytes = 200;
  o.cursor_persist_interval = std::chrono::milliseconds(0);
  o.free_space_reserve = 0;
  return o;  // max_crashes_in_flight: the default, 3
}

std::string rec(int i) { return "record-" + std::to_string(i); }

class PoisonTest : public ::testing::Test {
 protected:
  std::unique_ptr<DurableLog> open(DurableLogOptions o = options()) {
    auto log = DurableLog::open(fs_, kDir, o);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  void fill(int n) {
    auto log = open();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(log->append_blocking(rec(i)).ok());
  }

  // Takes the next record; it must be there.
  static Record take(DurableLog& log) {
    auto r = log.try_next();
    EXPECT_TRUE(r.ok() && r->has_value()) << (r.ok() ? "nothing to take" : r.status().ToString());
    return r.ok() && r->has_value() ? **r : Record{};
  }

  // Every payload the log still hands out (each acked).
  static std::vector<std::string> drain(DurableLog& log) {
    std::vector<std::string> out;
    for (;;) {
      auto r = log.try_next();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || !r->has_value()) break;
      out.push_back((*r)->payload);
      EXPECT_TRUE(log.ack((*r)->seq).ok());
    }
    return out;
  }

  // The process dies with the log open: nothing written is lost, nothing more is written.
  void crash(std::unique_ptr<DurableLog>& log) {
    fs_.process_crash();
    log.reset();
    fs_.power_on();
  }

  // An in-flight file as a process of this boot (or of boot `boot`) would leave it.
  std::string in_flight_file(const std::vector<internal::InFlightSlot>& slots,
                             std::optional<std::string> boot = std::nullopt) {
    std::string bytes = internal::encode_header(internal::boot_hash(boot.value_or(fs_.boot_id())));
    for (const internal::InFlightSlot& slot : slots) bytes += internal::encode_slot(slot);
    return bytes;
  }

  // The payloads in dead_letter.log.
  std::vector<std::string> dead_letters() {
    std::vector<std::string> out;
    const std::optional<std::string> bytes = fs_.contents(kDeadLetterPath);
    if (!bytes) return out;
    internal::scan_frames(*bytes, 1 << 20, UINT64_MAX, true, [&](const internal::FrameInfo& f) {
      out.push_back(bytes->substr(f.offset + internal::kFrameHeaderBytes, f.length));
    });
    return out;
  }

  FaultInjectingFileSystem fs_;
};

TEST_F(PoisonTest, ARecordInFlightAtThreeCrashesIsDeadLetteredAtTheThirdOpen) {
  fill(5);
  for (int crashes = 0; crashes < 3; ++crashes) {
    auto log = open();
    EXPECT_EQ(log->stats().recovery.in_flight_at_crash, crashes == 0 ? 0u : 1u);
    const Record r = take(*log);
    EXPECT_EQ(r.payload, rec(0));  // handed out again after each crash so far
    crash(log);                    // ... and it takes the process down each time
  }
  auto log = open();
  EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 1u);
  EXPECT_EQ(log->stats().recovery.crash_limit_reached, 1u);
  EXPECT_EQ(drain(*log), (std::vector<std::string>{rec(1), rec(2), rec(3), rec(4)}));
  ASSERT_TRUE(log->flush().ok());
  const DurableLogStats s = log->stats();
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.dead_lettered_after_crashes, 1u);
  EXPECT_EQ(s.acknowledged, 4u);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(dead_letters(), std::vector<std::string>{rec(0)});
  // Settled: gone for good, and no longer tracked.
  log.reset();
  log = open();
  EXPECT_FALSE(log->try_next()->has_value());
  // Only the header is left.
  EXPECT_EQ(fs_.contents(kInFlightPath).value_or("?"), in_flight_file({}));
}

TEST_F(PoisonTest, TheLimitIsAnOption) {
  fill(2);
  DurableLogOptions o = options();
  o.max_crashes_in_flight = 1;
  auto log = open(o);
  EXPECT_EQ(take(*log).payload, rec(0));
  crash(log);
  log = open(o);
  EXPECT_EQ(drain(*log), std::vector<std::string>{rec(1)});
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().dead_lettered_after_crashes, 1u);
}

TEST_F(PoisonTest, ZeroTurnsItOffAndKeepsNoFile) {
  fill(2);
  DurableLogOptions o = options();
  o.max_crashes_in_flight = 0;
  for (int i = 0; i < 6; ++i) {
    auto log = open(o);
    EXPECT_EQ(take(*log).payload, rec(0));
    crash(log);
  }
  EXPECT_FALSE(fs_.contents(kInFlightPath).has_value());
  auto log = open(o);
  EXPECT_EQ(drain(*log), (std::vector<std::string>{rec(0), rec(1)}));
  EXPECT_EQ(log->stats().dead_lettered, 0u);
}

TEST_F(PoisonTest, ACleanCloseCountsNothing) {
  fill(3);
  for (int i = 0; i < 10; ++i) {
    auto log = open();
    EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 0u);
    // Everything handed out, nothing settled, then a clean stop.
    for (int j = 0; j < 3; ++j) take(*log);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open();
  EXPECT_EQ(drain(*log), (std::vector<std::string>{rec(0), rec(1), rec(2)}));
  EXPECT_EQ(log->stats().dead_lettered, 0u);
}

TEST_F(PoisonTest, CountsSurviveACleanCloseBetweenCrashes) {
  fill(2);
  for (int i = 0; i < 2; ++i) {
    auto log = open();
    take(*log);
    crash(log);
  }
  {
    auto log = open();  // counted 2; a clean stop neither adds nor forgets
    EXPECT_EQ(take(*log).payload, rec(0));
  }
  auto log = open();
  EXPECT_EQ(log->stats().recovery.crash_limit_reached, 0u);
  take(*log);
  crash(log);
  log = open();
  EXPECT_EQ(drain(*log), std::vector<std::string>{rec(1)});
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().dead_lettered_after_crashes, 1u);
}

// Several consumers: every record in flight at a crash is a suspect. The innocent ones are
// delivered after the restart and leave the tracking; the one that is in flight at every
// crash reaches the limit alone.
TEST_F(PoisonTest, InnocentRecordsInFlightAtACrashAreStillDelivered) {
  fill(8);
  {
    auto log = open();
    for (int i = 0; i < 4; ++i) take(*log);  // 0..3 in flight at the first crash
    crash(log);
  }
  for (int round = 0; round < 2; ++round) {
    auto log = open();
    const Record poison = take(*log);
    ASSERT_EQ(poison.payload, rec(0));
    // Others are delivered meanwhile (the cursor stays behind the poison record, so they come
    // back after the crash: at-least-once) and drop out of the tracking when acked.
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->ack(take(*log).seq).ok());
    crash(log);
  }
  auto log = open();
  EXPECT_EQ(log->stats().recovery.crash_limit_reached, 1u);
  EXPECT_EQ(drain(*log),
            (std::vector<std::string>{rec(1), rec(2), rec(3), rec(4), rec(5), rec(6), rec(7)}));
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->stats().dead_lettered_after_crashes, 1u);
  EXPECT_EQ(dead_letters(), std::vector<std::string>{rec(0)});
}

TEST_F(PoisonTest, APausedOrNackedRecordIsNotCounted) {
  fill(3);
  for (int i = 0; i < 5; ++i) {
    auto log = open();
    EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 0u);
    const Record a = take(*log);  // waiting for a retry
    ASSERT_TRUE(log->pause(a.seq).ok());
    const Record b = take(*log);  // given back
    ASSERT_TRUE(log->nack(b.seq).ok());
    crash(log);
  }
  auto log = open();
  const Record a = take(*log);
  ASSERT_TRUE(log->pause(a.seq).ok());
  ASSERT_TRUE(log->resume(a.seq).ok());  // working on it again: it counts
  crash(log);
  log = open();
  EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 1u);
  EXPECT_EQ(log->pause(999).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->resume(999).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(drain(*log).size(), 3u);
}

TEST_F(PoisonTest, APowerCutLosesTheMarkNotTheRecord) {
  fill(2);
  for (int i = 0; i < 4; ++i) {
    auto log = open();
    take(*log);
    fs_.power_loss();  // a new boot: what the file says of the old one counts nothing
    log.reset();
    fs_.power_on();
  }
  auto log = open();
  EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 0u);
  EXPECT_EQ(drain(*log), (std::vector<std::string>{rec(0), rec(1)}));
}

// After a power cut any subset of the unsynced slot writes may be on the disk: a record's old
// "handed out" without the zeros written when it was settled. Such slots are from another boot
// and count nothing; the counts they carry are kept.
TEST_F(PoisonTest, HandedOutSlotsFromBeforeAPowerCutCountNothing) {
  fill(3);
  const std::string before = fs_.boot_id();
  fs_.power_loss();
  fs_.power_on();
  ASSERT_NE(fs_.boot_id(), before);
  fs_.set_contents(kInFlightPath, in_flight_file({{0, 2, internal::SlotState::kHandedOut},
                                                  {1, 0, internal::SlotState::kHandedOut}},
                                                 before));
  {
    auto log = open();
    EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 0u);
    EXPECT_EQ(log->stats().recovery.in_flight_at_reboot, 2u);
    EXPECT_EQ(log->stats().recovery.crash_limit_reached, 0u);
    EXPECT_EQ(take(*log).payload, rec(0));  // 2 crashes: under the limit, handed out
    crash(log);                             // a process death in this boot: the third
  }
  auto log = open();
  EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 1u);
  EXPECT_EQ(drain(*log), (std::vector<std::string>{rec(1), rec(2)}));
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(dead_letters(), std::vector<std::string>{rec(0)});
}

// Under fsync: never a power cut can lose a record that has a count; its number goes to the
// next append. Open forgets the count durably, so a second power cut cannot bring it back for
// the new record to inherit.
TEST_F(PoisonTest, ACountDoesNotPassToTheRecordThatTakesALostRecordsNumber) {
  DurableLogOptions o = options();
  o.fsync = FsyncPolicy::kNever;
  {
    auto log = open(o);
    ASSERT_TRUE(log->append_blocking(rec(0)).ok());
    crash(log);
  }
  for (int i = 0; i < 3; ++i) {
    auto log = open(o);
    EXPECT_EQ(take(*log).seq, 0u);
    crash(log);  // the opens after the first two write "seq 0: 2 crashes" to a synced file
  }
  fs_.power_loss();  // the record was never synced: gone, and seq 0 is free again
  fs_.power_on();
  {
    auto log = open();  // fsync: always, so that "new" outlives the next power cut
    EXPECT_FALSE(log->try_next()->has_value());
    ASSERT_EQ(*log->append_blocking("new"), 0u);
    fs_.power_loss();  // "new" stays; the in-flight file is what open left on the disk
    log.reset();
    fs_.power_on();
  }
  {
    auto log = open();
    EXPECT_EQ(log->stats().recovery.crash_limit_reached, 0u);
    EXPECT_EQ(take(*log).payload, "new");
    crash(log);  // the new record's first crash, not its third
  }
  auto log = open();
  EXPECT_EQ(log->stats().recovery.crash_limit_reached, 0u);
  EXPECT_EQ(drain(*log), std::vector<std::string>{"new"});
}

TEST_F(PoisonTest, AGarbageInFlightFileNeverStopsOpen) {
  fill(3);
  // Well formed, but for a number no record has (a new append must not inherit it).
  const std::string forged_far = in_flight_file({{1000, 2, internal::SlotState::kHandedOut}});
  std::string random(1000, '\0');
  for (std::size_t i = 0; i < random.size(); ++i) random[i] = static_cast<char>(i * 131 + 7);
  std::string flipped = in_flight_file({{0, 2, internal::SlotState::kHandedOut}});
  flipped[internal::kInFlightSlotBytes + 9] ^= 0x10;
  const std::string torn = in_flight_file({{1, 2, internal::SlotState::kHandedOut}}).substr(0, 37);
  std::string bad_header = in_flight_file({{0, 2, internal::SlotState::kHandedOut}});
  bad_header[5] ^= 0x01;
  const std::string no_header = internal::encode_slot({0, 2, internal::SlotState::kHandedOut});
  for (const std::string& bytes :
       {random, forged_far, flipped, torn, bad_header, no_header, std::string(7, '\xff'),
        std::string(48, '\0'), std::string(internal::kInFlightSlotBytes * 70000, 'x')}) {
    fs_.set_contents(kInFlightPath, bytes);
    auto log = open();
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 0u);
    EXPECT_EQ(log->try_next()->value().payload, rec(0));
    log.reset();  // clean: nothing settled, nothing counted
  }
  fs_.set_contents(kInFlightPath, in_flight_file({{0, 2, internal::SlotState::kHandedOut}}));
  auto log = open();  // a well-formed slot does count (2 + 1 = the limit)
  EXPECT_EQ(log->stats().recovery.in_flight_at_crash, 1u);
  EXPECT_EQ(drain(*log), (std::vector<std::string>{rec(1), rec(2)}));
}

TEST_F(PoisonTest, FaultsWhileRewritingTheFileAtOpenNeverStopOpen) {
  fill(2);
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync, FaultOp::kRename, FaultOp::kCreate}) {
    {
      auto log = open();
      take(*log);
      crash(log);
    }
    fs_.fail_nth(op, 1);
    auto log = open();
    ASSERT_NE(log, nullptr) << static_cast<int>(op);
    fs_.disarm_all();
    EXPECT_EQ(log->try_next()->value().payload, rec(0));
    log.reset();
  }
}

// The real thing on the real file system: a child process takes the poison record and dies
// of SIGKILL while it holds it. The third restart dead-letters it and delivers the rest. The
// child is this binary run afresh (fork + exec), as a multi-threaded process must not start
// threads in a plain fork child.
constexpr const char* kChildDirEnv = "OTLPD_POISON_CHILD_DIR";

// Runs only as the child of the test below: deliver in order; the poison record kills the
// process mid-export.
TEST(PoisonPosixChild, TakeTheNextRecordAndDieOfIt) {
  const char* dir = std::getenv(kChildDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "the child of PoisonPosix.* (needs " << kChildDirEnv << ")";
  auto log = DurableLog::open(posix_file_system(), dir, options());
  if (!log.ok()) ::_exit(2);
  auto r = (*log)->try_next();
  if (!r.ok() || !r->has_value()) ::_exit(3);
  if ((*r)->payload == "poison") ::kill(::getpid(), SIGKILL);
  ::_exit(4);  // delivered something else first: not the plan
}

TEST(PoisonPosix, ARecordThatKillsTheProcessIsDeadLetteredAfterThreeDeaths) {
  namespace fsys = std::filesystem;
  std::string pattern = (fsys::temp_directory_path() / "otlpd-poison-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  const DurableLogOptions o = options();
  {
    auto log = DurableLog::open(posix_file_system(), dir, o);
    ASSERT_TRUE(log.ok()) << log.status();
    for (const char* p : {"poison", "good-1", "good-2"}) {
      ASSERT_TRUE((*log)->append_blocking(p).ok());
    }
  }
  const std::string self = fsys::read_symlink("/proc/self/exe").string();
  for (int death = 0; death < 3; ++death) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::setenv(kChildDirEnv, dir.c_str(), 1);
      ::execl(self.c_str(), self.c_str(), "--gtest_filter=PoisonPosixChild.*", nullptr);
      ::_exit(5);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "death " << death << ": status " << status;
  }
  auto log = DurableLog::open(posix_file_system(), dir, o);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<std::string> delivered;
  for (;;) {
    auto r = (*log)->try_next();
    ASSERT_TRUE(r.ok());
    if (!r->has_value()) break;
    delivered.push_back((*r)->payload);
    ASSERT_TRUE((*log)->ack((*r)->seq).ok());
  }
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ(delivered, (std::vector<std::string>{"good-1", "good-2"}));
  EXPECT_EQ((*log)->stats().dead_lettered_after_crashes, 1u);
  EXPECT_GT(fsys::file_size(dir + "/dead_letter.log"), 0u);
  log->reset();
  fsys::remove_all(dir);
}

}  // namespace
}  // namespace storage
