#include "csp/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

#include "csp/chan.h"
#include "csp/internal/test_util.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

Task<int> add_one(int x) { co_return x + 1; }

Task<int> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return co_await chain(depth - 1) + 1;
}

Task<int> throws() {
  throw std::runtime_error("boom");
  co_return 0;
}

TEST(Scheduler, BlockOnReturnsTheValue) { EXPECT_EQ(block_on(add_one(41)), 42); }

// With optimisation g++ turns symmetric transfer into a tail call, so 10000 nested awaits use
// constant stack. AddressSanitizer's instrumentation blocks that tail call; there only the
// result is checked, on a chain short enough for the stack.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kChainDepth = 500;
#else
constexpr int kChainDepth = 10000;
#endif
TEST(Scheduler, DeepAwaitChainsDoNotGrowTheStack) {
  EXPECT_EQ(block_on(chain(kChainDepth)), kChainDepth);
}

TEST(Scheduler, ExceptionsPropagateToTheAwaiter) {
  EXPECT_THROW(block_on(throws()), std::runtime_error);
  auto caught = block_on([]() -> Task<bool> {
    try {
      co_await throws();
    } catch (const std::runtime_error& e) {
      co_return std::string(e.what()) == "boom";
    }
    co_return false;
  }());
  EXPECT_TRUE(caught);
}

TEST(Scheduler, IdleWorkersStealWork) {
  // Every goroutine holds its worker (without parking) until it has seen all three workers
  // running one of them. That can only finish if idle workers wake up and steal from the
  // worker whose queue holds the rest.
  constexpr std::size_t kWorkers = 3;
  Scheduler s(SchedulerOptions{kWorkers});
  EXPECT_EQ(s.worker_count(), kWorkers);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> gave_up{0};
  WaitGroup wg;
  constexpr int kN = 12;
  wg.add(kN);
  for (int i = 0; i < kN; ++i) {
    go(s, [&]() -> Task<void> {
      {
        std::lock_guard lock(mu);
        threads.insert(std::this_thread::get_id());
      }
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      for (;;) {
        {
          std::lock_guard lock(mu);
          if (threads.size() == kWorkers) break;
        }
        if (std::chrono::steady_clock::now() > until) {
          gave_up.fetch_add(1);
          break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      wg.done();
      co_return;
    });
  }
  wg.wait_blocking();
  EXPECT_EQ(threads.size(), kWorkers);
  EXPECT_EQ(gave_up.load(), 0);
}

TEST(Scheduler, GoroutinesSpawnGoroutines) {
  testing::LeakCheck leaks;
  std::atomic<int> count{0};
  WaitGroup wg;
  wg.add(1);
  struct Tree {
    static Task<void> grow(int depth, std::atomic<int>* count, WaitGroup* wg) {
      count->fetch_add(1);
      if (depth > 0) {
        wg->add(2);
        go(grow(depth - 1, count, wg));
        go(grow(depth - 1, count, wg));
      }
      wg->done();
      co_return;
    }
  };
  go(Tree::grow(12, &count, &wg));
  wg.wait_blocking();
  EXPECT_EQ(count.load(), (1 << 13) - 1);
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
  EXPECT_EQ(leaks.frames_now(), leaks.frames_before());
}

TEST(Scheduler, YieldLetsOthersRun) {
  // Two goroutines on a one-worker scheduler take turns only through yield(). A goroutine on
  // that worker starts both, so they sit in its local queue in order before either runs.
  Scheduler s(SchedulerOptions{1});
  std::vector<int> order;
  WaitGroup wg;
  wg.add(2);
  auto turn_taker = [](int id, std::vector<int>* order, WaitGroup* wg) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      order->push_back(id);
      co_await yield();
    }
    wg->done();
  };
  go(s, [&]() -> Task<void> {
    go(turn_taker(0, &order, &wg));
    go(turn_taker(1, &order, &wg));
    co_return;
  });
  wg.wait_blocking();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 0, 1, 0, 1}));
}

TEST(Scheduler, StatsCountParkedAndLiveGoroutines) {
  testing::LeakCheck leaks;
  Chan<int> gate(0);
  constexpr int kN = 25;
  for (int i = 0; i < kN; ++i) {
    go([&]() -> Task<void> { co_await gate.recv(); });
  }
  while (runtime_stats().parked < leaks.goroutines_before() + kN) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  RuntimeStats s = runtime_stats();
  EXPECT_EQ(s.live_goroutines, leaks.goroutines_before() + kN);
  EXPECT_EQ(s.workers, default_scheduler().worker_count());
  EXPECT_EQ(s.per_worker.size(), s.workers);
  gate.close();
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
  EXPECT_EQ(leaks.frames_now(), leaks.frames_before()) << "every frame was freed";
}

TEST(Scheduler, ThreadsAndGoroutinesShareChannels) {
  // A goroutine relays from a channel fed by a plain thread to one drained by another.
  Chan<int> in(0), out(0);
  go([&]() -> Task<void> {
    while (auto v = co_await in.recv()) co_await out.send(*v * 2);
    out.close();
  });
  std::thread feeder([&] {
    for (int i = 0; i < 1000; ++i) in.send_blocking(i);
    in.close();
  });
  long long sum = 0;
  while (auto v = out.recv_blocking()) sum += *v;
  feeder.join();
  EXPECT_EQ(sum, 2LL * 999 * 1000 / 2);
}

}  // namespace
}  // namespace csp
