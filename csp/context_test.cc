#include "csp/context.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "csp/internal/test_util.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

using namespace std::chrono_literals;

TEST(Context, BackgroundIsNeverDone) {
  Context bg = Context::background();
  EXPECT_TRUE(bg.done().is_nil());
  EXPECT_TRUE(bg.err().ok());
  EXPECT_FALSE(bg.deadline().has_value());
  EXPECT_FALSE(bg.is_done());
}

TEST(Context, CancelClosesDoneAndSetsErr) {
  auto [ctx, cancel] = with_cancel(Context::background());
  Chan<Unit> done = ctx.done();
  EXPECT_EQ(select_blocking(recv(done), default_case()), 1u);
  EXPECT_TRUE(ctx.err().ok());
  cancel();
  cancel();  // idempotent
  EXPECT_EQ(select_blocking(recv(done), default_case()), 0u);
  EXPECT_EQ(ctx.err().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(ctx.err().message(), "context canceled");
  // done() asked for after cancellation is closed too.
  EXPECT_EQ(select_blocking(recv(ctx.done()), default_case()), 0u);
}

TEST(Context, CancellingAParentCancelsEveryDescendant) {
  auto [root, cancel_root] = with_cancel(Context::background());
  auto [child, cancel_child] = with_cancel(root);
  ContextKey<int> key{"k"};
  Context valued = with_value(child, key, 5);
  auto [grandchild, cancel_grandchild] = with_timeout(valued, 1h);
  cancel_root();
  EXPECT_EQ(child.err().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(valued.err().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(grandchild.err().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(grandchild.is_done());
}

TEST(Context, CancellingAChildLeavesTheParent) {
  auto [root, cancel_root] = with_cancel(Context::background());
  auto [child, cancel_child] = with_cancel(root);
  cancel_child();
  EXPECT_TRUE(child.is_done());
  EXPECT_FALSE(root.is_done());
  cancel_root();
}

TEST(Context, ChildOfACancelledParentStartsCancelled) {
  auto [root, cancel_root] = with_cancel(Context::background());
  cancel_root();
  auto [child, cancel_child] = with_cancel(root);
  EXPECT_TRUE(child.is_done());
  EXPECT_EQ(child.err().code(), absl::StatusCode::kCancelled);
}

TEST(Context, DeadlineExceeded) {
  auto [ctx, cancel] = with_timeout(Context::background(), 20ms);
  ASSERT_TRUE(ctx.deadline().has_value());
  select_blocking(recv(ctx.done()));
  // Done no earlier than its deadline (measured from the deadline itself: time between making
  // the context and reading the clock would otherwise count against it).
  EXPECT_GE(Clock::now(), *ctx.deadline());
  EXPECT_EQ(ctx.err().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ctx.err().message(), "context deadline exceeded");
  cancel();
  EXPECT_EQ(ctx.err().code(), absl::StatusCode::kDeadlineExceeded) << "first reason sticks";
}

TEST(Context, PastDeadlineIsDoneAtOnce) {
  auto [ctx, cancel] = with_deadline(Context::background(), Clock::now() - 1s);
  EXPECT_EQ(ctx.err().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(Context, ChildDeadlineIsNeverLaterThanParents) {
  auto [parent, cp] = with_timeout(Context::background(), 10ms);
  auto [child, cc] = with_timeout(parent, 1h);
  EXPECT_EQ(*child.deadline(), *parent.deadline());
  select_blocking(recv(child.done()));
  EXPECT_EQ(child.err().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(Context, ValuesAreFoundAlongTheChain) {
  ContextKey<std::string> user{"user"};
  ContextKey<int> attempt{"attempt"};
  ContextKey<int> other{"other"};
  Context a = with_value(Context::background(), user, std::string("ada"));
  auto [b, cancel] = with_cancel(a);
  Context c = with_value(b, attempt, 3);
  Context d = with_value(c, attempt, 4);  // shadows
  ASSERT_NE(d.value(user), nullptr);
  EXPECT_EQ(*d.value(user), "ada");
  EXPECT_EQ(*d.value(attempt), 4);
  EXPECT_EQ(*c.value(attempt), 3);
  EXPECT_EQ(d.value(other), nullptr);
  EXPECT_EQ(a.value(attempt), nullptr);
}

TEST(Context, CancelUnblocksReceiveSendAndSelect) {
  testing::LeakCheck leaks;
  auto [ctx, cancel] = with_cancel(Context::background());
  Chan<int> never(0);
  Chan<int> full(1);
  ASSERT_TRUE(full.try_send(0));
  Chan<absl::Status> results(3);
  go([&, ctx = ctx]() -> Task<void> {
    auto r = co_await recv_ctx(ctx, never);
    co_await results.send(r.status());
  });
  go([&, ctx = ctx]() -> Task<void> { co_await results.send(co_await send_ctx(ctx, full, 1)); });
  go([&, ctx = ctx]() -> Task<void> {
    std::size_t k = co_await select(recv(never), send(full, 2), recv(ctx.done()));
    // Bound to a local first: g++ 12 mishandles a ?: temporary inside a co_await operand
    // (docs/csp.md, "Compiler pitfalls").
    absl::Status st = k == 2 ? ctx.err() : absl::InternalError("wrong case");
    co_await results.send(std::move(st));
  });
  while (runtime_stats().parked < leaks.goroutines_before() + 3) std::this_thread::sleep_for(1ms);
  cancel();
  for (int i = 0; i < 3; ++i) {
    auto st = results.recv_blocking();
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->code(), absl::StatusCode::kCancelled) << st->ToString();
  }
  EXPECT_EQ(full.size(), 1u) << "the abandoned sends left the channel untouched";
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(Context, DeadlineUnblocksAReceive) {
  auto [ctx, cancel] = with_timeout(Context::background(), 5ms);
  Chan<int> never(0);
  auto r = block_on(recv_ctx(ctx, never));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(Context, RecvCtxReportsValuesAndClose) {
  auto [ctx, cancel] = with_cancel(Context::background());
  Chan<int> ch(1);
  ASSERT_TRUE(ch.try_send(8));
  auto r = block_on(recv_ctx(ctx, ch));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, 8);
  ch.close();
  r = block_on(recv_ctx(ctx, ch));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
  EXPECT_EQ(block_on(send_ctx(ctx, ch, 1)).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Context, ManyChildrenCancelledConcurrently) {
  auto [root, cancel_root] = with_cancel(Context::background());
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, root = root] {
      for (int i = 0; i < 2000; ++i) {
        auto [c, cc] = with_cancel(root);
        if (i % 2 == 0) cc();
        if (c.is_done() || i % 2 == 1) done.fetch_add(1);
      }
    });
  }
  std::thread canceller([&] { cancel_root(); });
  for (auto& t : threads) t.join();
  canceller.join();
  EXPECT_EQ(done.load(), 8000);
  auto [late, cl] = with_cancel(root);
  EXPECT_TRUE(late.is_done());
}

}  // namespace
}  // namespace csp
