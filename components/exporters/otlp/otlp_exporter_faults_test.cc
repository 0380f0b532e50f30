// The `otlp` and `otlp_http` exporters, built by their factories, against a backend that fails on
// cue (exporters/testing/faulty_backend.h): which failures are retried, how long each wait is,
// what the backend ends up with, and that the exporter's counts account for every item.
//
// Waits go through a ManualRetryClock, so every backoff and retry delay is recorded and then
// completes at once: schedules are compared with the configuration exactly, and nothing here
// measures or sleeps wall time. Real time passes only where the transport enforces the
// per-attempt timeout (the hung-backend tests, a few hundred milliseconds).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "components/exporters/helper/queued_retry.h"
#include "components/exporters/otlp/factory.h"
#include "components/exporters/testing/faulty_backend.h"
#include "components/exporters/testing/manual_retry_clock.h"
#include "csp/csp.h"
#include "otlp/binary_codec.h"
#include "otlp/wire.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"

namespace components {
namespace {

using namespace std::chrono_literals;
using testing::Fault;
using testing::FaultyBackend;
using testing::ManualRetryClock;
using testing::Protocol;

// Only there to end a hang with a failure instead of a stuck binary.
constexpr csp::Duration kGenerous = 30s;

// The retry policy of most tests: 1s, 2s, 4s, then 5s for ever, no jitter.
constexpr char kRetry[] =
    "retry_on_failure: {initial_interval: 1s, multiplier: 2, max_interval: 5s, "
    "randomization_factor: 0, max_elapsed_time: 1h}";

csp::Context deadline(csp::Duration d) {
  return csp::with_timeout(csp::Context::background(), d).first;
}

// A logs request with `records` log records, told apart from others by `id`.
pipeline::Batch log_batch(int id, int records = 1) {
  otlp::LogsRequest request;
  auto* scope = request.add_resource_logs()->add_scope_logs();
  for (int i = 0; i < records; ++i) {
    scope->add_log_records()->mutable_body()->set_string_value("batch " + std::to_string(id) +
                                                               " record " + std::to_string(i));
  }
  pipeline::Batch batch;
  batch.signal = otlp::Signal::kLogs;
  EXPECT_TRUE(request.SerializeToString(&batch.bytes));
  batch.items = static_cast<std::int64_t>(
      otlp::wire_count_items(otlp::Signal::kLogs, batch.bytes).value_or(0));
  EXPECT_EQ(batch.items, records);
  return batch;
}

std::string protocol_name(const ::testing::TestParamInfo<Protocol>& info) {
  return info.param == Protocol::kGrpc ? "otlp" : "otlp_http";
}

class ExporterFaults : public ::testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<FaultyBackend>(GetParam());
    ASSERT_TRUE(backend_->start().ok());
  }

  void TearDown() override {
    if (exporter_ != nullptr) csp::block_on(exporter_->shutdown(deadline(kGenerous)));
    backend_->stop();
  }

  bool grpc() const { return GetParam() == Protocol::kGrpc; }

  // The exporter of the protocol under test, made by its factory from `settings` (YAML keys
  // besides endpoint and tls), with the manual clock, and started.
  void make_exporter(const std::string& settings) {
    std::string yaml = "{endpoint: '" + backend_->endpoint() + "', ";
    if (grpc()) yaml += "tls: {insecure: true}, ";
    yaml += settings + "}";
    const std::string type = grpc() ? "otlp" : "otlp_http";
    auto node = pipeline::ConfigNode::parse(yaml, type);
    ASSERT_TRUE(node.ok()) << node.status();
    std::unique_ptr<pipeline::ExporterFactory> factory =
        grpc() ? make_otlp_exporter_factory() : make_otlp_http_exporter_factory("otlp_http");
    auto made = factory->create(pipeline::ComponentId(type), *node, otlp::Signal::kLogs, host_);
    ASSERT_TRUE(made.ok()) << made.status();
    exporter_ = std::dynamic_pointer_cast<QueuedRetryExporter>(*made);
    ASSERT_NE(exporter_, nullptr) << "the otlp exporters are QueuedRetryExporters";
    ASSERT_TRUE(exporter_->set_retry_clock(clock_).ok());
    ASSERT_TRUE(csp::block_on(exporter_->start()).ok());
  }

