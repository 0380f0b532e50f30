#include "components/processors/batch/batch_processor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "components/testing/recording_consumer.h"
#include "csp/csp.h"
#include "otlp/binary_codec.h"
#include "otlp/signals.h"
#include "otlp/wire.h"

namespace components {
namespace {

using namespace std::chrono_literals;

// A traces request with one resource holding `spans` spans.
pipeline::Batch traces_batch(int spans, int resource_tag = 0) {
  otlp::TracesRequest r;
  auto* rs = r.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("tag");
  attr->mutable_value()->set_int_value(resource_tag);
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_name("span-" + std::to_string(i));
    s->set_trace_id(std::string(16, '\x01'));
    s->set_span_id(std::string(8, static_cast<char>(i + 1)));
  }
  return pipeline::Batch{otlp::Signal::kTraces, *otlp::encode_binary(r), spans};
}

struct Fixture {
  pipeline::Host host{pipeline::LogLevel::kError};
  std::shared_ptr<testing::RecordingConsumer> sink = std::make_shared<testing::RecordingConsumer>();
  std::unique_ptr<BatchProcessor> make(BatchConfig c) {
    return std::make_unique<BatchProcessor>("batch", c, otlp::Signal::kTraces, sink, host);
  }
};

csp::Context deadline(csp::Duration d) {
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), d);
  (void)cancel;
  return ctx;
}

TEST(BatchProcessor, SendsWhenSizeIsReached) {
  Fixture f;
  auto p = f.make(BatchConfig{10, std::chrono::hours(1), 0});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(3, i))).ok());
  }
  // 12 items >= 10: one batch went out without waiting for the (hour-long) timeout.
  while (f.sink->batches().empty()) std::this_thread::sleep_for(1ms);
  auto out = f.sink->batches();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].items, 12);
  EXPECT_EQ(*otlp::wire_count_items(otlp::Signal::kTraces, out[0].bytes), 12u);
  csp::block_on(p->shutdown(deadline(5s)));
}

TEST(BatchProcessor, SendsOnTimeoutAndFlushesOnShutdown) {
  Fixture f;
  auto p = f.make(BatchConfig{1000, 20ms, 0});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(2))).ok());
  while (f.sink->batches().empty()) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(f.sink->items(), 2);
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(5))).ok());
  csp::block_on(p->shutdown(deadline(5s)));
  EXPECT_EQ(f.sink->items(), 7) << "shutdown flushes what was gathered";
}

TEST(BatchProcessor, SplitsAboveMaxSizeKeepingEveryItem) {
  Fixture f;
  auto p = f.make(BatchConfig{100, std::chrono::hours(1), 40});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(70, 1))).ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(50, 2))).ok());
  csp::block_on(p->shutdown(deadline(5s)));
  std::int64_t total = 0;
  for (const auto& b : f.sink->batches()) {
    auto n = otlp::wire_count_items(otlp::Signal::kTraces, b.bytes);
    ASSERT_TRUE(n.ok());
    EXPECT_LE(*n, 40u);
    EXPECT_EQ(static_cast<std::int64_t>(*n), b.items);
    total += b.items;
  }
  EXPECT_EQ(total, 120);
}

TEST(BatchProcessor, AStalledConsumerMakesCallersWaitNotTheProcessorRetry) {
  Fixture f;
  f.sink->gate = csp::Chan<csp::Unit>(0);  // the next consumer cannot take anything yet
  auto p = f.make(BatchConfig{1, std::chrono::hours(1), 0});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  // One gathered batch waits in the hand-on, the input channel (64) fills behind it.
  int accepted = 0;
  for (; accepted < 100; ++accepted) {
    if (!csp::block_on(p->consume(deadline(50ms), traces_batch(1))).ok()) break;
  }
  EXPECT_EQ(accepted, 65);
  // While full, a caller waits until its deadline and is told to retry.
  absl::Status s = csp::block_on(p->consume(deadline(20ms), traces_batch(1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_GT(f.host.admission().held(), 0) << "accepted batches are held in memory";
  f.sink->gate.close();  // the consumer recovers: everything accepted goes through, once
  csp::block_on(p->shutdown(deadline(30s)));
  EXPECT_EQ(f.sink->items(), 65);
  EXPECT_EQ(f.sink->refused(), 0);
  EXPECT_EQ(p->dropped_items(), 0);
}

TEST(BatchProcessor, DropsWhatTheNextConsumerRefusesEvenIfRetryable) {
  // Retrying is the exporter's job (QueuedRetryExporter): a refusal that reaches the processor
  // has outlived the exporter's own retries or its shutdown.
  Fixture f;
  f.sink->refuse_next(1, absl::UnavailableError("exporter is shut down"));
  auto p = f.make(BatchConfig{1, std::chrono::hours(1), 0});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(4))).ok());
  csp::block_on(p->shutdown(deadline(5s)));
  EXPECT_EQ(f.sink->refused(), 1);
  EXPECT_EQ(p->dropped_items(), 4);
}

