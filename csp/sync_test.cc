// WaitGroup, TaskGroup, Semaphore and WorkerPool.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "csp/internal/test_util.h"
#include "csp/semaphore.h"
#include "csp/task_group.h"
#include "csp/timer.h"
#include "csp/wait_group.h"
#include "csp/worker_pool.h"

namespace csp {
namespace {

using namespace std::chrono_literals;

TEST(WaitGroup, WaitsForEveryDone) {
  testing::LeakCheck leaks;
  WaitGroup wg;
  std::atomic<int> finished{0};
  constexpr int kN = 1000;
  wg.add(kN);
  for (int i = 0; i < kN; ++i) {
    go([&]() -> Task<void> {
      finished.fetch_add(1);
      wg.done();
      co_return;
    });
  }
  wg.wait_blocking();
  EXPECT_EQ(finished.load(), kN);
  EXPECT_EQ(wg.count(), 0);
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(WaitGroup, GoroutineWaitersAreAllWoken) {
  WaitGroup gate, waiters;
  gate.add(1);
  waiters.add(10);
  std::atomic<int> woke{0};
  for (int i = 0; i < 10; ++i) {
    go([&]() -> Task<void> {
      co_await gate.wait();
      woke.fetch_add(1);
      waiters.done();
    });
  }
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(woke.load(), 0);
  gate.done();
  waiters.wait_blocking();
  EXPECT_EQ(woke.load(), 10);
}

TEST(WaitGroup, WaitOnZeroReturnsAtOnce) {
  WaitGroup wg;
  wg.wait_blocking();
  block_on([&]() -> Task<void> { co_await wg.wait(); }());
}

TEST(TaskGroup, ReturnsOkWhenAllSucceed) {
  TaskGroup g;
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) {
    g.go([&]() -> Task<absl::Status> {
      ran.fetch_add(1);
      co_return absl::OkStatus();
    });
  }
  EXPECT_TRUE(g.wait_blocking().ok());
  EXPECT_EQ(ran.load(), 20);
}

TEST(TaskGroup, FirstErrorCancelsTheRest) {
  TaskGroup g;
  std::atomic<int> cancelled{0};
  for (int i = 0; i < 5; ++i) {
    g.go([&]() -> Task<absl::Status> {
      // Park until the group is cancelled.
      co_await g.context().done().recv();
      cancelled.fetch_add(1);
      co_return g.context().err();
    });
  }
  g.go([]() -> Task<absl::Status> { co_return absl::UnavailableError("backend down"); });
  absl::Status s = block_on(g.wait());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "backend down");
  EXPECT_EQ(cancelled.load(), 5);
}

TEST(Semaphore, LimitsConcurrency) {
  testing::LeakCheck leaks;
  Semaphore sem(3);
  std::atomic<int> inside{0}, max_inside{0};
  WaitGroup wg;
  constexpr int kN = 50;
  wg.add(kN);
  for (int i = 0; i < kN; ++i) {
    go([&]() -> Task<void> {
      co_await sem.acquire();
      int now = inside.fetch_add(1) + 1;
      int prev = max_inside.load();
      while (now > prev && !max_inside.compare_exchange_weak(prev, now)) {
      }
      co_await sleep(100us);
      inside.fetch_sub(1);
      sem.release();
      wg.done();
    });
  }
  wg.wait_blocking();
  EXPECT_LE(max_inside.load(), 3);
  EXPECT_GE(max_inside.load(), 1);
  EXPECT_EQ(sem.in_use(), 0u);
  EXPECT_FALSE(sem.release()) << "release without acquire is reported";
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(Semaphore, AcquireWithContextGivesUp) {
  Semaphore sem(1);
  ASSERT_TRUE(sem.try_acquire());
  EXPECT_FALSE(sem.try_acquire());
  auto [ctx, cancel] = with_timeout(Context::background(), 2ms);
  EXPECT_EQ(block_on(sem.acquire(ctx)).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(sem.release());
  EXPECT_TRUE(block_on(sem.acquire(Context::background())).ok());
}

TEST(WorkerPool, RunsEveryJobAndAppliesBackpressure) {
  testing::LeakCheck leaks;
  std::atomic<int> done{0};
  {
    WorkerPool pool(4, 8);
    Chan<Unit> gate(0);
    // Occupy all four workers, then fill the queue: the next try_submit must be refused.
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(pool.submit_blocking([&]() -> Task<void> {
        co_await gate.recv();
        done.fetch_add(1);
      }));
    }
    while (pool.queued() > 0) std::this_thread::sleep_for(1ms);
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(pool.try_submit([&]() -> Task<void> {
        done.fetch_add(1);
        co_return;
      }));
    }
    EXPECT_FALSE(pool.try_submit([]() -> Task<void> { co_return; })) << "queue is full";
    gate.close();
    pool.close();
    pool.wait_blocking();
  }
  EXPECT_EQ(done.load(), 12);
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

}  // namespace
}  // namespace csp
