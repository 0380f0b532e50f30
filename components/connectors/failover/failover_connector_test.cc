#include "components/connectors/failover/failover_connector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "components/connectors/failover/factory.h"
#include "components/exporters/helper/queued_retry.h"
#include "csp/csp.h"

namespace components {
namespace {

using namespace std::chrono_literals;

csp::Context deadline(csp::Duration d) {
  return csp::with_timeout(csp::Context::background(), d).first;
}

// A pipeline stand-in whose health and answers the test sets.
class ScriptedPipeline final : public pipeline::Consumer {
 public:
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch batch) override {
    if (refuse.load()) co_return absl::UnavailableError("queue full");
    std::lock_guard lock(mu);
    got.insert(batch.bytes);
    reroutes.push_back(batch.reroute);  // as an exporter's queue would keep it
    co_return absl::OkStatus();
  }
  bool delivering() const override { return healthy.load(); }
  bool durable() const override { return persists.load(); }
  std::size_t count() {
    std::lock_guard lock(mu);
    return got.size();
  }
  std::atomic<bool> healthy{true};
  std::atomic<bool> refuse{false};
  std::atomic<bool> persists{false};
  std::mutex mu;
  std::multiset<std::string> got;
  std::vector<std::shared_ptr<pipeline::Reroute>> reroutes;
};

pipeline::Batch batch(int i) {
  return pipeline::Batch{otlp::Signal::kTraces, "b" + std::to_string(i), 1};
}

std::shared_ptr<FailoverConnector> make_connector(
    const std::string& yaml, std::map<std::string, std::shared_ptr<pipeline::Consumer>> pipes) {
  auto node = pipeline::ConfigNode::parse(yaml, "connectors::failover");
  EXPECT_TRUE(node.ok()) << node.status();
  auto config = parse_failover_config(*node);
  EXPECT_TRUE(config.ok()) << config.status();
  auto c = std::make_shared<FailoverConnector>("failover", *std::move(config));
  for (auto& [id, consumer] : pipes)
    c->connect_pipeline(*pipeline::PipelineId::parse(id), consumer);
  EXPECT_TRUE(c->check_connections().ok()) << c->check_connections();
  return c;
}

// A backend behind a real QueuedRetryExporter: up, or refusing every attempt. A refusal is
// either certain (the backend answered: nothing kept) or of unknown outcome.
struct ScriptedBackend {
  std::atomic<bool> up{true};
  std::atomic<bool> refusal_certain{false};
  std::mutex mu;
  std::multiset<std::string> delivered;
  SendFn fn() {
    return [this](const pipeline::Batch& batch, csp::Context) -> csp::Task<SendOutcome> {
      const std::string& bytes = batch.bytes;
      if (!up.load()) {
        co_return SendOutcome{absl::UnavailableError("down"), true, std::nullopt,
                              refusal_certain.load()};
      }
      std::lock_guard lock(mu);
      delivered.insert(bytes);
      co_return SendOutcome{};
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return delivered.size();
  }
};

RetryConfig fast_retry() {
  RetryConfig retry;
  retry.initial_interval = 5ms;
  retry.max_interval = 20ms;
  retry.max_elapsed_time = csp::Duration::zero();  // retry until delivered
  return retry;
}

// A primary and a backup QueuedRetryExporter, each sending to its ScriptedBackend, behind a
// started failover connector configured by `yaml`; batches are numbered as they are sent.
struct TwoLevels {
  TwoLevels(std::size_t consumers, const std::string& yaml)
      : primary(
            std::make_shared<QueuedRetryExporter>("otlp/primary", QueueConfig{true, consumers, 100},
                                                  fast_retry(), 1s, primary_backend.fn(), host)),
        backup(std::make_shared<QueuedRetryExporter>("otlp/backup",
                                                     QueueConfig{true, consumers, 100},
                                                     fast_retry(), 1s, backup_backend.fn(), host)) {
    EXPECT_TRUE(csp::block_on(primary->start()).ok());
    EXPECT_TRUE(csp::block_on(backup->start()).ok());
    c = make_connector(yaml, {{"traces/primary", primary}, {"traces/backup", backup}});
    EXPECT_TRUE(csp::block_on(c->start()).ok());
  }

