#include "components/processors/memory_limiter/memory_limiter.h"

#include <gtest/gtest.h>

#include <atomic>

#include "components/testing/recording_consumer.h"
#include "csp/csp.h"

namespace components {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kMiB = 1024 * 1024;

// A limiter with limit 100 MiB, spike allowance 20 MiB (soft limit 80 MiB), whose resident
// memory is whatever the test says and whose checks only the test runs (the ticker's period is
// an hour).
struct Fixture {
  pipeline::Host host{pipeline::LogLevel::kError};
  std::atomic<std::int64_t> rss{10 * kMiB};
  std::atomic<int> give_backs{0};
  std::shared_ptr<testing::RecordingConsumer> sink = std::make_shared<testing::RecordingConsumer>();
  std::shared_ptr<MemoryLimiter> limiter;

  Fixture() {
    MemoryLimiterConfig c;
    c.check_interval = std::chrono::hours(1);
    c.limit_mib = 100;
    c.spike_limit_mib = 20;
    MemoryProbe probe{[this] { return rss.load(); }, [this] { give_backs.fetch_add(1); }};
    limiter = std::make_shared<MemoryLimiter>("memory_limiter", c, host, std::move(probe));
    EXPECT_TRUE(csp::block_on(limiter->start()).ok());
  }
  ~Fixture() {
    auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), 5s);
    csp::block_on(limiter->shutdown(ctx));
    cancel();
  }
  pipeline::Admission& admission() { return host.admission(); }
};

TEST(MemoryLimiter, BurstIsRefusedThenAcceptedWhenClaimsAreReleasedAlthoughRssStaysHigh) {
  Fixture f;
  // A burst: a stalled exporter holds 65 MiB; the first request's claim fits, the second would
  // pass the soft limit (80 MiB) and is refused.
  pipeline::MemoryTicket stalled = f.admission().hold(65 * kMiB);
  std::vector<std::shared_ptr<void>> burst;
  burst.push_back(f.admission().claim(10 * kMiB));
  ASSERT_NE(burst.back(), nullptr);
  EXPECT_EQ(f.admission().claim(10 * kMiB), nullptr);
  // Decoding made the process grow past the hard limit: the check tightens, and even a small
  // claim is refused.
  f.rss = 300 * kMiB;
  f.limiter->check();
  EXPECT_TRUE(f.limiter->tightened());
  EXPECT_GE(f.give_backs.load(), 1);  // it asked the allocator first
  EXPECT_EQ(f.admission().claim(1024), nullptr);
  // The burst is answered; the allocator keeps its pages (RSS stays at 300 MiB).
  burst.clear();
  stalled.reset();
  EXPECT_EQ(f.admission().used(), 0);
  f.limiter->check();
  EXPECT_FALSE(f.limiter->tightened());
  EXPECT_NE(f.admission().claim(10 * kMiB), nullptr);
  // RSS staying high does not tighten again: data keeps flowing, check after check.
  for (int i = 0; i < 3 * MemoryLimiter::kMaxTightenedChecks; ++i) {
    f.limiter->check();
    ASSERT_FALSE(f.limiter->tightened()) << i;
    ASSERT_NE(f.admission().claim(10 * kMiB), nullptr) << i;
  }
  // RSS falls a little (the allocator returned some pages), then new data grows it by more than
  // a quarter of the spike allowance: that tightens again, the signal is bounded, not disabled.
  f.rss = 290 * kMiB;
  f.limiter->check();
  ASSERT_FALSE(f.limiter->tightened());
  f.rss = 290 * kMiB + 4 * kMiB;  // less than 20/4 MiB of growth
  f.limiter->check();
  ASSERT_FALSE(f.limiter->tightened());
  f.rss = 290 * kMiB + 6 * kMiB;
  f.limiter->check();
  EXPECT_TRUE(f.limiter->tightened());
  f.limiter->check();  // nothing accounted: relaxes at the next check
  EXPECT_FALSE(f.limiter->tightened());
}

TEST(MemoryLimiter, TightenedStateEndsAfterABoundedNumberOfChecks) {
  Fixture f;
  // Accounted usage stays at the soft limit (a stalled exporter's queue) and RSS stays high.
  pipeline::MemoryTicket queued = f.admission().hold(85 * kMiB);
  f.rss = 200 * kMiB;
  f.limiter->check();
  ASSERT_TRUE(f.limiter->tightened());
  int checks = 0;
  while (f.limiter->tightened() && checks < 100) {
    f.limiter->check();
    ++checks;
  }
  EXPECT_EQ(checks, MemoryLimiter::kMaxTightenedChecks);
  EXPECT_FALSE(f.admission().over_limit());
  // Accounting still refuses what does not fit, and accepts again once the queue drains.
  EXPECT_EQ(f.admission().claim(1 * kMiB), nullptr);
  queued.reset();
  EXPECT_NE(f.admission().claim(1 * kMiB), nullptr);
}

