#include "components/exporters/helper/queued_retry.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "components/exporters/testing/manual_retry_clock.h"
#include "components/extensions/file_storage/file_storage.h"
#include "csp/csp.h"

namespace components {
namespace {

using namespace std::chrono_literals;

csp::Context deadline(csp::Duration d) {
  return csp::with_timeout(csp::Context::background(), d).first;
}

RetryConfig fast_retry() {
  RetryConfig r;
  r.initial_interval = 1ms;
  r.max_interval = 5ms;
  r.max_elapsed_time = 10s;
  return r;
}

// A backend that fails the first `failures` attempts of every batch (by its bytes).
struct FlakyBackend {
  int failures = 0;
  bool retryable = true;
  std::mutex mu;
  std::map<std::string, int> attempts;
  std::multiset<std::string> delivered;

  SendFn fn() {
    return [this](const pipeline::Batch& batch, csp::Context) -> csp::Task<SendOutcome> {
      const std::string& bytes = batch.bytes;
      std::lock_guard lock(mu);
      if (attempts[bytes]++ < failures) {
        co_return SendOutcome{absl::UnavailableError("down"), retryable, std::nullopt};
      }
      delivered.insert(bytes);
      co_return SendOutcome{absl::OkStatus(), false, std::nullopt};
    };
  }
};

pipeline::Batch batch(int i) {
  return pipeline::Batch{otlp::Signal::kLogs, "batch-" + std::to_string(i), 1};
}

TEST(QueuedRetryExporter, DeliversEveryQueuedBatchOnceDespiteFailures) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  backend.failures = 2;
  QueuedRetryExporter e("otlp", QueueConfig{true, 4, 100}, fast_retry(), 1s, backend.fn(), host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(i))).ok());
  csp::block_on(e.shutdown(deadline(30s)));
  EXPECT_EQ(backend.delivered.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(backend.delivered.count("batch-" + std::to_string(i)), 1u);
  EXPECT_EQ(e.sent_items(), 50);
  EXPECT_EQ(e.dropped_items(), 0);
}

TEST(QueuedRetryExporter, FullQueueMakesCallersWaitThenRefusesRetryably) {
  pipeline::Host host(pipeline::LogLevel::kError);
  csp::Chan<csp::Unit> release(0);
  SendFn stuck = [&](const pipeline::Batch&, csp::Context) -> csp::Task<SendOutcome> {
    co_await release.recv();
    co_return SendOutcome{};
  };
  QueuedRetryExporter e("otlp", QueueConfig{true, 1, 2}, fast_retry(), 10s, stuck, host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  int accepted = 0;
  absl::Status refusal;
  for (int i = 0; i < 10; ++i) {
    absl::Status s = csp::block_on(e.consume(deadline(20ms), batch(i)));
    if (s.ok()) {
      ++accepted;
    } else {
      refusal = s;
    }
  }
  // One batch is with the (stuck) sender, two wait in the queue; the rest are refused.
  EXPECT_LE(accepted, 3);
  EXPECT_GE(accepted, 2);
  EXPECT_EQ(refusal.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refusal.message().find("sending queue is full"), std::string::npos);
  EXPECT_GT(host.admission().held(), 0) << "queued batches are held in memory";
  // A caller with time to wait gets in once the sender takes the next batch.
  std::thread patient(
      [&] { EXPECT_TRUE(csp::block_on(e.consume(deadline(30s), batch(99))).ok()); });
  release.close();
  patient.join();
  csp::block_on(e.shutdown(deadline(10s)));
  EXPECT_EQ(e.sent_items(), accepted + 1);
  EXPECT_EQ(host.admission().held(), 0) << "sent batches give their memory back";
}

TEST(QueuedRetryExporter, PermanentErrorsAreNotRetried) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  backend.failures = 1;
  backend.retryable = false;
  QueuedRetryExporter e("otlp", QueueConfig{false, 1, 1}, fast_retry(), 1s, backend.fn(), host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  absl::Status s = csp::block_on(e.consume(deadline(1s), batch(1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << "without a queue the caller sees it";
  EXPECT_EQ(backend.attempts["batch-1"], 1);
  // The caller got the error: nothing was accepted, so nothing counts as dropped.
  EXPECT_EQ(e.dropped_items(), 0);
  EXPECT_EQ(e.counts().accepted, 0);
  csp::block_on(e.shutdown(deadline(1s)));
}

TEST(QueuedRetryExporter, ShutdownDeadlineStopsEndlessRetries) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  backend.failures = 1 << 30;  // never succeeds
  RetryConfig r = fast_retry();
  r.max_elapsed_time = csp::Duration::zero();  // retry forever
  QueuedRetryExporter e("otlp", QueueConfig{true, 2, 10}, r, 1s, backend.fn(), host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(i))).ok());
  csp::block_on(e.shutdown(deadline(50ms)));  // returns: the deadline ends the retries
  EXPECT_EQ(e.dropped_items(), 5);
  EXPECT_EQ(e.sent_items(), 0);
}

TEST(QueuedRetryExporter, ShutdownWithTheBackendDownCountsAndReportsWhatItDrops) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  backend.failures = 1'000'000;  // down for good
  RetryConfig retry = fast_retry();
  retry.max_elapsed_time = std::chrono::hours(1);
  QueuedRetryExporter e("otlp", QueueConfig{true, 2, 100}, retry, 1s, backend.fn(), host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(i))).ok());
  ExportCounts before = e.counts();
  EXPECT_EQ(before.accepted, 20);
  EXPECT_EQ(before.pending(), 20);
  csp::block_on(e.shutdown(deadline(100ms)));
  ExportCounts after = e.counts();
  // Conservation: everything accepted is accounted for, and all of it as dropped at shutdown.
  EXPECT_EQ(after.accepted, 20);
  EXPECT_EQ(after.sent, 0);
  EXPECT_EQ(after.dropped_shutdown, 20);
  EXPECT_EQ(after.pending(), 0);
  EXPECT_EQ(host.admission().held(), 0);
}

