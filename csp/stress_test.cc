// Exactly-once delivery and per-producer order through buffered and unbuffered channels with
// many producers and consumers, and no goroutine or frame left behind.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "csp/chan.h"
#include "csp/internal/test_util.h"
#include "csp/scheduler.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

struct Shape {
  int producers;
  int consumers;
  std::size_t capacity;
};

class ProducersConsumers : public ::testing::TestWithParam<Shape> {};

TEST_P(ProducersConsumers, EveryItemExactlyOnceInPerProducerOrder) {
  const Shape shape = GetParam();
  constexpr std::uint32_t kPerProducer = 20000;
  testing::LeakCheck leaks;
  Chan<std::uint64_t> ch(shape.capacity);
  std::vector<std::vector<std::uint64_t>> received(shape.consumers);
  WaitGroup producers, consumers;
  producers.add(shape.producers);
  consumers.add(shape.consumers);
  for (int p = 0; p < shape.producers; ++p) {
    go([&, p]() -> Task<void> {
      for (std::uint32_t i = 0; i < kPerProducer; ++i) {
        const bool sent = co_await ch.send((static_cast<std::uint64_t>(p) << 32) | i);
        EXPECT_TRUE(sent);
      }
      producers.done();
    });
  }
  for (int c = 0; c < shape.consumers; ++c) {
    go([&, c]() -> Task<void> {
      while (auto v = co_await ch.recv()) received[c].push_back(*v);
      consumers.done();
    });
  }
  producers.wait_blocking();
  ch.close();
  consumers.wait_blocking();

  std::vector<std::vector<int>> seen(shape.producers, std::vector<int>(kPerProducer, 0));
  for (const auto& items : received) {
    // Within one consumer, each producer's items appear in the order they were sent.
    std::vector<std::int64_t> last(shape.producers, -1);
    for (std::uint64_t v : items) {
      const auto p = static_cast<std::size_t>(v >> 32);
      const auto i = static_cast<std::int64_t>(v & 0xffffffffu);
      ASSERT_LT(p, seen.size());
      ASSERT_GT(i, last[p]) << "producer " << p << " reordered";
      last[p] = i;
      ++seen[p][i];
    }
  }
  for (int p = 0; p < shape.producers; ++p) {
    for (std::uint32_t i = 0; i < kPerProducer; ++i) {
      ASSERT_EQ(seen[p][i], 1) << "item " << p << ":" << i;
    }
  }
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
  EXPECT_EQ(leaks.frames_now(), leaks.frames_before());
}

INSTANTIATE_TEST_SUITE_P(Shapes, ProducersConsumers,
                         ::testing::Values(Shape{1, 1, 0}, Shape{4, 4, 0}, Shape{8, 2, 0},
                                           Shape{1, 1, 64}, Shape{4, 4, 16}, Shape{2, 8, 1},
                                           Shape{8, 8, 1024}),
                         [](const auto& info) {
                           return "p" + std::to_string(info.param.producers) + "_c" +
                                  std::to_string(info.param.consumers) + "_cap" +
                                  std::to_string(info.param.capacity);
                         });

// Thousands of goroutines blocked and released many times over: nothing may leak.
TEST(Stress, ManyShortLivedGoroutinesLeakNothing) {
  testing::LeakCheck leaks;
  for (int round = 0; round < 20; ++round) {
    Chan<int> ch(0);
    WaitGroup wg;
    wg.add(500);
    for (int i = 0; i < 500; ++i) {
      go([&, i]() -> Task<void> {
        co_await ch.send(i);
        wg.done();
      });
    }
    long long sum = 0;
    for (int i = 0; i < 500; ++i) sum += *ch.recv_blocking();
    wg.wait_blocking();
    ASSERT_EQ(sum, 499LL * 500 / 2);
  }
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
  EXPECT_EQ(leaks.frames_now(), leaks.frames_before());
}

}  // namespace
}  // namespace csp
