#include "pipeline/entrance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "csp/csp.h"

namespace pipeline {
namespace {

using namespace std::chrono_literals;

// A consumer that holds every batch until the gate closes.
class GatedConsumer final : public Consumer {
 public:
  csp::Task<absl::Status> consume(csp::Context, Batch) override {
    ++inside;
    co_await gate.recv();
    ++passed;
    co_return absl::OkStatus();
  }
  csp::Chan<csp::Unit> gate{0};
  std::atomic<int> inside{0}, passed{0};
};

absl::Status push(PipelineEntrance& e, csp::Context ctx) {
  return csp::block_on(e.consume(std::move(ctx), Batch{otlp::Signal::kLogs, "x", 1}));
}

csp::Context with_deadline(csp::Duration d) {
  return csp::with_timeout(csp::Context::background(), d).first;
}

TEST(PipelineEntrance, CallersWaitForRoomAndAreRefusedAtTheirDeadline) {
  auto next = std::make_shared<GatedConsumer>();
  PipelineEntrance entrance("logs", 1, next);
  std::thread first([&] { EXPECT_TRUE(push(entrance, with_deadline(10s)).ok()); });
  while (next->inside.load() < 1) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(entrance.inside(), 1u);
  absl::Status late = push(entrance, with_deadline(20ms));
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable) << late;
  EXPECT_EQ(next->inside.load(), 1) << "a refused batch never entered";
  // A caller that waits with a longer deadline gets in once there is room.
  std::thread second([&] { EXPECT_TRUE(push(entrance, with_deadline(10s)).ok()); });
  next->gate.close();
  first.join();
  second.join();
  EXPECT_EQ(next->passed.load(), 2);
  EXPECT_EQ(entrance.inside(), 0u);
}

TEST(PipelineEntrance, ACallerThatGaveUpIsNotLetIn) {
  auto next = std::make_shared<GatedConsumer>();
  next->gate.close();
  PipelineEntrance entrance("logs", 4, next);
  auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
  cancel();
  EXPECT_EQ(push(entrance, ctx).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(next->inside.load(), 0);
}

TEST(PipelineEntrance, ShutdownRefusesNewCallersAndWaitsForThoseInside) {
  auto next = std::make_shared<GatedConsumer>();
  PipelineEntrance entrance("logs", 4, next);
  std::thread inside([&] { EXPECT_TRUE(push(entrance, with_deadline(10s)).ok()); });
  while (next->inside.load() < 1) std::this_thread::sleep_for(1ms);
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    csp::block_on(entrance.shutdown(with_deadline(10s)));
    done = true;
  });
  // New callers are refused as soon as the shutdown began.
  while (!entrance.closed()) std::this_thread::sleep_for(1ms);
  absl::Status refused = push(entrance, with_deadline(10s));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("shut down"), std::string::npos) << refused;
  EXPECT_FALSE(done.load()) << "returned while a batch was inside";
  next->gate.close();
  inside.join();
  stopper.join();
  EXPECT_TRUE(done.load());
}

TEST(PipelineEntrance, ShutdownIsBoundedByItsContext) {
  auto next = std::make_shared<GatedConsumer>();  // never opens until the end
  PipelineEntrance entrance("logs", 4, next);
  std::thread inside([&] { (void)push(entrance, with_deadline(10s)); });
  while (next->inside.load() < 1) std::this_thread::sleep_for(1ms);
  csp::block_on(entrance.shutdown(with_deadline(20ms)));  // returns although one is inside
  EXPECT_EQ(entrance.inside(), 1u);
  next->gate.close();
  inside.join();
}

}  // namespace
}  // namespace pipeline