TEST(QueuedRetryExporter, CountsEveryOutcomeSoThatTheyAddUp) {
  pipeline::Host host(pipeline::LogLevel::kError);
  std::atomic<int> calls{0};
  // Attempts alternate: OK, permanent error, retryable error that outlives max_elapsed_time.
  SendFn send = [&](const pipeline::Batch& batch, csp::Context) -> csp::Task<SendOutcome> {
    const std::string& bytes = batch.bytes;
    ++calls;
    const int i = std::stoi(bytes.substr(bytes.find('-') + 1));
    if (i % 3 == 0) co_return SendOutcome{};
    if (i % 3 == 1) co_return SendOutcome{absl::InvalidArgumentError("bad"), false, {}};
    co_return SendOutcome{absl::UnavailableError("down"), true, std::chrono::milliseconds(50)};
  };
  RetryConfig retry = fast_retry();
  retry.max_elapsed_time = 10ms;  // shorter than the backend's retry-after: gives up at once
  QueuedRetryExporter e("otlp", QueueConfig{true, 2, 100}, retry, 1s, send, host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(i))).ok());
  csp::block_on(e.shutdown(deadline(30s)));
  ExportCounts c = e.counts();
  EXPECT_EQ(c.accepted, 30);
  EXPECT_EQ(c.sent, 10);
  EXPECT_EQ(c.dropped_permanent, 10);
  EXPECT_EQ(c.dropped_retries_exhausted, 10);
  EXPECT_EQ(c.dropped_shutdown, 0);
  EXPECT_EQ(c.pending(), 0);
}