  void send(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(sent++))).ok());
    }
  }

  // Shuts the connector down, then its exporters, as the graph does (30 s at most), and checks
  // that every batch sent reached one backend or the other, exactly once.
  void shut_down_and_expect_each_once() {
    auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), 30s);
    csp::block_on(c->shutdown(ctx));
    csp::block_on(primary->shutdown(ctx));
    csp::block_on(backup->shutdown(ctx));
    cancel();
    std::multiset<std::string> all = primary_backend.delivered;
    all.insert(backup_backend.delivered.begin(), backup_backend.delivered.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(sent)) << "exactly once overall";
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<std::size_t>(sent));
  }

  pipeline::Host host{pipeline::LogLevel::kError};
  ScriptedBackend primary_backend, backup_backend;
  std::shared_ptr<QueuedRetryExporter> primary, backup;
  std::shared_ptr<FailoverConnector> c;
  int sent = 0;
};

// Hands a copy of each batch to every exporter, as a pipeline with two exporters does.
class FanOut final : public pipeline::Consumer {
 public:
  explicit FanOut(std::vector<std::shared_ptr<pipeline::Consumer>> next) : next_(std::move(next)) {}
  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override {
    absl::Status first;
    for (const auto& consumer : next_) {
      pipeline::Batch copy = batch;
      absl::Status s = co_await consumer->consume(ctx, std::move(copy));
      if (!s.ok() && first.ok()) first = s;
    }
    co_return first;
  }

 private:
  std::vector<std::shared_ptr<pipeline::Consumer>> next_;
};

// Waits (up to 30s) until cond() holds.
template <typename Cond>
bool eventually(Cond cond) {
  for (int i = 0; i < 30'000 && !cond(); ++i) std::this_thread::sleep_for(1ms);
  return cond();
}

TEST(FailoverConnector, UsesTheHighestDeliveringLevelAndComesBack) {
  auto primary = std::make_shared<ScriptedPipeline>();
  auto backup = std::make_shared<ScriptedPipeline>();
  auto c = make_connector("priority_levels: [[traces/primary], [traces/backup]]",
                          {{"traces/primary", primary}, {"traces/backup", backup}});
  ASSERT_TRUE(csp::block_on(c->start()).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(i))).ok());
  primary->healthy = false;  // its exporters' head-of-queue deliveries fail
  EXPECT_EQ(c->current_level(), 1u);
  for (int i = 5; i < 12; ++i) ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(i))).ok());
  primary->healthy = true;
  for (int i = 12; i < 15; ++i) ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(i))).ok());
  csp::block_on(c->shutdown(deadline(5s)));
  EXPECT_EQ(primary->count(), 8u);
  EXPECT_EQ(backup->count(), 7u);
  EXPECT_EQ(c->items_sent_to(0), 8);
  EXPECT_EQ(c->items_sent_to(1), 7);
  EXPECT_EQ(c->fell_through(), 0);
}

TEST(FailoverConnector, ARefusalFallsThroughWithoutSendingTheBatchTwice) {
  auto primary = std::make_shared<ScriptedPipeline>();
  auto backup = std::make_shared<ScriptedPipeline>();
  auto c = make_connector("priority_levels: [[traces/primary], [traces/backup]]",
                          {{"traces/primary", primary}, {"traces/backup", backup}});
  ASSERT_TRUE(csp::block_on(c->start()).ok());
  primary->refuse = true;  // definitely not taken (still "delivering": its queue is just full)
  ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(1))).ok());
  EXPECT_EQ(primary->count(), 0u);
  EXPECT_EQ(backup->count(), 1u);
  EXPECT_EQ(c->fell_through(), 1);
  // Every level refuses: the caller is told to retry, nothing was taken anywhere.
  backup->refuse = true;
  absl::Status s = csp::block_on(c->consume(deadline(5s), batch(2)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(primary->count() + backup->count(), 1u);
  csp::block_on(c->shutdown(deadline(5s)));
}

TEST(FailoverConnector, ProbesAHigherLevelEveryRetryInterval) {
  auto primary = std::make_shared<ScriptedPipeline>();
  auto backup = std::make_shared<ScriptedPipeline>();
  auto c =
      make_connector("{priority_levels: [[traces/primary], [traces/backup]], retry_interval: 10ms}",
                     {{"traces/primary", primary}, {"traces/backup", backup}});
  ASSERT_TRUE(csp::block_on(c->start()).ok());
  primary->healthy = false;  // and its queue is empty: only a probe can find it again
  int sent = 0;
  while (primary->count() == 0 && sent < 100'000) {
    ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(sent++))).ok());
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(primary->count(), 1u) << "one probe batch went to the failing level";
  EXPECT_EQ(primary->count() + backup->count(), static_cast<std::size_t>(sent));
  csp::block_on(c->shutdown(deadline(5s)));
}

