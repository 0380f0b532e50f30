#include "pipeline/admission.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace pipeline {
namespace {

TEST(Admission, WithoutLimitsEveryClaimIsGrantedAndCounted) {
  Admission a;
  auto c1 = a.claim(100);
  auto c2 = a.claim(1 << 30);
  ASSERT_NE(c1, nullptr);
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(a.claimed(), 100 + (1 << 30));
  c2.reset();
  EXPECT_EQ(a.claimed(), 100);
}

TEST(Admission, ClaimCountsWhileAnyCopyLives) {
  Admission a;
  std::shared_ptr<void> copy;
  {
    auto c = a.claim(64);
    copy = c;
  }
  EXPECT_EQ(a.claimed(), 64);
  copy.reset();
  EXPECT_EQ(a.claimed(), 0);
}

TEST(Admission, RefusesPastTheSoftLimitAndAcceptsAgainWhenBytesAreGivenBack) {
  Admission a;
  a.configure(/*spike_limit=*/0, /*soft_limit=*/1000);
  auto c1 = a.claim(600);
  ASSERT_NE(c1, nullptr);
  EXPECT_EQ(a.claim(500), nullptr);  // 1100 > 1000
  EXPECT_EQ(a.claimed(), 600);       // the refused claim left nothing behind
  MemoryTicket held = a.hold(300);
  EXPECT_EQ(a.claim(200), nullptr);  // 600 + 300 + 200 > 1000
  EXPECT_EQ(a.refused(), 2);
  c1.reset();
  EXPECT_NE(a.claim(500), nullptr);  // 300 + 500
  held.reset();
  EXPECT_EQ(a.used(), 0);
}

TEST(Admission, TicketsHoldUntilDroppedAndACopyHoldsAgain) {
  Admission a;
  {
    MemoryTicket t = a.hold(100);
    EXPECT_EQ(a.held(), 100);
    MemoryTicket copy = t;  // a copied batch is a second copy of its bytes
    EXPECT_EQ(a.held(), 200);
    MemoryTicket moved = std::move(t);  // moving changes nothing
    EXPECT_EQ(a.held(), 200);
    EXPECT_EQ(t.bytes(), 0);  // NOLINT(bugprone-use-after-move): moved-from is empty
    copy = MemoryTicket();
    EXPECT_EQ(a.held(), 100);
    EXPECT_EQ(a.hold(0).bytes(), 0);
  }
  EXPECT_EQ(a.held(), 0);
}

TEST(Admission, SpikeAllowanceLetsOneLargeClaimAloneButNotTwo) {
  Admission a;
  a.configure(/*spike_limit=*/100, /*soft_limit=*/1000);
  auto big = a.claim(400);  // alone: over the allowance but under the soft limit
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(a.claim(10), nullptr);  // 410 claimed > spike allowance
  big.reset();
  EXPECT_NE(a.claim(10), nullptr);
  EXPECT_EQ(a.claim(2000), nullptr);  // alone, but past the soft limit
}

TEST(Admission, OverLimitRefusesEverythingUntilCleared) {
  Admission a;
  a.set_over_limit(true);
  EXPECT_EQ(a.claim(1), nullptr);
  a.set_over_limit(false);
  EXPECT_NE(a.claim(1), nullptr);
}

TEST(Admission, OneOwnerOfTheRssCheckAtATime) {
  Admission a;
  int first = 0, second = 0;
  EXPECT_TRUE(a.take_rss_check(&first));
  EXPECT_FALSE(a.take_rss_check(&second));
  a.give_up_rss_check(&second);  // not the owner: no effect
  EXPECT_FALSE(a.take_rss_check(&second));
  a.give_up_rss_check(&first);
  EXPECT_TRUE(a.take_rss_check(&second));
}

TEST(Admission, ConcurrentClaimsAndReleasesSumToZero) {
  Admission a;
  a.configure(/*spike_limit=*/2'000, /*soft_limit=*/3'000);
  constexpr int kThreads = 4;
  constexpr int kRounds = 20'000;
  std::atomic<std::int64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::shared_ptr<void>> mine;
      std::vector<MemoryTicket> tickets;
      for (int i = 0; i < kRounds; ++i) {
        auto c = a.claim(1 + (i * 7 + t) % 1000);
        if (c) {
          granted.fetch_add(1);
          mine.push_back(std::move(c));
        }
        if (i % 3 == 0) tickets.push_back(a.hold(5));
        if (i % 3 == 2 && !tickets.empty()) tickets.pop_back();
        // Drop claims in a different order than taken, sometimes several at once.
        if (mine.size() > 8 || i % 11 == 0) {
          mine.erase(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(mine.size() / 2));
        }
        // The allowance, plus claims of other threads that are added, then withdrawn.
        EXPECT_LE(a.claimed(), 2'000 + kThreads * 1000);
      }
      mine.clear();
      tickets.clear();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(granted.load(), 0);
  EXPECT_GT(a.refused(), 0);  // the limits were reached
  EXPECT_EQ(a.claimed(), 0);
  EXPECT_EQ(a.held(), 0);
}

}  // namespace
}  // namespace pipeline