TEST(QueuedRetryExporter, WaitsAndMaxElapsedTimeFollowTheRetryClock) {
  pipeline::Host host(pipeline::LogLevel::kError);
  // batch-1 fails three times, then goes through; batch-2 never does.
  std::mutex mu;
  std::map<std::string, int> attempts;
  SendFn send = [&](const pipeline::Batch& batch, csp::Context) -> csp::Task<SendOutcome> {
    const std::string& bytes = batch.bytes;
    std::unique_lock lock(mu);
    if (bytes == "batch-1" && ++attempts[bytes] > 3) co_return SendOutcome{};
    co_return SendOutcome{absl::UnavailableError("down"), true, std::nullopt};
  };
  RetryConfig retry;
  retry.initial_interval = 10s;
  retry.multiplier = 3;
  retry.max_interval = 1min;
  retry.randomization_factor = 0;
  retry.max_elapsed_time = 2min;
  auto clock = std::make_shared<testing::ManualRetryClock>();
  QueuedRetryExporter e("otlp", QueueConfig{true, 1, 10}, retry, 1s, send, host);
  ASSERT_TRUE(e.set_retry_clock(clock).ok());
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(1))).ok());
  // For batch-2, 10s + 30s + 60s = 100s have passed, and another minute would pass 2min.
  ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(2))).ok());
  csp::block_on(e.shutdown(deadline(30s)));
  const std::vector<csp::Duration> expected{10s, 30s, 60s, 10s, 30s, 60s};
  EXPECT_EQ(clock->waits(), expected) << "no real minutes passed";
  ExportCounts c = e.counts();
  EXPECT_EQ(c.sent, 1);
  EXPECT_EQ(c.dropped_retries_exhausted, 1);
}

TEST(QueuedRetryExporter, JitterStaysWithinTheRandomizationFactor) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  backend.failures = 20;
  RetryConfig retry;
  retry.initial_interval = 1s;
  retry.multiplier = 2;
  retry.max_interval = 8s;
  retry.randomization_factor = 0.5;
  retry.max_elapsed_time = csp::Duration::zero();
  auto clock = std::make_shared<testing::ManualRetryClock>();
  QueuedRetryExporter e("otlp", QueueConfig{true, 1, 10}, retry, 1s, backend.fn(), host);
  ASSERT_TRUE(e.set_retry_clock(clock).ok());
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(1))).ok());
  csp::block_on(e.shutdown(deadline(30s)));
  const std::vector<csp::Duration> waits = clock->waits();
  ASSERT_EQ(waits.size(), 20u);
  csp::Duration backoff = 1s;
  for (const csp::Duration w : waits) {
    EXPECT_GE(w, backoff / 2);
    EXPECT_LE(w, backoff * 3 / 2);
    backoff = std::min<csp::Duration>(backoff * 2, 8s);
  }
  EXPECT_EQ(e.counts().sent, 1);
}

TEST(QueuedRetryExporter, AShutdownDeadlineEndsAWaitOnTheRetryClock) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  backend.failures = 1'000'000;
  RetryConfig retry = fast_retry();
  retry.max_elapsed_time = csp::Duration::zero();
  auto clock = std::make_shared<testing::ManualRetryClock>();
  clock->hold_sleeps(true);  // a wait ends only when the exporter's context does
  QueuedRetryExporter e("otlp", QueueConfig{true, 1, 10}, retry, 1s, backend.fn(), host);
  ASSERT_TRUE(e.set_retry_clock(clock).ok());
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(csp::block_on(e.consume(deadline(1s), batch(i))).ok());
  csp::block_on(e.shutdown(deadline(100ms)));
  ExportCounts c = e.counts();
  EXPECT_EQ(c.dropped_shutdown, 3);
  EXPECT_EQ(c.pending(), 0);
  EXPECT_EQ(clock->waits().size(), 1u) << "the later batches meet a done context, not a wait";
}

TEST(QueuedRetryExporter, TheRetryClockIsSetBeforeStartOnly) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FlakyBackend backend;
  QueuedRetryExporter e("otlp", QueueConfig{true, 1, 10}, fast_retry(), 1s, backend.fn(), host);
  EXPECT_TRUE(e.set_retry_clock(std::make_shared<testing::ManualRetryClock>()).ok());
  EXPECT_TRUE(e.set_retry_clock(nullptr).ok()) << "null: back to the real clock";
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  EXPECT_EQ(e.set_retry_clock(std::make_shared<testing::ManualRetryClock>()).code(),
            absl::StatusCode::kFailedPrecondition);
  csp::block_on(e.shutdown(deadline(5s)));
}

// A file_storage extension in a fresh directory, registered with the host and started.
std::shared_ptr<FileStorage> durable_storage(pipeline::Host& host, const std::string& dir) {
  auto storage = std::make_shared<FileStorage>("file_storage", FileStorageConfig{dir, true, true});
  EXPECT_TRUE(csp::block_on(storage->start()).ok());
  host.add_extension("file_storage", storage);
  return storage;
}

