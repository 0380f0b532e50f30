#include "csp/timer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "csp/internal/test_util.h"
#include "csp/select.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

using namespace std::chrono_literals;

TEST(Timer, SleepParksForAtLeastTheDuration) {
  const auto start = Clock::now();
  block_on([]() -> Task<void> { co_await sleep(15ms); }());
  EXPECT_GE(Clock::now() - start, 15ms);
}

TEST(Timer, SleepingGoroutinesDoNotHoldWorkers) {
  // More sleepers than workers: they must all be parked at once, not run one after another.
  testing::LeakCheck leaks;
  constexpr int kSleepers = 64;
  WaitGroup wg;
  wg.add(kSleepers);
  Chan<Unit> release(0);
  for (int i = 0; i < kSleepers; ++i) {
    go([&]() -> Task<void> {
      co_await sleep(5ms);
      co_await release.recv();
      wg.done();
    });
  }
  // All of them get past their sleep and park on `release` together.
  while (runtime_stats().parked < leaks.goroutines_before() + kSleepers) {
    std::this_thread::sleep_for(1ms);
  }
  release.close();
  wg.wait_blocking();
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(Timer, AfterDeliversTheTimeOnce) {
  const auto start = Clock::now();
  Chan<TimePoint> ch = after(5ms);
  auto t = ch.recv_blocking();
  ASSERT_TRUE(t.has_value());
  EXPECT_GE(*t - start, 5ms);
  EXPECT_EQ(select_blocking(recv(ch), recv(after(20ms))), 1u) << "fires only once";
}

TEST(Timer, StopBeforeFiringPreventsDelivery) {
  Timer t(50ms);
  EXPECT_TRUE(t.stop());
  EXPECT_FALSE(t.stop());
  EXPECT_EQ(select_blocking(recv(t.chan()), recv(after(100ms))), 1u);
}

TEST(Timer, StopAfterFiringReportsFalse) {
  Timer t(1ms);
  t.chan().recv_blocking();
  EXPECT_FALSE(t.stop());
}

TEST(Timer, ResetRearms) {
  Timer t(1h);
  EXPECT_TRUE(t.reset(2ms));
  EXPECT_TRUE(t.chan().recv_blocking().has_value());
  EXPECT_FALSE(t.reset(2ms)) << "it had fired";
  EXPECT_TRUE(t.chan().recv_blocking().has_value());
}

TEST(Timer, TickerTicksRepeatedlyUntilStopped) {
  Ticker ticker(2ms);
  TimePoint last{};
  for (int i = 0; i < 5; ++i) {
    auto t = ticker.chan().recv_blocking();
    ASSERT_TRUE(t.has_value());
    EXPECT_GT(*t, last);
    last = *t;
  }
  ticker.stop();
  ticker.chan().try_recv();  // at most one tick was buffered
  EXPECT_EQ(select_blocking(recv(ticker.chan()), recv(after(30ms))), 1u);
}

TEST(Timer, TickerDropsTicksForASlowReceiver) {
  Ticker ticker(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ticker.chan().size(), 1u) << "missed ticks are dropped, not queued";
}

TEST(Timer, AfterFuncRunsOnceAndCanBeCancelled) {
  std::atomic<int> runs{0};
  Chan<Unit> ran(1);
  after_func(1ms, [&](TimePoint) {
    runs.fetch_add(1);
    ran.try_send(Unit{});
  });
  ran.recv_blocking();
  auto h = after_func(1h, [&](TimePoint) { runs.fetch_add(100); });
  EXPECT_TRUE(h.cancel());
  EXPECT_EQ(runs.load(), 1);
}

// A stopped timer leaves the queue at once: nothing it captured (a channel, a request's state)
// is kept alive until the time it would have fired.
TEST(Timer, StoppingATimerReleasesWhatItHolds) {
  const std::size_t before = pending_timers();
  auto token = std::make_shared<int>(0);
  std::vector<TimerHandle> handles;
  for (int i = 0; i < 100; ++i) {
    handles.push_back(after_func(1h + i * 1ms, [token](TimePoint) {}));
  }
  EXPECT_EQ(pending_timers(), before + 100);
  EXPECT_EQ(token.use_count(), 101);
  // Stopped in an order unlike the heap's, so removal from the middle is exercised.
  for (std::size_t i = 0; i < handles.size(); i += 2) EXPECT_TRUE(handles[i].cancel());
  for (std::size_t i = 1; i < handles.size(); i += 2) EXPECT_TRUE(handles[i].reset(1h));
  for (std::size_t i = 1; i < handles.size(); i += 2) EXPECT_TRUE(handles[i].cancel());
  EXPECT_EQ(pending_timers(), before);
  handles.clear();
  EXPECT_EQ(token.use_count(), 1) << "the queue still holds stopped timers";
  {
    Timer t(1h);
    EXPECT_TRUE(t.stop());
  }
  EXPECT_EQ(pending_timers(), before);
}

// Timers armed and stopped in a random order still fire in time order, each exactly once, and
// none that was stopped.
TEST(Timer, FireInTimeOrderAfterRandomStops) {
  constexpr int kTimers = 200;
  std::vector<int> fired;
  std::mutex mu;
  Chan<Unit> all_done(1);
  std::vector<TimerHandle> handles;
  std::uint64_t x = 12345;
  // Each timer's due time lies between the clock read just before and just after arming it.
  std::vector<TimePoint> earliest(kTimers), latest(kTimers);
  int expected = 0;
  for (int i = 0; i < kTimers; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const auto delay = std::chrono::milliseconds(5 + static_cast<int>((x >> 33) % 40));
    earliest[i] = Clock::now() + delay;
    handles.push_back(after_func(delay, [&, i](TimePoint) {
      std::lock_guard lock(mu);
      fired.push_back(i);
    }));
    latest[i] = Clock::now() + delay;
  }
  std::vector<bool> stopped(kTimers, false);
  for (int i = 0; i < kTimers; i += 3) stopped[i] = handles[i].cancel();
  for (int i = 0; i < kTimers; ++i) expected += stopped[i] ? 0 : 1;
  auto last = after_func(100ms, [&](TimePoint) { all_done.try_send(Unit{}); });
  all_done.recv_blocking();
  std::lock_guard lock(mu);
  ASSERT_EQ(static_cast<int>(fired.size()), expected);
  for (std::size_t k = 1; k < fired.size(); ++k) {
    EXPECT_LE(earliest[fired[k - 1]], latest[fired[k]]) << "out of order at " << k;
  }
  for (int i : fired) EXPECT_FALSE(stopped[i]) << i << " fired after it was stopped";
}

// A callback that parks on the timer thread until the test releases it.
class BlockingCallback {
 public:
  // Blocks in its first call only.
  void run() {
    if (calls_.fetch_add(1) > 0) return;
    started_.count_down();
    release_.wait(false);
    ++completed_;
    finished_.store(true);
  }
  void wait_started() { started_.wait(); }
  void release() {
    release_.store(true);
    release_.notify_all();
  }
  bool finished() const { return finished_.load(); }
  int calls() const { return calls_.load(); }
  // A plain int written at the end of the first call. Reading 1 right after cancel() returns
  // shows the callback's writes are visible to the canceller; ThreadSanitizer checks that
  // cancel() really orders them (an unordered read is reported).
  int completed() const { return completed_; }

 private:
  std::latch started_{1};
  std::atomic<bool> release_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> calls_{0};
  int completed_ = 0;
};

// Runs `stop` on another thread while `callback` is parked inside its first call, then releases
// it. Returns whether the callback had finished when `stop` returned. The pause before the
// release only gives a broken stop() the chance to return early; the verdict is read from the
// order of events, never from the clock.
template <class Stop>
bool callback_finished_before_stop_returned(BlockingCallback& callback, Stop stop) {
  callback.wait_started();
  std::atomic<bool> stop_called{false};
  std::atomic<bool> stop_returned{false};
  bool finished_at_return = false;
  std::thread stopper([&] {
    stop_called.store(true);
    stop();
    finished_at_return = callback.finished();
    stop_returned.store(true);
  });
  while (!stop_called.load()) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(stop_returned.load()) << "returned while the callback was still running";
  callback.release();
  stopper.join();
  return finished_at_return;
}

TEST(Timer, CancelWaitsForARunningCallback) {
  BlockingCallback callback;
  TimerHandle h = after_func(0ms, [&](TimePoint) { callback.run(); });
  bool was_pending = true;
  const bool waited =
      callback_finished_before_stop_returned(callback, [&] { was_pending = h.cancel(); });
  EXPECT_TRUE(waited) << "cancel() returned while the callback was running";
  EXPECT_FALSE(was_pending) << "a one-shot is no longer pending once it runs";
  EXPECT_EQ(callback.calls(), 1);
}

TEST(Timer, CancelWaitsForARunningPeriodicCallbackAndStopsIt) {
  BlockingCallback callback;
  TimerHandle h = after_func(
      1ms, [&](TimePoint) { callback.run(); }, 1ms);
  bool was_pending = false;
  int completed_at_cancel = 0;
  const bool waited = callback_finished_before_stop_returned(callback, [&] {
    was_pending = h.cancel();
    completed_at_cancel = callback.completed();
  });
  EXPECT_TRUE(waited) << "cancel() returned while the callback was running";
  EXPECT_TRUE(was_pending) << "a periodic timer stays pending until cancelled";
  EXPECT_EQ(completed_at_cancel, 1);
  // Many periods later it has still not run again.
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(callback.calls(), 1);
  EXPECT_FALSE(h.cancel());
}

TEST(Timer, ResetWaitsForARunningCallbackThenRearms) {
  BlockingCallback callback;
  TimerHandle h = after_func(
      1ms, [&](TimePoint) { callback.run(); }, 1ms);
  bool was_pending = false;
  int completed_at_reset = 0;
  const bool waited = callback_finished_before_stop_returned(callback, [&] {
    was_pending = h.reset(1h);
    completed_at_reset = callback.completed();
  });
  EXPECT_TRUE(waited) << "reset() returned while the callback was running";
  EXPECT_TRUE(was_pending);
  EXPECT_EQ(completed_at_reset, 1);
  EXPECT_TRUE(h.cancel()) << "pending again after the reset";
  EXPECT_EQ(callback.calls(), 1);
}

TEST(Timer, CancelFromInsideItsOwnCallbackReturns) {
  std::atomic<bool> published{false};
  TimerHandle h;
  std::promise<bool> cancelled;
  h = after_func(0ms, [&](TimePoint) {
    published.wait(false);
    cancelled.set_value(h.cancel());
  });
  published.store(true);
  published.notify_all();
  std::future<bool> result = cancelled.get_future();
  // The bound only turns a deadlock into a failure instead of a hung test.
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready) << "cancel() deadlocked";
  EXPECT_FALSE(result.get()) << "a one-shot is no longer pending once it runs";
  h.cancel();  // waits for the callback to return before the locals it uses go
}

