#include "csp/chan.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "csp/internal/test_util.h"
#include "csp/scheduler.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

TEST(Chan, BufferedIsFifoAndReportsSizeAndCapacity) {
  Chan<int> ch(3);
  EXPECT_EQ(ch.capacity(), 3u);
  EXPECT_TRUE(ch.try_send(1));
  EXPECT_TRUE(ch.try_send(2));
  EXPECT_TRUE(ch.try_send(3));
  EXPECT_FALSE(ch.try_send(4)) << "a full buffer must refuse";
  EXPECT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch.try_recv(), 1);
  EXPECT_EQ(ch.try_recv(), 2);
  EXPECT_TRUE(ch.try_send(5));
  EXPECT_EQ(ch.try_recv(), 3);
  EXPECT_EQ(ch.try_recv(), 5);
  bool closed = true;
  EXPECT_EQ(ch.try_recv(&closed), std::nullopt);
  EXPECT_FALSE(closed);
}

TEST(Chan, UnbufferedTrySendNeedsAWaitingReceiver) {
  Chan<int> ch(0);
  EXPECT_FALSE(ch.try_send(1));
  EXPECT_EQ(ch.try_recv(), std::nullopt);
  std::optional<int> got;
  std::thread receiver([&] { got = ch.recv_blocking(); });
  // The receiver parks; a try_send succeeds once it is queued.
  while (!ch.try_send(7)) std::this_thread::yield();
  receiver.join();
  EXPECT_EQ(got, 7);
}

TEST(Chan, CloseDrainsThenReportsClosed) {
  Chan<std::string> ch(2);
  ASSERT_TRUE(ch.try_send(std::string("a")));
  ASSERT_TRUE(ch.try_send(std::string("b")));
  EXPECT_TRUE(ch.close());
  EXPECT_FALSE(ch.close()) << "closing twice is reported";
  EXPECT_FALSE(ch.try_send(std::string("c"))) << "send on closed fails";
  EXPECT_EQ(block_on([&]() -> Task<std::optional<std::string>> { co_return co_await ch.recv(); }()),
            "a");
  EXPECT_EQ(ch.recv_blocking(), "b");
  bool closed = false;
  EXPECT_EQ(ch.try_recv(&closed), std::nullopt);
  EXPECT_TRUE(closed);
  EXPECT_EQ(ch.recv_blocking(), std::nullopt);
}

TEST(Chan, SendOnClosedReturnsFalseInGoroutine) {
  Chan<int> ch(1);
  ch.close();
  EXPECT_FALSE(block_on([&]() -> Task<bool> { co_return co_await ch.send(1); }()));
}

TEST(Chan, MoveOnlyValuesTravelThroughBothKinds) {
  for (std::size_t cap : {0u, 4u}) {
    Chan<std::unique_ptr<int>> ch(cap);
    WaitGroup wg;
    wg.add(1);
    go([&]() -> Task<void> {
      for (int i = 0; i < 100; ++i) co_await ch.send(std::make_unique<int>(i));
      ch.close();
      wg.done();
    });
    int expected = 0;
    while (auto v = ch.recv_blocking()) {
      ASSERT_NE(*v, nullptr);
      EXPECT_EQ(**v, expected++);
    }
    EXPECT_EQ(expected, 100);
    wg.wait_blocking();
  }
}

TEST(Chan, FailedTrySendLeavesAMoveOnlyValueIntact) {
  Chan<std::unique_ptr<int>> ch(0);
  auto v = std::make_unique<int>(5);
  EXPECT_FALSE(ch.try_send(std::move(v)));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 5);
}

TEST(Chan, RendezvousHandsTheValueStraightToAParkedReceiver) {
  // A goroutine parks in recv; a thread's blocking send completes only when it is taken.
  Chan<int> ch(0);
  Chan<int> result(1);
  go([&]() -> Task<void> {
    auto v = co_await ch.recv();
    co_await result.send(v.value_or(-1));
  });
  EXPECT_TRUE(ch.send_blocking(41));
  EXPECT_EQ(result.recv_blocking(), 41);
}

TEST(Chan, CloseWakesEveryWaiter) {
  testing::LeakCheck leaks;
  constexpr int kReceivers = 50;
  constexpr int kSenders = 50;
  Chan<int> empty(0);
  Chan<int> full(1);
  ASSERT_TRUE(full.try_send(0));
  std::atomic<int> receivers_saw_closed{0};
  std::atomic<int> senders_failed{0};
  WaitGroup parked_done;
  parked_done.add(kReceivers + kSenders);
  for (int i = 0; i < kReceivers; ++i) {
    go([&]() -> Task<void> {
      if (!(co_await empty.recv()).has_value()) receivers_saw_closed.fetch_add(1);
      parked_done.done();
    });
  }
  for (int i = 0; i < kSenders; ++i) {
    go([&, i]() -> Task<void> {
      if (!co_await full.send(i)) senders_failed.fetch_add(1);
      parked_done.done();
    });
  }
  // Wait until all of them are parked, then close both channels.
  while (runtime_stats().parked < leaks.goroutines_before() + kReceivers + kSenders) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(empty.close());
  EXPECT_TRUE(full.close());
  parked_done.wait_blocking();
  EXPECT_EQ(receivers_saw_closed.load(), kReceivers);
  EXPECT_EQ(senders_failed.load(), kSenders);
  EXPECT_EQ(full.recv_blocking(), 0) << "the buffered value survives close";
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(Chan, BlockingVariantsWorkBetweenPlainThreads) {
  Chan<int> ch(0);
  constexpr int kItems = 10000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) ASSERT_TRUE(ch.send_blocking(i));
    ch.close();
  });
  long long sum = 0;
  int n = 0;
  while (auto v = ch.recv_blocking()) {
    EXPECT_EQ(*v, n);
    sum += *v;
    ++n;
  }
  producer.join();
  EXPECT_EQ(n, kItems);
  EXPECT_EQ(sum, static_cast<long long>(kItems) * (kItems - 1) / 2);
}

TEST(Chan, NilChannelNeverCompletesNonBlockingOperations) {
  Chan<int> nil;
  EXPECT_TRUE(nil.is_nil());
  EXPECT_FALSE(nil.try_send(1));
  EXPECT_EQ(nil.try_recv(), std::nullopt);
  EXPECT_FALSE(nil.close());
  EXPECT_EQ(nil.capacity(), 0u);
}

TEST(Chan, BufferedValuesAreDestroyedWithTheChannel) {
  auto tracker = std::make_shared<int>(0);
  {
    Chan<std::shared_ptr<int>> ch(4);
    ASSERT_TRUE(ch.try_send(tracker));
    ASSERT_TRUE(ch.try_send(tracker));
    EXPECT_EQ(tracker.use_count(), 3);
  }
  EXPECT_EQ(tracker.use_count(), 1);
}

}  // namespace
}  // namespace csp