std::string fresh_dir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "otlpd-durable-queue-XXXXXX").string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

TEST(QueuedRetryExporter, DurableQueueKeepsWhatItAcceptedAcrossARestart) {
  const std::string dir = fresh_dir();
  QueueConfig queue{true, 2, 1000};
  queue.storage = "file_storage";
  RetryConfig retry = fast_retry();    // max_elapsed_time 10s is set explicitly there...
  retry.max_elapsed_time_set = false;  // ...but a durable queue retries until delivered
  {
    // The backend is down: everything accepted stays on disk, nothing is dropped at shutdown.
    pipeline::Host host(pipeline::LogLevel::kError);
    durable_storage(host, dir);
    FlakyBackend down;
    down.failures = 1'000'000;
    QueuedRetryExporter e("otlp/a", queue, retry, 1s, down.fn(), host);
    ASSERT_TRUE(csp::block_on(e.start()).ok());
    EXPECT_TRUE(e.durable());
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(csp::block_on(e.consume(deadline(5s), batch(i))).ok());
    }
    csp::block_on(e.shutdown(deadline(200ms)));
    ExportCounts c = e.counts();
    EXPECT_EQ(c.accepted, 30);
    EXPECT_EQ(c.sent, 0);
    EXPECT_EQ(c.dropped_shutdown + c.dropped_retries_exhausted + c.dropped_permanent, 0)
        << "a durable queue drops nothing at shutdown";
    EXPECT_EQ(host.admission().held(), 0) << "on disk, not in memory";
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/exporter_otlp_a/dead_letter.log") &&
               std::filesystem::file_size(dir + "/exporter_otlp_a/dead_letter.log") > 0)
      << "a shutdown is not a failed delivery";
  {
    // The next start: the backend is up and gets every batch, once.
    pipeline::Host host(pipeline::LogLevel::kError);
    durable_storage(host, dir);
    FlakyBackend up;
    QueuedRetryExporter e("otlp/a", queue, retry, 1s, up.fn(), host);
    ASSERT_TRUE(csp::block_on(e.start()).ok());
    EXPECT_EQ(e.counts().recovered, 30);
    for (int waited = 0; waited < 10'000; ++waited) {
      {
        std::lock_guard lock(up.mu);
        if (up.delivered.size() >= 30) break;
      }
      std::this_thread::sleep_for(1ms);
    }
    csp::block_on(e.shutdown(deadline(5s)));
    std::lock_guard lock(up.mu);
    EXPECT_EQ(up.delivered.size(), 30u);
    EXPECT_EQ(std::set<std::string>(up.delivered.begin(), up.delivered.end()).size(), 30u);
    EXPECT_EQ(e.counts().sent, 30);
  }
  {
    // And a third start finds nothing left.
    pipeline::Host host(pipeline::LogLevel::kError);
    durable_storage(host, dir);
    FlakyBackend up;
    QueuedRetryExporter e("otlp/a", queue, retry, 1s, up.fn(), host);
    ASSERT_TRUE(csp::block_on(e.start()).ok());
    EXPECT_EQ(e.counts().recovered, 0);
    csp::block_on(e.shutdown(deadline(5s)));
  }
  std::filesystem::remove_all(dir);
}

