// WaitGroup, TaskGroup, Semaphore, WeightedSemaphore and WorkerPool.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "csp/internal/test_util.h"
#include "csp/semaphore.h"
#include "csp/task_group.h"
#include "csp/timer.h"
#include "csp/wait_group.h"
#include "csp/weighted_semaphore.h"
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

// Starts acquire(n) as a goroutine; the returned channel yields its status.
Chan<absl::Status> acquire_async(WeightedSemaphore& sem, std::int64_t n,
                                 Context ctx = Context::background()) {
  Chan<absl::Status> result(1);
  go([&sem, n, ctx, result]() -> Task<void> {
    absl::Status s = co_await sem.acquire(ctx, n);
    result.try_send(s);
  });
  return result;
}

TEST(WeightedSemaphore, WaitersAreServedInOrderAndALargeOneIsNotOvertaken) {
  testing::LeakCheck leaks;
  WeightedSemaphore sem(10);
  ASSERT_TRUE(sem.try_acquire(8));
  Chan<absl::Status> big = acquire_async(sem, 5);
  while (sem.waiting() < 1) std::this_thread::yield();
  // 2 units are free, but the waiting 5 came first: a 1 must not overtake it.
  EXPECT_FALSE(sem.try_acquire(1));
  Chan<absl::Status> small = acquire_async(sem, 1);
  sem.release(8);
  EXPECT_TRUE(big.recv_blocking().value().ok());
  EXPECT_TRUE(small.recv_blocking().value().ok());
  EXPECT_EQ(sem.held(), 6);
  sem.release(5);
  sem.release(1);
  EXPECT_EQ(sem.held(), 0);
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(WeightedSemaphore, MoreThanTheCapacityRunsAlone) {
  WeightedSemaphore sem(10);
  EXPECT_TRUE(block_on(sem.acquire(Context::background(), 25)).ok()) << "alone: granted";
  EXPECT_FALSE(sem.try_acquire(1));
  Chan<absl::Status> next = acquire_async(sem, 1);
  while (sem.waiting() < 1) std::this_thread::yield();
  sem.release(25);
  EXPECT_TRUE(next.recv_blocking().value().ok());
  sem.release(1);
}

TEST(WeightedSemaphore, AWaiterWhoseContextEndsTakesNothingAndLetsOthersIn) {
  WeightedSemaphore sem(10);
  ASSERT_TRUE(sem.try_acquire(6));
  auto [ctx, cancel] = with_cancel(Context::background());
  Chan<absl::Status> head = acquire_async(sem, 8, ctx);  // cannot fit while 6 are held
  while (sem.waiting() < 1) std::this_thread::yield();
  Chan<absl::Status> behind = acquire_async(sem, 3);  // fits, but queued behind the head
  while (sem.waiting() < 2) std::this_thread::yield();
  cancel();
  EXPECT_EQ(head.recv_blocking().value().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(behind.recv_blocking().value().ok()) << "the head left: the 3 fits";
  EXPECT_EQ(sem.held(), 9);
  sem.release(9);
  EXPECT_EQ(sem.held(), 0);
}

TEST(WeightedSemaphore, ManyGoroutinesNeverHoldMoreThanTheCapacity) {
  testing::LeakCheck leaks;
  WeightedSemaphore sem(20);
  std::atomic<std::int64_t> inside{0}, max_inside{0};
  WaitGroup wg;
  constexpr int kN = 200;
  wg.add(kN);
  for (int i = 0; i < kN; ++i) {
    go([&, n = 1 + i % 7]() -> Task<void> {
      absl::Status s = co_await sem.acquire(Context::background(), n);
      EXPECT_TRUE(s.ok());
      const std::int64_t now = inside.fetch_add(n) + n;
      std::int64_t prev = max_inside.load();
      while (now > prev && !max_inside.compare_exchange_weak(prev, now)) {
      }
      co_await sleep(50us);
      inside.fetch_sub(n);
      sem.release(n);
      wg.done();
    });
  }
  wg.wait_blocking();
  EXPECT_LE(max_inside.load(), 20);
  EXPECT_EQ(sem.held(), 0);
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
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