TEST(FailoverConnector, PersistsOnlyIfEveryLevelDoes) {
  auto primary = std::make_shared<ScriptedPipeline>();
  auto backup = std::make_shared<ScriptedPipeline>();
  auto c = make_connector("priority_levels: [[traces/primary], [traces/backup]]",
                          {{"traces/primary", primary}, {"traces/backup", backup}});
  ASSERT_TRUE(csp::block_on(c->start()).ok());
  primary->persists = true;
  EXPECT_FALSE(c->durable()) << "the backup would not persist what falls through to it";
  backup->persists = true;
  EXPECT_TRUE(c->durable());
  csp::block_on(c->shutdown(deadline(5s)));
}

TEST(FailoverConnector, ConfigErrorsNameTheKey) {
  for (const char* yaml : {"{}", "priority_levels: []", "priority_levels: [[]]",
                           "{priority_levels: [[traces]], retry_interval: 0s}",
                           "{priority_levels: [[traces]], retry_gap: 1s}",
                           "{priority_levels: [[traces]], max_retries: 3}"}) {
    auto node = pipeline::ConfigNode::parse(yaml, "connectors::failover");
    ASSERT_TRUE(node.ok()) << yaml;
    EXPECT_FALSE(parse_failover_config(*node).ok()) << yaml;
  }
  // A listed pipeline that does not receive from the connector.
  auto node = pipeline::ConfigNode::parse("priority_levels: [[traces/a], [traces/b]]",
                                          "connectors::failover");
  FailoverConnector c("failover", *parse_failover_config(*node));
  c.connect_pipeline(*pipeline::PipelineId::parse("traces/a"),
                     std::make_shared<ScriptedPipeline>());
  absl::Status s = c.check_connections();
  EXPECT_NE(s.message().find("pipeline \"traces/b\" does not receive from connector"),
            std::string::npos)
      << s;
}

// With real sending queues: the primary backend goes down while batches are queued for it,
// failing them with an unknown outcome (it may have kept them), so they stay and are retried
// there; failover follows the outcome at the head of the queue, and when the primary comes
// back every batch has been delivered exactly once, to one backend or the other.
TEST(FailoverConnector, WithSendingQueuesEveryBatchIsDeliveredOnceAcrossLevels) {
  TwoLevels t(1, "priority_levels: [[traces/primary], [traces/backup]]");
  t.send(10);
  t.primary_backend.up = false;
  // The next batches go to the primary until a delivery at the head of its queue fails.
  while (t.primary->delivering()) t.send(1);
  t.send(20);  // all to the backup
  EXPECT_GE(t.backup->counts().accepted, 20);
  t.primary_backend.up = true;  // the queued batch at its head goes through, traffic returns
  while (!t.primary->delivering()) std::this_thread::sleep_for(1ms);
  t.send(10);
  t.shut_down_and_expect_each_once();
  EXPECT_GE(t.backup_backend.delivered.size(), 20u);
  EXPECT_EQ(t.c->items_sent_to(0) + t.c->items_sent_to(1), t.sent);
  EXPECT_EQ(t.primary->counts().sent + t.backup->counts().sent, t.sent);
  EXPECT_EQ(t.c->items_rerouted(), 0) << "an unknown outcome is retried where it is";
}

// The primary's backend refuses for certain (it answers, keeping nothing): what is queued for
// it moves to the backup instead of waiting there, each batch once; when the primary is back,
// a probe finds it and traffic returns. Every batch is delivered exactly once overall.
TEST(FailoverConnector, BatchesADownLevelDefinitelyFailedMoveToTheNextLevel) {
  TwoLevels t(2, "{priority_levels: [[traces/primary], [traces/backup]], retry_interval: 20ms}");
  t.primary_backend.refusal_certain = true;
  t.send(5);
  ASSERT_TRUE(eventually([&] { return t.primary_backend.count() == 5; }));
  t.primary_backend.up = false;
  t.send(40);  // into the primary's queue until its head fails, then to the backup
  ASSERT_TRUE(eventually([&] { return t.backup_backend.count() == 40; }))
      << "everything sent while the primary was down reached the backup: "
      << t.backup_backend.count();
  EXPECT_EQ(t.primary_backend.count(), 5u);
  EXPECT_GT(t.c->items_rerouted(), 0) << "some batches were queued for the primary and moved";
  EXPECT_EQ(t.primary->counts().rerouted, t.c->items_rerouted());
  EXPECT_EQ(t.primary->counts().pending(), 0);

  t.primary_backend.up = true;
  ASSERT_TRUE(eventually([&] {
    t.send(1);
    return t.primary_backend.count() > 5;
  })) << "a probe found the primary again";
  t.send(10);
  t.shut_down_and_expect_each_once();
  EXPECT_GE(t.primary_backend.count(), 5u + 10u);
  EXPECT_EQ(t.c->items_sent_to(0) + t.c->items_sent_to(1) - t.c->items_rerouted(), t.sent);
  EXPECT_EQ(t.primary->counts().sent + t.primary->counts().rerouted, t.c->items_sent_to(0));
}