TEST(BatchProcessor, DropsWhatIsRejectedAsBadData) {
  Fixture f;
  f.sink->refuse_next(1, absl::InvalidArgumentError("bad"));
  auto p = f.make(BatchConfig{1, std::chrono::hours(1), 0});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(4))).ok());
  csp::block_on(p->shutdown(deadline(5s)));
  EXPECT_EQ(p->dropped_items(), 4);
  EXPECT_EQ(f.sink->items(), 0);
}

TEST(BatchProcessor, RefusesAfterShutdown) {
  Fixture f;
  auto p = f.make(BatchConfig{});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  csp::block_on(p->shutdown(deadline(5s)));
  absl::Status s = csp::block_on(p->consume(deadline(1s), traces_batch(1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
}

// A consumer whose OK means "persisted", which takes each batch only when the test lets it.
class DurableSink final : public pipeline::Consumer {
 public:
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch batch) override {
    ++entered;
    co_await gate.recv();
    items += batch.items;
    std::lock_guard lock(mu);
    hand_ons.push_back(batch.items);
    co_return absl::OkStatus();
  }
  bool durable() const override { return true; }
  csp::Chan<csp::Unit> gate{0};
  std::atomic<std::int64_t> items{0};
  std::atomic<int> entered{0};
  std::mutex mu;
  std::vector<std::int64_t> hand_ons;  // items of each hand-on, in the order they finished
};

template <typename Cond>
bool eventually(Cond cond) {
  for (int i = 0; i < 30'000 && !cond(); ++i) std::this_thread::sleep_for(1ms);
  return cond();
}

// A lone caller is answered once its batch is persisted, without waiting for the timeout; and
// what arrives while two gathered batches are being persisted goes out as one.
TEST(BatchProcessor, WithADurableQueueBehindBatchesAreGroupCommittedNotTimed) {
  pipeline::Host host(pipeline::LogLevel::kError);
  auto open_sink = std::make_shared<DurableSink>();
  open_sink->gate.close();
  auto lone = std::make_unique<BatchProcessor>("batch", BatchConfig{8192, std::chrono::hours(1), 0},
                                               otlp::Signal::kTraces, open_sink, host);
  ASSERT_TRUE(csp::block_on(lone->start()).ok());
  absl::Status s = csp::block_on(lone->consume(deadline(30s), traces_batch(2)));
  EXPECT_TRUE(s.ok()) << "answered after the hand-on, not after the one-hour timeout: " << s;
  csp::block_on(lone->shutdown(deadline(5s)));

  auto sink = std::make_shared<DurableSink>();
  auto p = std::make_unique<BatchProcessor>("batch", BatchConfig{8192, std::chrono::hours(1), 0},
                                            otlp::Signal::kTraces, sink, host);
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  auto call = [&](int spans, int tag) {
    callers.emplace_back([&, spans, tag] {
      if (csp::block_on(p->consume(deadline(30s), traces_batch(spans, tag))).ok()) ++ok;
    });
  };
  call(1, 1);
  ASSERT_TRUE(eventually([&] { return sink->entered.load() == 1; }));
  call(1, 2);
  ASSERT_TRUE(eventually([&] { return sink->entered.load() == 2; }));
  // Two hand-ons in flight: these five are gathered meanwhile.
  const std::int64_t before = host.admission().held();
  for (int i = 0; i < 5; ++i) call(1, 10 + i);
  ASSERT_TRUE(eventually([&] {
    return host.admission().held() >=
           before + 5 * static_cast<std::int64_t>(traces_batch(1, 10).bytes.size());
  }));
  for (int i = 0; i < 3; ++i) sink->gate.send_blocking(csp::Unit{});
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 7);
  EXPECT_EQ(sink->items.load(), 7);
  {
    std::lock_guard lock(sink->mu);
    // The three hand-ons complete in any order once the gate opens; what matters is that the
    // five gathered meanwhile went as one.
    std::vector<std::int64_t> sizes = sink->hand_ons;
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, (std::vector<std::int64_t>{1, 1, 5}));
  }
  csp::block_on(p->shutdown(deadline(5s)));

  // With send_batch_size 2, what waits behind two hand-ons never grows past 2 items: the
  // callers beyond wait in the input instead.
  auto small_sink = std::make_shared<DurableSink>();
  auto q = std::make_unique<BatchProcessor>("batch", BatchConfig{2, std::chrono::hours(1), 0},
                                            otlp::Signal::kTraces, small_sink, host);
  ASSERT_TRUE(csp::block_on(q->start()).ok());
  std::vector<std::thread> more;
  std::atomic<int> more_ok{0};
  for (int i = 0; i < 7; ++i) {
    more.emplace_back([&, i] {
      if (csp::block_on(q->consume(deadline(30s), traces_batch(1, 20 + i))).ok()) ++more_ok;
    });
  }
  ASSERT_TRUE(eventually([&] { return small_sink->entered.load() == 2; }));
  small_sink->gate.close();
  for (auto& t : more) t.join();
  EXPECT_EQ(more_ok.load(), 7);
  EXPECT_EQ(small_sink->items.load(), 7);
  std::lock_guard lock(small_sink->mu);
  for (std::int64_t n : small_sink->hand_ons) EXPECT_LE(n, 2);
  csp::block_on(q->shutdown(deadline(5s)));
}

TEST(BatchProcessor, WithADurableQueueBehindCallersAreAnsweredOnlyOncePersisted) {
  pipeline::Host host(pipeline::LogLevel::kError);
  auto sink = std::make_shared<DurableSink>();
  auto p = std::make_unique<BatchProcessor>("batch", BatchConfig{1, std::chrono::hours(1), 0},
                                            otlp::Signal::kTraces, sink, host);
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  std::atomic<bool> answered{false};
  absl::Status answer;
  std::thread caller([&] {
    answer = csp::block_on(p->consume(deadline(30s), traces_batch(3)));
    answered = true;
  });
  // The batch is gathered and handed on, but the queue has not taken it: no answer yet.
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(answered.load());
  sink->gate.close();
  caller.join();
  EXPECT_TRUE(answer.ok()) << answer;
  EXPECT_EQ(sink->items.load(), 3);
  // A caller that gives up before persistence is told to retry.
  auto slow = std::make_shared<DurableSink>();  // never opens
  auto q = std::make_unique<BatchProcessor>("batch", BatchConfig{1, std::chrono::hours(1), 0},
                                            otlp::Signal::kTraces, slow, host);
  ASSERT_TRUE(csp::block_on(q->start()).ok());
  absl::Status late = csp::block_on(q->consume(deadline(20ms), traces_batch(1)));
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable) << late;
  slow->gate.close();
  csp::block_on(q->shutdown(deadline(5s)));
  csp::block_on(p->shutdown(deadline(5s)));
}