  // One sender and a roomy queue: attempts happen one after the other, in the script's order.
  void make_exporter_one_sender(const std::string& extra = kRetry) {
    make_exporter("sending_queue: {num_consumers: 1, queue_size: 100}, " + extra);
  }

  void consume(pipeline::Batch batch) {
    absl::Status s = csp::block_on(exporter_->consume(deadline(kGenerous), std::move(batch)));
    ASSERT_TRUE(s.ok()) << s;
  }

  // Drains the queue (retries complete at once on the manual clock), then releases whatever
  // the backend still holds, so its counts are final.
  ExportCounts finish() {
    csp::block_on(exporter_->shutdown(deadline(kGenerous)));
    backend_->stop();
    ExportCounts c = exporter_->counts();
    exporter_ = nullptr;
    return c;
  }

  // After `cuts` failed attempts that reached the backend, the waits are the backoff schedule
  // of kRetry (1s, 2s, 4s, 5s, ...). Over HTTP there is exactly one wait per cut. The gRPC
  // client may send the next attempt on the cut connection before it has noticed the close
  // (a retry on the manual clock comes at once); that attempt fails in the client ("Broken
  // pipe") without reaching the backend, which adds a wait but no arrival — still on the same
  // schedule.
  void expect_retries_after_cuts(std::size_t cuts) {
    const std::vector<csp::Duration> waits = clock_->waits();
    if (grpc()) {
      EXPECT_GE(waits.size(), cuts);
    } else {
      EXPECT_EQ(waits.size(), cuts);
    }
    csp::Duration backoff = 1s;
    for (const csp::Duration w : waits) {
      EXPECT_EQ(w, backoff);
      backoff = std::min<csp::Duration>(backoff * 2, 5s);
    }
  }

  pipeline::Host host_{pipeline::LogLevel::kError};
  std::shared_ptr<ManualRetryClock> clock_ = std::make_shared<ManualRetryClock>();
  std::unique_ptr<FaultyBackend> backend_;
  std::shared_ptr<QueuedRetryExporter> exporter_;
};

using Waits = std::vector<csp::Duration>;

TEST_P(ExporterFaults, FailuresThenSuccessFollowTheBackoffAndDeliverOnce) {
  make_exporter_one_sender();
  backend_->script({Fault::unavailable(), Fault::unavailable(), Fault::unavailable(),
                    Fault::unavailable(), Fault::unavailable(), Fault::accept()});
  const pipeline::Batch batch = log_batch(1, 3);
  consume(batch);
  const ExportCounts c = finish();
  EXPECT_EQ(backend_->received(batch.bytes), 6u) << "five failed attempts, then the good one";
  EXPECT_EQ(backend_->kept(batch.bytes), 1u);
  // initial_interval × multiplier^k, capped at max_interval.
  EXPECT_EQ(clock_->waits(), (Waits{1s, 2s, 4s, 5s, 5s}));
  EXPECT_EQ(c.accepted, 3);
  EXPECT_EQ(c.sent, 3);
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, TheServersRetryDelayReplacesTheBackoff) {
  // initial_interval 4s: the advised 1s is shorter than the backoff, 7s longer than max_interval;
  // both are waited as given. The backoff still advances meanwhile (4s → 8s, capped at 5s).
  make_exporter_one_sender(
      "retry_on_failure: {initial_interval: 4s, multiplier: 2, max_interval: 5s, "
      "randomization_factor: 0, max_elapsed_time: 1h}");
  backend_->script({Fault::unavailable(1s), Fault::resource_exhausted(7s), Fault::unavailable(),
                    Fault::accept()});
  const pipeline::Batch batch = log_batch(1);
  consume(batch);
  const ExportCounts c = finish();
  EXPECT_EQ(clock_->waits(), (Waits{1s, 7s, 5s}));
  EXPECT_EQ(backend_->received(batch.bytes), 4u);
  EXPECT_EQ(backend_->kept(batch.bytes), 1u);
  EXPECT_EQ(c.sent, 1);
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, ResourceExhaustedWithoutADelayIsRetriedOverHttpOnly) {
  // OTLP: gRPC RESOURCE_EXHAUSTED is retryable only with RetryInfo; HTTP 429 always is.
  make_exporter_one_sender();
  backend_->script({Fault::resource_exhausted(), Fault::accept()});
  const pipeline::Batch batch = log_batch(1, 2);
  consume(batch);
  const ExportCounts c = finish();
  EXPECT_EQ(c.accepted, 2);
  EXPECT_EQ(c.pending(), 0);
  if (grpc()) {
    EXPECT_EQ(backend_->received(batch.bytes), 1u);
    EXPECT_EQ(backend_->kept(batch.bytes), 0u);
    EXPECT_TRUE(clock_->waits().empty());
    EXPECT_EQ(c.dropped_permanent, 2);
    EXPECT_EQ(c.sent, 0);
  } else {
    EXPECT_EQ(backend_->received(batch.bytes), 2u);
    EXPECT_EQ(backend_->kept(batch.bytes), 1u);
    EXPECT_EQ(clock_->waits(), (Waits{1s}));
    EXPECT_EQ(c.dropped_permanent, 0);
    EXPECT_EQ(c.sent, 2);
  }
}