TEST(MemoryLimiter, RssBelowTheLimitNeverTightensAndDropsTheRearmLevel) {
  Fixture f;
  f.rss = 95 * kMiB;  // above the soft limit, below the hard one: only give memory back
  f.limiter->check();
  EXPECT_FALSE(f.limiter->tightened());
  EXPECT_EQ(f.give_backs.load(), 1);
  for (int i = 1; i < MemoryLimiter::kGiveBackEveryChecks; ++i) f.limiter->check();
  EXPECT_EQ(f.give_backs.load(), 1);  // not at every check: it may be costly
  f.limiter->check();
  EXPECT_EQ(f.give_backs.load(), 2);
  f.rss = 150 * kMiB;
  f.limiter->check();
  EXPECT_TRUE(f.limiter->tightened());
  f.limiter->check();
  EXPECT_FALSE(f.limiter->tightened());
  f.rss = 50 * kMiB;
  f.limiter->check();
  // A new excursion past the limit tightens again even though it is lower than the last one.
  f.rss = 120 * kMiB;
  f.limiter->check();
  EXPECT_TRUE(f.limiter->tightened());
}

TEST(MemoryLimiter, RefusesBatchesOnlyWhileTightened) {
  Fixture f;
  // Two pipelines list the same limiter id: one limiter, a processor in each.
  MemoryLimiterProcessor traces(f.limiter, f.sink), logs(f.limiter, f.sink);
  auto ctx = csp::Context::background();
  pipeline::Batch b1{otlp::Signal::kTraces, "", 0};
  EXPECT_TRUE(csp::block_on(traces.consume(ctx, std::move(b1))).ok());
  f.rss = 500 * kMiB;
  f.limiter->check();
  pipeline::Batch b2{otlp::Signal::kTraces, "", 0};
  EXPECT_EQ(csp::block_on(traces.consume(ctx, std::move(b2))).code(),
            absl::StatusCode::kResourceExhausted);
  pipeline::Batch b3{otlp::Signal::kLogs, "", 0};
  EXPECT_EQ(csp::block_on(logs.consume(ctx, std::move(b3))).code(),
            absl::StatusCode::kResourceExhausted);
  f.limiter->check();
  pipeline::Batch b4{otlp::Signal::kTraces, "", 0};
  EXPECT_TRUE(csp::block_on(traces.consume(ctx, std::move(b4))).ok());
  // One pipeline's processor shutting down leaves the limiter, and the other pipeline, running.
  csp::block_on(traces.shutdown(ctx));
  pipeline::Batch b5{otlp::Signal::kTraces, "", 0};
  EXPECT_EQ(csp::block_on(traces.consume(ctx, std::move(b5))).code(),
            absl::StatusCode::kUnavailable);
  pipeline::Batch b6{otlp::Signal::kLogs, "", 0};
  EXPECT_TRUE(csp::block_on(logs.consume(ctx, std::move(b6))).ok());
  EXPECT_EQ(f.sink->batches().size(), 3u);
}

TEST(MemoryLimiter, OnlyTheFirstLimiterStartedRunsTheCheck) {
  Fixture f;          // started: its limiter runs the check
  f.rss = 90 * kMiB;  // above the soft limit: each check asks the allocator to give back
  std::atomic<int> second_give_backs{0};
  MemoryLimiterConfig c;
  c.check_interval = std::chrono::hours(1);
  c.limit_mib = 100;
  MemoryLimiter second("memory_limiter/2", c, f.host,
                       MemoryProbe{[&] { return f.rss.load(); }, [&] { ++second_give_backs; }});
  ASSERT_TRUE(csp::block_on(second.start()).ok());
  EXPECT_EQ(second_give_backs.load(), 0);  // no first check of its own
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), 5s);
  csp::block_on(second.shutdown(ctx));
  cancel();
  // The first one still owns the check; after it shuts down, another limiter may take it.
  EXPECT_FALSE(f.admission().take_rss_check(&second));
}

}  // namespace
}  // namespace components