TEST(Timer, PeriodicCallbackCancellingItselfIsNotCalledAgain) {
  std::atomic<bool> published{false};
  TimerHandle h;
  std::atomic<int> calls{0};
  std::promise<bool> cancelled;
  h = after_func(
      1ms,
      [&](TimePoint) {
        published.wait(false);
        if (calls.fetch_add(1) + 1 == 2) cancelled.set_value(h.cancel());
      },
      1ms);
  published.store(true);
  published.notify_all();
  std::future<bool> result = cancelled.get_future();
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready) << "cancel() deadlocked";
  EXPECT_TRUE(result.get()) << "its next tick was pending";
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_FALSE(h.cancel());
}

TEST(Timer, ResetFromInsideItsOwnCallbackRearms) {
  std::atomic<bool> published{false};
  TimerHandle h;
  std::atomic<int> calls{0};
  std::promise<void> second_call;
  h = after_func(0ms, [&](TimePoint) {
    published.wait(false);
    if (calls.fetch_add(1) == 0) {
      EXPECT_FALSE(h.reset(1ms)) << "a one-shot is no longer pending once it runs";
    } else {
      second_call.set_value();
    }
  });
  published.store(true);
  published.notify_all();
  std::future<void> result = second_call.get_future();
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(h.cancel()) << "it ran its second time";
  EXPECT_EQ(calls.load(), 2);
}

TEST(Timer, CancelFromAnotherTimersCallbackDoesNotWait) {
  // Both run on the one timer thread: the target is idle, so this must not block.
  TimerHandle target = after_func(1h, [](TimePoint) {});
  std::promise<bool> cancelled;
  TimerHandle canceller = after_func(0ms, [&](TimePoint) { cancelled.set_value(target.cancel()); });
  std::future<bool> result = cancelled.get_future();
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready);
  EXPECT_TRUE(result.get());
  canceller.cancel();  // waits for the callback to return before the locals it uses go
}

}  // namespace
}  // namespace csp
