// Many goroutines appending, several consumers taking, acking and sometimes nacking: every record
// is acknowledged exactly once, nothing is lost, the counters balance. Run under TSan by
// `make test-tsan` (storage is in SAN_LAYERS).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/wait_group.h"
#include "storage/durable_log.h"
#include "storage/testing/fault_injecting_file_system.h"

namespace storage {
namespace {

constexpr int kAppenders = 8;
constexpr int kPerAppender = 150;
constexpr int kConsumers = 4;
constexpr int kTotal = kAppenders * kPerAppender;

std::string payload(int appender, int i) {
  std::string s = std::to_string(appender * kPerAppender + i) + ":";
  s.resize(64 + (i % 7) * 50, static_cast<char>('A' + appender));
  return s;
}

int id_of(const std::string& p) { return std::stoi(p.substr(0, p.find(':'))); }

struct Tally {
  std::vector<std::atomic<int>> acked = std::vector<std::atomic<int>>(kTotal);
  std::atomic<int> acked_total{0};
  std::atomic<int> nacks{0};
  std::atomic<int> bad{0};
};

DurableLogOptions options() {
  DurableLogOptions o;
  o.max_segment_bytes = 8 * 1024;  // many rolls and reclaims
  o.max_total_bytes = 4 << 20;
  o.cursor_persist_interval = std::chrono::milliseconds(0);
  o.max_deliveries = 0;
  o.free_space_reserve = 0;
  return o;
}

// A consumer: takes records until ctx is cancelled; nacks every 13th delivery once.
csp::Task<void> consume(DurableLog* log, csp::Context ctx, Tally* tally, csp::WaitGroup* wg) {
  for (;;) {
    absl::StatusOr<Record> r = co_await log->next(ctx);
    if (!r.ok()) break;
    const int id = id_of(r->payload);
    if (id < 0 || id >= kTotal || r->payload != payload(id / kPerAppender, id % kPerAppender)) {
      tally->bad.fetch_add(1);
      continue;
    }
    if (r->attempts == 0 && id % 13 == 0) {
      tally->nacks.fetch_add(1);
      if (!log->nack(r->seq).ok()) tally->bad.fetch_add(1);
      continue;
    }
    if (!log->ack(r->seq).ok()) tally->bad.fetch_add(1);
    tally->acked[id].fetch_add(1);
    tally->acked_total.fetch_add(1);
  }
  wg->done();
}

void expect_exactly_once(const Tally& tally, DurableLog& log) {
  EXPECT_EQ(tally.bad.load(), 0);
  for (int id = 0; id < kTotal; ++id) ASSERT_EQ(tally.acked[id].load(), 1) << id;
  ASSERT_TRUE(log.flush().ok());
  const DurableLogStats s = log.stats();
  EXPECT_EQ(s.appended, static_cast<std::uint64_t>(kTotal));
  EXPECT_EQ(s.acknowledged, static_cast<std::uint64_t>(kTotal));
  EXPECT_EQ(s.redeliveries, static_cast<std::uint64_t>(tally.nacks.load()));
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_LE(s.group_commits, s.appended);
  EXPECT_EQ(s.persisted_cursor, static_cast<std::uint64_t>(kTotal));
  EXPECT_LE(s.segments, 1u);  // everything settled has been reclaimed
}

TEST(DurableLogConcurrency, GoroutineAppendersAndConsumersExactlyOnce) {
  testing::FaultInjectingFileSystem fs;
  auto opened = DurableLog::open(fs, "/c", options());
  ASSERT_TRUE(opened.ok()) << opened.status();
  DurableLog* log = opened->get();
  Tally tally;
  auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
  csp::WaitGroup consumers, appenders;
  consumers.add(kConsumers);
  for (int c = 0; c < kConsumers; ++c) csp::go(consume(log, ctx, &tally, &consumers));
  std::atomic<int> append_errors{0};
  appenders.add(kAppenders);
  for (int a = 0; a < kAppenders; ++a) {
    csp::go([log, a, &append_errors, &appenders]() -> csp::Task<void> {
      for (int i = 0; i < kPerAppender; ++i) {
        std::string p = payload(a, i);
        absl::StatusOr<std::uint64_t> seq = co_await log->append(std::move(p));
        if (!seq.ok()) append_errors.fetch_add(1);
      }
      appenders.done();
    });
  }
  appenders.wait_blocking();
  EXPECT_EQ(append_errors.load(), 0);
  while (tally.acked_total.load() < kTotal && tally.bad.load() == 0) std::this_thread::yield();
  cancel();
  consumers.wait_blocking();
  expect_exactly_once(tally, *log);
}

TEST(DurableLogConcurrency, ThreadAppendersGoroutineConsumersAndCloseWakesThem) {
  testing::FaultInjectingFileSystem fs;
  auto opened = DurableLog::open(fs, "/c", options());
  ASSERT_TRUE(opened.ok()) << opened.status();
  DurableLog* log = opened->get();
  Tally tally;
  csp::WaitGroup consumers;
  consumers.add(kConsumers);
  for (int c = 0; c < kConsumers; ++c) {
    csp::go(consume(log, csp::Context::background(), &tally, &consumers));
  }
  std::vector<std::thread> threads;
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([log, a] {
      for (int i = 0; i < kPerAppender; ++i) ASSERT_TRUE(log->append_blocking(payload(a, i)).ok());
    });
  }
  for (auto& t : threads) t.join();
  while (tally.acked_total.load() < kTotal && tally.bad.load() == 0) std::this_thread::yield();
  expect_exactly_once(tally, *log);
  ASSERT_TRUE(log->close().ok());  // the consumers are parked in next(): close wakes them
  consumers.wait_blocking();
}

TEST(DurableLogConcurrency, PosixFileSystemWithRealFsync) {
  std::string pattern = "/tmp/otlpd-conc-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  {
    auto opened = DurableLog::open(posix_file_system(), pattern, options());
    ASSERT_TRUE(opened.ok()) << opened.status();
    DurableLog* log = opened->get();
    Tally tally;
    auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
    csp::WaitGroup consumers, appenders;
    consumers.add(kConsumers);
    for (int c = 0; c < kConsumers; ++c) csp::go(consume(log, ctx, &tally, &consumers));
    appenders.add(kAppenders);
    for (int a = 0; a < kAppenders; ++a) {
      csp::go([log, a, &appenders]() -> csp::Task<void> {
        for (int i = 0; i < kPerAppender; ++i) {
          std::string p = payload(a, i);
          (void)co_await log->append(std::move(p));
        }
        appenders.done();
      });
    }
    appenders.wait_blocking();
    while (tally.acked_total.load() < kTotal && tally.bad.load() == 0) std::this_thread::yield();
    cancel();
    consumers.wait_blocking();
    expect_exactly_once(tally, *log);
    // Group commit: with 8 appenders in flight, far fewer syncs than appends.
    EXPECT_LT(log->stats().group_commits, static_cast<std::uint64_t>(kTotal));
  }
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
}

}  // namespace
}  // namespace storage