// A batch as a receiver with include_metadata hands it on.
pipeline::Batch from_client(pipeline::Batch batch, std::string address,
                            std::vector<std::pair<std::string, std::string>> entries) {
  batch.client = std::make_shared<const pipeline::ClientMetadata>(
      pipeline::ClientMetadata{std::move(address), std::move(entries)});
  return batch;
}

TEST(BatchProcessor, MetadataKeysGatherPerTenantAndHandOnOnlyThoseKeys) {
  Fixture f;
  BatchConfig c{1000, std::chrono::hours(1), 0};
  c.metadata_keys = {"x-tenant"};
  auto p = f.make(c);
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  EXPECT_EQ(p->batchers(), 0u) << "batchers are made as combinations arrive";
  // Two tenants, interleaved, with other headers that must not travel on; and one batch
  // without metadata, which has a batcher of its own.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), from_client(traces_batch(2, i), "10.0.0.1:1",
                                                                   {{"x-tenant", "a"},
                                                                    {"authorization", "secret"}})))
                    .ok());
    ASSERT_TRUE(csp::block_on(
                    p->consume(deadline(5s), from_client(traces_batch(3, i), "10.0.0.2:2",
                                                         {{"x-tenant", "b"}, {"user-agent", "x"}})))
                    .ok());
  }
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), traces_batch(1))).ok());
  EXPECT_EQ(p->batchers(), 3u);
  csp::block_on(p->shutdown(deadline(5s)));

  std::map<std::string, std::int64_t> items_by_tenant;
  for (const pipeline::Batch& b : f.sink->batches()) {
    ASSERT_NE(b.client, nullptr);
    EXPECT_EQ(b.client->address, "") << "the address is not one of the keys";
    const std::vector<std::string_view> tenant = b.client->values("x-tenant");
    ASSERT_LE(tenant.size(), 1u);
    EXPECT_EQ(b.client->entries.size(), tenant.size()) << "only metadata_keys travel on";
    items_by_tenant[tenant.empty() ? "" : std::string(tenant[0])] += b.items;
    EXPECT_EQ(*otlp::wire_count_items(otlp::Signal::kTraces, b.bytes),
              static_cast<std::uint64_t>(b.items));
  }
  EXPECT_EQ(items_by_tenant, (std::map<std::string, std::int64_t>{{"", 1}, {"a", 6}, {"b", 9}}));
}