TEST_P(ExporterFaults, PermanentErrorsAreDroppedAtOnceAndCounted) {
  make_exporter_one_sender();
  backend_->script({Fault::invalid_argument()});  // then the backend accepts
  const pipeline::Batch bad = log_batch(1, 4);
  const pipeline::Batch good = log_batch(2, 1);
  consume(bad);
  consume(good);
  const ExportCounts c = finish();
  EXPECT_EQ(backend_->received(bad.bytes), 1u) << "not retried";
  EXPECT_EQ(backend_->kept(bad.bytes), 0u);
  EXPECT_EQ(backend_->kept(good.bytes), 1u) << "the exporter goes on with the next batch";
  EXPECT_TRUE(clock_->waits().empty());
  EXPECT_EQ(c.accepted, 5);
  EXPECT_EQ(c.dropped_permanent, 4);
  EXPECT_EQ(c.sent, 1);
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, AHungBackendTimesOutAndTheRetryMayDuplicate) {
  // timeout is real time (the transport's deadline): long enough that a request the backend
  // answers at once is never late, even under ThreadSanitizer on a loaded machine (at 300 ms
  // an accepted retry once timed out there and was retried again).
  make_exporter_one_sender("timeout: 2s, " + std::string(kRetry));
  // The first batch's first request is answered OK, but only after the client gave up: the
  // backend keeps it, and the retry delivers it again. The second's is never answered.
  backend_->script({Fault::answer_late(), Fault::accept(), Fault::never_answer(), Fault::accept()});
  const pipeline::Batch late = log_batch(1, 2);
  const pipeline::Batch lost = log_batch(2, 3);
  consume(late);
  consume(lost);
  const ExportCounts c = finish();
  EXPECT_EQ(backend_->received(late.bytes), 2u);
  EXPECT_EQ(backend_->kept(late.bytes), 2u) << "a legitimate duplicate: the answer came too late";
  EXPECT_EQ(backend_->received(lost.bytes), 2u);
  EXPECT_EQ(backend_->kept(lost.bytes), 1u);
  EXPECT_EQ(clock_->waits(), (Waits{1s, 1s})) << "each batch's first retry waits initial_interval";
  EXPECT_EQ(c.accepted, 5);
  EXPECT_EQ(c.sent, 5) << "the exporter counts each batch once";
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, ACutConnectionIsRetriedAndDelivered) {
  make_exporter_one_sender();
  // The first request of the test opens a new connection, so no client re-sends on its own.
  backend_->script({Fault::cut_connection(), Fault::cut_connection(), Fault::accept()});
  const pipeline::Batch batch = log_batch(1, 2);
  consume(batch);
  const ExportCounts c = finish();
  EXPECT_GE(backend_->connections_cut(), 2u);
  EXPECT_EQ(backend_->received(batch.bytes), 3u);
  EXPECT_EQ(backend_->kept(batch.bytes), 1u);
  expect_retries_after_cuts(2);
  EXPECT_EQ(c.sent, 2);
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, ACutKeptAliveConnectionIsResentByTheHttpClientItself) {
  make_exporter_one_sender();
  const pipeline::Batch first = log_batch(1);
  const pipeline::Batch second = log_batch(2);
  backend_->script({Fault::accept(), Fault::cut_connection(), Fault::accept()});
  consume(first);
  consume(second);
  const ExportCounts c = finish();
  EXPECT_EQ(backend_->kept(first.bytes), 1u);
  EXPECT_EQ(backend_->received(second.bytes), 2u);
  EXPECT_EQ(backend_->kept(second.bytes), 1u);
  if (grpc()) {
    // The call had reached the server: gRPC does not replay it; the exporter retries.
    expect_retries_after_cuts(1);
  } else {
    // A pooled connection that fails before any answer byte is taken for one the server closed
    // while idle, and the HTTP client sends once more on a new connection (http_client.h).
    // Here the server did have the request: the exporter never sees the failure.
    EXPECT_TRUE(clock_->waits().empty());
  }
  EXPECT_EQ(c.sent, 2);
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, AFlappingBackendGetsEveryBatchOnceOrItIsAccountedFor) {
  make_exporter("sending_queue: {num_consumers: 4, queue_size: 100}, " + std::string(kRetry));
  // Up and down by turns, one attempt at a time, with every kind of refusal.
  backend_->then_repeat({Fault::unavailable(), Fault::accept(), Fault::resource_exhausted(1s),
                         Fault::accept(), Fault::unavailable(2s), Fault::invalid_argument(),
                         Fault::accept()});
  std::vector<pipeline::Batch> batches;
  std::int64_t total = 0;
  for (int i = 0; i < 40; ++i) {
    batches.push_back(log_batch(i, 1 + i % 3));
    total += batches.back().items;
    consume(batches.back());
  }
  const ExportCounts c = finish();
  // Each batch the backend refused as bad data is dropped; every other one is kept once.
  std::int64_t refused_items = 0;
  std::int64_t kept_items = 0;
  for (const pipeline::Batch& b : batches) {
    std::size_t refusals = 0;
    for (const testing::Arrival& a : backend_->arrivals()) {
      if (a.body == b.bytes && a.fault.refusal.code() == absl::StatusCode::kInvalidArgument) {
        ++refusals;
      }
    }
    if (refusals > 0) {
      EXPECT_EQ(refusals, 1u) << "a permanent refusal is not retried";
      EXPECT_EQ(backend_->kept(b.bytes), 0u);
      refused_items += b.items;
    } else {
      EXPECT_EQ(backend_->kept(b.bytes), 1u) << "delivered exactly once";
      kept_items += b.items;
    }
  }
  EXPECT_GT(refused_items, 0) << "the cycle holds a permanent refusal";
  EXPECT_EQ(c.accepted, total);
  EXPECT_EQ(c.sent, kept_items);
  EXPECT_EQ(c.dropped_permanent, refused_items);
  EXPECT_EQ(c.dropped_retries_exhausted, 0);
  EXPECT_EQ(c.dropped_shutdown, 0);
  EXPECT_EQ(c.accepted, c.sent + c.dropped_permanent + c.dropped_retries_exhausted +
                            c.dropped_shutdown + c.pending());
  EXPECT_EQ(c.pending(), 0);
}

TEST_P(ExporterFaults, MaxElapsedTimeOnTheRetryClockDropsAndCounts) {
  make_exporter_one_sender(
      "retry_on_failure: {initial_interval: 1s, multiplier: 2, max_interval: 5s, "
      "randomization_factor: 0, max_elapsed_time: 10s}");
  backend_->then_repeat({Fault::unavailable()});  // down for good
  const pipeline::Batch batch = log_batch(1, 3);
  consume(batch);
  const ExportCounts c = finish();
  // 1s + 2s + 4s = 7s; the next wait (5s) would end past 10s, so the exporter gives up.
  EXPECT_EQ(clock_->waits(), (Waits{1s, 2s, 4s}));
  EXPECT_EQ(clock_->elapsed(), 7s);
  EXPECT_EQ(backend_->received(batch.bytes), 4u);
  EXPECT_EQ(c.dropped_retries_exhausted, 3);
  EXPECT_EQ(c.sent, 0);
  EXPECT_EQ(c.pending(), 0);
}

INSTANTIATE_TEST_SUITE_P(Protocols, ExporterFaults,
                         ::testing::Values(Protocol::kGrpc, Protocol::kHttp), protocol_name);

}  // namespace
}  // namespace components
