#include "csp/introspection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "csp/chan.h"
#include "csp/internal/test_util.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

using csp::testing::eventually;

const GoroutineInfo* find_waiting_on(const std::vector<GoroutineInfo>& dump,
                                     const std::string& what, const std::string& channel = "") {
  for (const GoroutineInfo& g : dump) {
    if (g.waiting && g.waits_on == what && (channel.empty() || g.channel == channel)) return &g;
  }
  return nullptr;
}

TEST(GoroutineDump, ShowsWhereEachGoroutineStartedAndWhatItWaitsOn) {
  Chan<int> named(1);
  named.set_name("test inbox");
  Chan<int> plain(0);
  Chan<Unit> release(0);
  WaitGroup wg;
  wg.add(4);
  go([](Chan<int> c, WaitGroup* wg) -> Task<void> {  // a receive on the named channel
    co_await c.recv();
    wg->done();
  }(named, &wg));
  go([](Chan<int> c, WaitGroup* wg) -> Task<void> {  // a send on an unbuffered one
    co_await c.send(1);
    wg->done();
  }(plain, &wg));
  go([](Chan<Unit> r, WaitGroup* wg) -> Task<void> {  // a select, nested one Task deep
    auto inner = [](Chan<Unit> r) -> Task<void> {
      co_await select(recv(r), recv(after(std::chrono::hours(1))));
    };
    co_await inner(r);
    wg->done();
  }(release, &wg));
  go([](WaitGroup* wg) -> Task<void> {  // a sleep
    co_await sleep(std::chrono::milliseconds(300));
    wg->done();
  }(&wg));

  std::vector<GoroutineInfo> dump;
  ASSERT_TRUE(eventually([&] {
    dump = goroutine_dump();
    return find_waiting_on(dump, "chan receive", "test inbox") != nullptr &&
           find_waiting_on(dump, "chan send") != nullptr &&
           find_waiting_on(dump, "select") != nullptr && find_waiting_on(dump, "sleep") != nullptr;
  })) << dump.size()
      << " goroutines";
  const GoroutineInfo* receiver = find_waiting_on(dump, "chan receive", "test inbox");
  EXPECT_NE(receiver->origin.find("csp/introspection_test.cc:"), std::string::npos)
      << receiver->origin;
  EXPECT_GE(receiver->waiting_seconds, 0);
  EXPECT_TRUE(std::is_sorted(dump.begin(), dump.end(),
                             [](const auto& a, const auto& b) { return a.id < b.id; }));

  // Woken goroutines stop waiting, and ended ones leave the dump.
  const std::size_t before = tracked_goroutines();
  ASSERT_TRUE(named.try_send(7));
  ASSERT_TRUE(plain.recv_blocking().has_value());
  release.close();
  wg.wait_blocking();
  EXPECT_TRUE(eventually([&] { return tracked_goroutines() <= before - 4; }));
  EXPECT_EQ(find_waiting_on(goroutine_dump(), "chan receive", "test inbox"), nullptr);
}

TEST(ChannelTable, ShowsNamedChannelsWithTheirFillAndWaiters) {
  Chan<int> queue(4);
  queue.set_name("test queue");
  ASSERT_TRUE(queue.try_send(1));
  ASSERT_TRUE(queue.try_send(2));
  Chan<int> rendezvous(0);
  rendezvous.set_name("test rendezvous");
  WaitGroup wg;
  wg.add(2);
  for (int i = 0; i < 2; ++i) {
    go([](Chan<int> c, WaitGroup* wg) -> Task<void> {
      co_await c.recv();
      wg->done();
    }(rendezvous, &wg));
  }
  auto row = [](const std::string& name) {
    for (const ChannelInfo& c : channel_table()) {
      if (c.name == name) return c;
    }
    return ChannelInfo{};
  };
  ASSERT_TRUE(eventually([&] { return row("test rendezvous").waiting_receivers == 2; }));
  const ChannelInfo q = row("test queue");
  EXPECT_EQ(q.capacity, 4u);
  EXPECT_EQ(q.length, 2u);
  EXPECT_FALSE(q.closed);
  EXPECT_EQ(q.waiting_senders, 0u);
  rendezvous.close();
  wg.wait_blocking();
  EXPECT_TRUE(row("test rendezvous").closed);
  EXPECT_EQ(row("test rendezvous").waiting_receivers, 0u);
  {
    Chan<int> gone(1);
    gone.set_name("test gone");
  }
  EXPECT_EQ(row("test gone").name, "");  // held weakly: gone with its last handle
}

}  // namespace
}  // namespace csp
