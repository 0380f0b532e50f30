#include "csp/timer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "csp/internal/test_util.h"
#include "csp/select.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

using namespace std::chrono_literals;

TEST(Timer, SleepParksForAtLeastTheDuration) {
  const auto start = Clock::now();
  block_on([]() -> Task<void> { co_await sleep(15ms); }());
  EXPECT_GE(Clock::now() - start, 15ms);
}

TEST(Timer, SleepingGoroutinesDoNotHoldWorkers) {
  // More sleepers than workers: they must all be parked at once, not run one after another.
  testing::LeakCheck leaks;
  constexpr int kSleepers = 64;
  WaitGroup wg;
  wg.add(kSleepers);
  Chan<Unit> release(0);
  for (int i = 0; i < kSleepers; ++i) {
    go([&]() -> Task<void> {
      co_await sleep(5ms);
      co_await release.recv();
      wg.done();
    });
  }
  // All of them get past their sleep and park on `release` together.
  while (runtime_stats().parked < leaks.goroutines_before() + kSleepers) {
    std::this_thread::sleep_for(1ms);
  }
  release.close();
  wg.wait_blocking();
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(Timer, AfterDeliversTheTimeOnce) {
  const auto start = Clock::now();
  Chan<TimePoint> ch = after(5ms);
  auto t = ch.recv_blocking();
  ASSERT_TRUE(t.has_value());
  EXPECT_GE(*t - start, 5ms);
  EXPECT_EQ(select_blocking(recv(ch), recv(after(20ms))), 1u) << "fires only once";
}

TEST(Timer, StopBeforeFiringPreventsDelivery) {
  Timer t(50ms);
  EXPECT_TRUE(t.stop());
  EXPECT_FALSE(t.stop());
  EXPECT_EQ(select_blocking(recv(t.chan()), recv(after(100ms))), 1u);
}

TEST(Timer, StopAfterFiringReportsFalse) {
  Timer t(1ms);
  t.chan().recv_blocking();
  EXPECT_FALSE(t.stop());
}

TEST(Timer, ResetRearms) {
  Timer t(1h);
  EXPECT_TRUE(t.reset(2ms));
  EXPECT_TRUE(t.chan().recv_blocking().has_value());
  EXPECT_FALSE(t.reset(2ms)) << "it had fired";
  EXPECT_TRUE(t.chan().recv_blocking().has_value());
}

TEST(Timer, TickerTicksRepeatedlyUntilStopped) {
  Ticker ticker(2ms);
  TimePoint last{};
  for (int i = 0; i < 5; ++i) {
    auto t = ticker.chan().recv_blocking();
    ASSERT_TRUE(t.has_value());
    EXPECT_GT(*t, last);
    last = *t;
  }
  ticker.stop();
  ticker.chan().try_recv();  // at most one tick was buffered
  EXPECT_EQ(select_blocking(recv(ticker.chan()), recv(after(30ms))), 1u);
}

TEST(Timer, TickerDropsTicksForASlowReceiver) {
  Ticker ticker(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ticker.chan().size(), 1u) << "missed ticks are dropped, not queued";
}

TEST(Timer, AfterFuncRunsOnceAndCanBeCancelled) {
  std::atomic<int> runs{0};
  Chan<Unit> ran(1);
  after_func(1ms, [&](TimePoint) {
    runs.fetch_add(1);
    ran.try_send(Unit{});
  });
  ran.recv_blocking();
  auto h = after_func(1h, [&](TimePoint) { runs.fetch_add(100); });
  EXPECT_TRUE(h.cancel());
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace csp