TEST(BatchProcessor, MetadataKeysMatchNamesWithoutRegardToCase) {
  Fixture f;
  auto node = pipeline::ConfigNode::parse("metadata_keys: [X-Tenant]", "batch");
  ASSERT_TRUE(node.ok());
  auto c = BatchConfig::parse(*node);
  ASSERT_TRUE(c.ok()) << c.status();
  c->timeout = std::chrono::hours(1);
  auto p = f.make(*c);
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  ASSERT_TRUE(
      csp::block_on(p->consume(deadline(5s), from_client(traces_batch(2), "", {{"x-tenant", "a"}})))
          .ok());
  csp::block_on(p->shutdown(deadline(5s)));
  ASSERT_EQ(f.sink->batches().size(), 1u);
  EXPECT_EQ(f.sink->batches()[0].client->first("x-tenant"), "a");
}

TEST(BatchProcessor, CardinalityLimitRefusesNewCombinationsButServesKnownOnes) {
  Fixture f;
  BatchConfig c{1000, std::chrono::hours(1), 0};
  c.metadata_keys = {"x-tenant"};
  c.metadata_cardinality_limit = 2;
  auto p = f.make(c);
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  for (const char* tenant : {"a", "b"}) {
    ASSERT_TRUE(csp::block_on(p->consume(deadline(5s),
                                         from_client(traces_batch(1), "", {{"x-tenant", tenant}})))
                    .ok());
  }
  absl::Status third = csp::block_on(
      p->consume(deadline(5s), from_client(traces_batch(1), "", {{"x-tenant", "c"}})));
  EXPECT_EQ(third.code(), absl::StatusCode::kFailedPrecondition) << third;
  EXPECT_NE(third.message().find("metadata_cardinality_limit"), std::string_view::npos);
  EXPECT_TRUE(
      csp::block_on(p->consume(deadline(5s), from_client(traces_batch(1), "", {{"x-tenant", "a"}})))
          .ok());
  csp::block_on(p->shutdown(deadline(5s)));
  EXPECT_EQ(f.sink->items(), 3);
}

TEST(BatchProcessor, WithoutMetadataKeysBatchesLeaveTheirClientBehind) {
  Fixture f;
  auto p = f.make(BatchConfig{1000, std::chrono::hours(1), 0});
  ASSERT_TRUE(csp::block_on(p->start()).ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), from_client(traces_batch(2), "10.0.0.1:1",
                                                                 {{"x-tenant", "a"}})))
                  .ok());
  ASSERT_TRUE(csp::block_on(p->consume(deadline(5s), from_client(traces_batch(2), "10.0.0.2:1",
                                                                 {{"x-tenant", "b"}})))
                  .ok());
  csp::block_on(p->shutdown(deadline(5s)));
  ASSERT_EQ(f.sink->batches().size(), 1u) << "one batcher for everything";
  EXPECT_EQ(f.sink->batches()[0].client, nullptr);
  EXPECT_EQ(f.sink->items(), 4);
}

TEST(BatchConfig, MetadataKeysAreCheckedAtTheirLine) {
  for (const char* yaml :
       {"metadata_keys: [a, A]", "metadata_keys: [\"\"]", "metadata_cardinality_limit: -1"}) {
    auto node = pipeline::ConfigNode::parse(yaml, "batch");
    ASSERT_TRUE(node.ok());
    auto c = BatchConfig::parse(*node);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find("metadata_"), std::string_view::npos) << c.status();
  }
}

}  // namespace
}  // namespace components