// A batch's client metadata is on disk with it: after a restart the sender still knows whose
// batch it is (say, the tenant a headers_setter names to the backend).
TEST(QueuedRetryExporter, DurableQueueKeepsClientMetadataAcrossARestart) {
  const std::string dir = fresh_dir();
  QueueConfig queue{true, 2, 1000};
  queue.storage = "file_storage";
  RetryConfig retry = fast_retry();
  retry.max_elapsed_time_set = false;
  {
    pipeline::Host host(pipeline::LogLevel::kError);
    durable_storage(host, dir);
    FlakyBackend down;
    down.failures = 1'000'000;
    QueuedRetryExporter e("otlp/tenants", queue, retry, 1s, down.fn(), host);
    ASSERT_TRUE(csp::block_on(e.start()).ok());
    for (int i = 0; i < 6; ++i) {
      pipeline::Batch b = batch(i);
      if (i % 3 != 2) {
        b.client = std::make_shared<const pipeline::ClientMetadata>(pipeline::ClientMetadata{
            "10.0.0." + std::to_string(i) + ":9", {{"x-tenant", i % 3 == 0 ? "acme" : "globex"}}});
      }
      ASSERT_TRUE(csp::block_on(e.consume(deadline(5s), std::move(b))).ok());
    }
    csp::block_on(e.shutdown(deadline(200ms)));
  }
  std::mutex mu;
  std::map<std::string, std::string> tenant_of;  // bytes → tenant ("-" without metadata)
  SendFn record = [&](const pipeline::Batch& b, csp::Context) -> csp::Task<SendOutcome> {
    std::lock_guard lock(mu);
    tenant_of[b.bytes] = b.client == nullptr ? "-" : std::string(b.client->first("x-tenant"));
    co_return SendOutcome{};
  };
  {
    pipeline::Host host(pipeline::LogLevel::kError);
    durable_storage(host, dir);
    QueuedRetryExporter e("otlp/tenants", queue, retry, 1s, record, host);
    ASSERT_TRUE(csp::block_on(e.start()).ok());
    for (int waited = 0; waited < 10'000; ++waited) {
      {
        std::lock_guard lock(mu);
        if (tenant_of.size() >= 6) break;
      }
      std::this_thread::sleep_for(1ms);
    }
    csp::block_on(e.shutdown(deadline(5s)));
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(tenant_of, (std::map<std::string, std::string>{{"batch-0", "acme"},
                                                           {"batch-1", "globex"},
                                                           {"batch-2", "-"},
                                                           {"batch-3", "acme"},
                                                           {"batch-4", "globex"},
                                                           {"batch-5", "-"}}));
  std::filesystem::remove_all(dir);
}

TEST(QueuedRetryExporter, AFullDurableQueueRefusesRetryablyAndDropsNothing) {
  const std::string dir = fresh_dir();
  pipeline::Host host(pipeline::LogLevel::kError);
  durable_storage(host, dir);
  QueueConfig queue{true, 1, 5};  // five batches on disk at most
  queue.storage = "file_storage";
  FlakyBackend down;
  down.failures = 1'000'000;
  QueuedRetryExporter e("otlp", queue, fast_retry(), 1s, down.fn(), host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  int accepted = 0;
  absl::Status refusal;
  for (int i = 0; i < 10; ++i) {
    absl::Status s = csp::block_on(e.consume(deadline(5s), batch(i)));
    if (s.ok()) {
      ++accepted;
    } else {
      refusal = s;
    }
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(refusal.code(), absl::StatusCode::kUnavailable) << refusal;
  EXPECT_NE(refusal.message().find("sending queue is full"), std::string::npos) << refusal;
  csp::block_on(e.shutdown(deadline(100ms)));
  EXPECT_EQ(e.counts().accepted, 5);
  EXPECT_EQ(e.dropped_items(), 0);
  std::filesystem::remove_all(dir);
}

pipeline::Batch batch_of(int i, std::int64_t items) {
  return pipeline::Batch{otlp::Signal::kLogs, "batch-" + std::to_string(i), items};
}

// sizer: items, memory queue. The sender is stuck on its first batch; the queue behind it holds
// at most 10 items, whatever the number of batches.
TEST(QueuedRetryExporter, AnItemsSizedQueueHoldsAtMostQueueSizeItems) {
  for (bool block : {true, false}) {
    SCOPED_TRACE(block ? "block_on_overflow" : "refuse at once");
    pipeline::Host host(pipeline::LogLevel::kError);
    csp::Chan<csp::Unit> release(0);
    SendFn stuck = [&](const pipeline::Batch&, csp::Context) -> csp::Task<SendOutcome> {
      co_await release.recv();
      co_return SendOutcome{};
    };
    QueueConfig queue{true, 1, 10};
    queue.sizer = QueueSizer::kItems;
    queue.block_on_overflow = block;
    QueuedRetryExporter e("otlp", queue, fast_retry(), 10s, stuck, host);
    ASSERT_TRUE(csp::block_on(e.start()).ok());
    // 4 + 4 fit; 4 more do not (until the sender finishes one); then 2 still fit.
    EXPECT_TRUE(csp::block_on(e.consume(deadline(5s), batch_of(0, 4))).ok());
    EXPECT_TRUE(csp::block_on(e.consume(deadline(5s), batch_of(1, 4))).ok());
    absl::Status full = csp::block_on(e.consume(deadline(20ms), batch_of(2, 4)));
    EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
    EXPECT_NE(full.message().find("sending queue is full"), std::string::npos) << full;
    EXPECT_NE(full.message().find("10 items"), std::string::npos) << full;
    EXPECT_TRUE(csp::block_on(e.consume(deadline(5s), batch_of(3, 2))).ok());
    // A batch larger than the whole queue gets in only once the queue is empty.
    absl::Status too_big = csp::block_on(e.consume(deadline(20ms), batch_of(4, 25)));
    EXPECT_EQ(too_big.code(), absl::StatusCode::kUnavailable) << too_big;
    release.close();
    for (int waited = 0; waited < 10'000 && e.counts().sent < 10; ++waited) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(e.counts().sent, 10) << "the queue drained";
    EXPECT_TRUE(csp::block_on(e.consume(deadline(5s), batch_of(5, 25))).ok());
    csp::block_on(e.shutdown(deadline(10s)));
    const ExportCounts c = e.counts();
    EXPECT_EQ(c.accepted, 35);
    EXPECT_EQ(c.sent, 35);
    EXPECT_EQ(c.pending(), 0);
  }
}

// sizer: items, durable queue: the items of the records on disk are bounded, and settling a
// record makes room again.
TEST(QueuedRetryExporter, AnItemsSizedDurableQueueRefusesPastQueueSizeItems) {
  const std::string dir = fresh_dir();
  pipeline::Host host(pipeline::LogLevel::kError);
  durable_storage(host, dir);
  QueueConfig queue{true, 1, 10};
  queue.storage = "file_storage";
  queue.sizer = QueueSizer::kItems;
  FlakyBackend down;
  down.failures = 1'000'000;
  QueuedRetryExporter e("otlp", queue, fast_retry(), 1s, down.fn(), host);
  ASSERT_TRUE(csp::block_on(e.start()).ok());
  EXPECT_TRUE(csp::block_on(e.consume(deadline(5s), batch_of(0, 6))).ok());
  EXPECT_TRUE(csp::block_on(e.consume(deadline(5s), batch_of(1, 4))).ok());
  absl::Status full = csp::block_on(e.consume(deadline(5s), batch_of(2, 1)));
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
  EXPECT_NE(full.message().find("10 of 10 items on disk"), std::string::npos) << full;
  csp::block_on(e.shutdown(deadline(100ms)));
  EXPECT_EQ(e.counts().accepted, 10);
  EXPECT_EQ(e.dropped_items(), 0);
  {
    // The backend is up: everything is delivered, and the queue takes new items again.
    pipeline::Host host2(pipeline::LogLevel::kError);
    durable_storage(host2, dir);
    FlakyBackend up;
    QueuedRetryExporter again("otlp", queue, fast_retry(), 1s, up.fn(), host2);
    ASSERT_TRUE(csp::block_on(again.start()).ok());
    // Recovered records count against the disk bound only; new ones against the 10 items,
    // so a caller is refused while two are on disk and gets in once one is delivered.
    for (int i = 0; i < 20; ++i) {
      bool in = false;
      for (int attempt = 0; attempt < 10'000 && !in; ++attempt) {
        in = csp::block_on(again.consume(deadline(5s), batch_of(10 + i, 5))).ok();
        if (!in) std::this_thread::sleep_for(1ms);
      }
      ASSERT_TRUE(in) << i;
    }
    // A durable queue's shutdown keeps what is not yet delivered: wait for all 22 first.
    for (int waited = 0; waited < 10'000; ++waited) {
      {
        std::lock_guard lock(up.mu);
        if (up.delivered.size() >= 22) break;
      }
      std::this_thread::sleep_for(1ms);
    }
    csp::block_on(again.shutdown(deadline(5s)));
    std::lock_guard lock(up.mu);
    EXPECT_EQ(up.delivered.size(), 22u);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace components