// A level whose pipeline has two exporters: both fail each batch for certain, and the next
// level still receives every batch once.
TEST(FailoverConnector, ABatchTwoExportersFailedReachesTheNextLevelOnce) {
  pipeline::Host host(pipeline::LogLevel::kError);
  ScriptedBackend a_backend, b_backend, backup_backend;
  a_backend.up = b_backend.up = false;
  a_backend.refusal_certain = b_backend.refusal_certain = true;
  QueueConfig no_queue{false, 1, 1};
  RetryConfig no_retry;
  no_retry.enabled = false;
  auto a =
      std::make_shared<QueuedRetryExporter>("otlp/a", no_queue, no_retry, 1s, a_backend.fn(), host);
  auto b =
      std::make_shared<QueuedRetryExporter>("otlp/b", no_queue, no_retry, 1s, b_backend.fn(), host);
  auto backup = std::make_shared<QueuedRetryExporter>("otlp/backup", no_queue, no_retry, 1s,
                                                      backup_backend.fn(), host);
  for (auto* e : {a.get(), b.get(), backup.get()}) ASSERT_TRUE(csp::block_on(e->start()).ok());
  auto level0 = std::make_shared<FanOut>(std::vector<std::shared_ptr<pipeline::Consumer>>{a, b});
  auto c = make_connector("priority_levels: [[traces/primary], [traces/backup]]",
                          {{"traces/primary", level0}, {"traces/backup", backup}});
  ASSERT_TRUE(csp::block_on(c->start()).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(i))).ok());
  }
  EXPECT_EQ(backup_backend.count(), 5u);
  EXPECT_EQ(std::set<std::string>(backup_backend.delivered.begin(), backup_backend.delivered.end())
                .size(),
            5u);
  EXPECT_EQ(a->counts().rerouted, 5);
  EXPECT_EQ(b->counts().rerouted, 5) << "b's copy was already moved: taken without a resend";
  EXPECT_EQ(c->items_rerouted(), 5);

  csp::block_on(c->shutdown(deadline(5s)));
}

// A level of two pipelines: however its copies come down — both rerouted by their exporters, or
// one refused at hand-over (the connector falls through) and the other rerouted later — each
// pipeline of the next level receives the batch once.
TEST(FailoverConnector, TheNextLevelGetsABatchOnceHoweverItComesDown) {
  for (bool fall_through_first : {false, true}) {
    SCOPED_TRACE(fall_through_first ? "one refused at hand-over" : "both rerouted");
    auto a = std::make_shared<ScriptedPipeline>();
    auto b = std::make_shared<ScriptedPipeline>();
    auto backup = std::make_shared<ScriptedPipeline>();
    auto c = make_connector("priority_levels: [[traces/a, traces/b], [traces/backup]]",
                            {{"traces/a", a}, {"traces/b", b}, {"traces/backup", backup}});
    ASSERT_TRUE(csp::block_on(c->start()).ok());
    b->refuse = fall_through_first;
    ASSERT_TRUE(csp::block_on(c->consume(deadline(5s), batch(1))).ok());
    EXPECT_EQ(backup->count(), fall_through_first ? 1u : 0u);
    std::vector<std::shared_ptr<pipeline::Reroute>> held = a->reroutes;
    held.insert(held.end(), b->reroutes.begin(), b->reroutes.end());
    ASSERT_EQ(held.size(), fall_through_first ? 1u : 2u);
    for (const auto& reroute : held) {
      ASSERT_NE(reroute, nullptr);
      pipeline::Batch copy = batch(1);
      EXPECT_TRUE(csp::block_on(reroute->take(deadline(5s), std::move(copy))).ok());
    }
    EXPECT_EQ(backup->count(), 1u) << "one batch, one delivery to the backup";
    EXPECT_EQ(c->fell_through(), fall_through_first ? 1 : 0);
    csp::block_on(c->shutdown(deadline(5s)));
  }
}

}  // namespace
}  // namespace components
