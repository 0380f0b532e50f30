#include "pipeline/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "csp/csp.h"
#include "pipeline/config/config.h"

namespace pipeline {
namespace {

using namespace std::chrono_literals;

// ---- Test components -----------------------------------------------------------------------

// Shutdowns of tag processors so far (to check that none happens while a batch is inside).
std::atomic<int> g_tag_shutdowns{0};

// A receiver the test drives by hand: push() hands a batch to what the engine connected.
class ManualReceiver final : public Receiver {
 public:
  void connect(otlp::Signal signal, std::shared_ptr<Consumer> next) override {
    next_[static_cast<int>(signal)] = std::move(next);
  }
  absl::Status push(otlp::Signal signal, std::string bytes, std::int64_t items) {
    auto ctx = csp::with_timeout(csp::Context::background(), 10s).first;
    return push_with(ctx, signal, std::move(bytes), items);
  }
  absl::Status push_with(csp::Context ctx, otlp::Signal signal, std::string bytes,
                         std::int64_t items) {
    return csp::block_on(
        next_[static_cast<int>(signal)]->consume(ctx, Batch{signal, std::move(bytes), items}));
  }
  bool connected(otlp::Signal s) const { return next_[static_cast<int>(s)] != nullptr; }
  std::atomic<int> started{0}, stopped{0};
  csp::Task<absl::Status> start() override {
    ++started;
    co_return absl::OkStatus();
  }
  csp::Task<void> shutdown(csp::Context) override {
    ++stopped;
    co_return;
  }

 private:
  std::shared_ptr<Consumer> next_[4];
};

class RecordingExporter final : public Exporter {
 public:
  csp::Task<absl::Status> consume(csp::Context, Batch b) override {
    if (!gate_.is_nil()) {
      ++waiting_;
      co_await gate_.recv();
      --waiting_;
    }
    tag_shutdowns_at_delivery_ = g_tag_shutdowns.load();
    std::lock_guard lock(mu_);
    seen_.push_back(b.bytes);
    co_return absl::OkStatus();
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  csp::Chan<csp::Unit> gate_;  // when set, each consume waits for it (a stalled backend)
  int waiting() const { return waiting_.load(); }
  int tag_shutdowns_at_delivery() const { return tag_shutdowns_at_delivery_.load(); }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
  std::atomic<int> waiting_{0};
  std::atomic<int> tag_shutdowns_at_delivery_{-1};
};

// A processor that appends a tag to the bytes (so the test can see it ran, and in what order).
class TagProcessor final : public Processor {
 public:
  TagProcessor(std::string tag, std::shared_ptr<Consumer> next)
      : tag_(std::move(tag)), next_(std::move(next)) {}
  csp::Task<absl::Status> consume(csp::Context ctx, Batch b) override {
    b.bytes += tag_;
    co_return co_await next_->consume(ctx, std::move(b));
  }
  csp::Task<void> shutdown(csp::Context) override {
    ++g_tag_shutdowns;
    co_return;
  }

 private:
  std::string tag_;
  std::shared_ptr<Consumer> next_;
};

struct Registry {
  std::map<std::string, std::shared_ptr<ManualReceiver>> receivers;
  std::map<std::string, std::shared_ptr<RecordingExporter>> exporters;
};

class TestReceiverFactory final : public ReceiverFactory {
 public:
  explicit TestReceiverFactory(Registry* r) : r_(r) {}
  std::string_view type() const override { return "manual"; }
  bool supports(otlp::Signal s) const override { return s != otlp::Signal::kProfiles; }
  absl::StatusOr<std::shared_ptr<Receiver>> create(const ComponentId& id, const ConfigNode& c,
                                                   Host&) const override {
    if (auto s = c.check_no_unknown_keys(); !s.ok()) return s;
    auto rcv = std::make_shared<ManualReceiver>();
    r_->receivers[id.str()] = rcv;
    return std::shared_ptr<Receiver>(rcv);
  }
  Registry* r_;
};

class TestProcessorFactory final : public ProcessorFactory {
 public:
  std::string_view type() const override { return "tag"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<Processor>> create(const ComponentId&, const ConfigNode& c,
                                                    otlp::Signal, std::shared_ptr<Consumer> next,
                                                    std::shared_ptr<Component>,
                                                    Host&) const override {
    auto tag = c.string("tag", "");
    if (!tag.ok()) return tag.status();
    if (auto s = c.check_no_unknown_keys(); !s.ok()) return s;
    return std::shared_ptr<Processor>(std::make_shared<TagProcessor>(*tag, std::move(next)));
  }
};

class TestExporterFactory final : public ExporterFactory {
 public:
  explicit TestExporterFactory(Registry* r) : r_(r) {}
  std::string_view type() const override { return "recorder"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<Exporter>> create(const ComponentId& id, const ConfigNode&,
                                                   otlp::Signal signal, Host&) const override {
    auto e = std::make_shared<RecordingExporter>();
    r_->exporters[id.str() + "|" + std::string(otlp::signal_name(signal))] = e;
    return std::shared_ptr<Exporter>(e);
  }
  Registry* r_;
};

class PassConnector final : public Connector {
 public:
  void connect(otlp::Signal s, std::shared_ptr<Consumer> next) override {
    next_[static_cast<int>(s)] = std::move(next);
  }
  csp::Task<absl::Status> consume(csp::Context ctx, Batch b) override {
    co_return co_await next_[static_cast<int>(b.signal)]->consume(ctx, std::move(b));
  }
  std::shared_ptr<Consumer> next_[4];
};

class TestConnectorFactory final : public ConnectorFactory {
 public:
  std::string_view type() const override { return "pass"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<Connector>> create(const ComponentId&, const ConfigNode&,
                                                    Host&) const override {
    return std::shared_ptr<Connector>(std::make_shared<PassConnector>());
  }
};

Factories test_factories(Registry* r) {
  Factories f;
  f.receivers.push_back(std::make_unique<TestReceiverFactory>(r));
  f.processors.push_back(std::make_unique<TestProcessorFactory>());
  f.exporters.push_back(std::make_unique<TestExporterFactory>(r));
  f.connectors.push_back(std::make_unique<TestConnectorFactory>());
  return f;
}

absl::StatusOr<Config> config(const std::string& yaml) {
  LoadOptions o;
  o.inline_yaml = yaml;
  return load_config(o);
}

// ---- Tests ---------------------------------------------------------------------------------

TEST(Graph, RunsProcessorsInOrderAndFansOutToEveryExporter) {
  Registry reg;
  auto cfg = config(R"(
receivers: {manual: {}}
processors: {tag/a: {tag: A}, tag/b: {tag: B}}
exporters: {recorder/1: {}, recorder/2: {}}
service:
  pipelines:
    traces: {receivers: [manual], processors: [tag/a, tag/b], exporters: [recorder/1, recorder/2]}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto svc = Graph::build(*cfg, f, host);
  ASSERT_TRUE(svc.ok()) << svc.status();
  ASSERT_TRUE(csp::block_on((*svc)->start()).ok());
  EXPECT_EQ(reg.receivers["manual"]->started.load(), 1);
  ASSERT_TRUE(reg.receivers["manual"]->push(otlp::Signal::kTraces, "x", 1).ok());
  csp::block_on((*svc)->shutdown(5s));
  EXPECT_EQ(reg.exporters["recorder/1|traces"]->seen(), std::vector<std::string>{"xAB"});
  EXPECT_EQ(reg.exporters["recorder/2|traces"]->seen(), std::vector<std::string>{"xAB"});
  EXPECT_EQ(reg.receivers["manual"]->stopped.load(), 1);
  EXPECT_EQ(
      (*svc)->describe(),
      std::vector<std::string>{"traces: [manual] -> tag/a, tag/b -> [recorder/1, recorder/2]"});
}

TEST(Graph, OneReceiverFeedsEveryPipelineOfItsSignal) {
  Registry reg;
  auto cfg = config(R"(
receivers: {manual: {}}
exporters: {recorder/a: {}, recorder/b: {}}
service:
  pipelines:
    logs: {receivers: [manual], exporters: [recorder/a]}
    logs/2: {receivers: [manual], exporters: [recorder/b]}
    metrics: {receivers: [manual], exporters: [recorder/a]}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto svc = Graph::build(*cfg, f, host);
  ASSERT_TRUE(svc.ok()) << svc.status();
  ASSERT_EQ(reg.receivers.size(), 1u) << "a receiver is created once";
  ASSERT_TRUE(csp::block_on((*svc)->start()).ok());
  ASSERT_TRUE(reg.receivers["manual"]->push(otlp::Signal::kLogs, "L", 1).ok());
  ASSERT_TRUE(reg.receivers["manual"]->push(otlp::Signal::kMetrics, "M", 1).ok());
  EXPECT_FALSE(reg.receivers["manual"]->connected(otlp::Signal::kTraces));
  csp::block_on((*svc)->shutdown(5s));
  EXPECT_EQ(reg.exporters["recorder/a|logs"]->seen(), std::vector<std::string>{"L"});
  EXPECT_EQ(reg.exporters["recorder/b|logs"]->seen(), std::vector<std::string>{"L"});
  EXPECT_EQ(reg.exporters["recorder/a|metrics"]->seen(), std::vector<std::string>{"M"});
}

TEST(Graph, ConnectorJoinsPipelines) {
  Registry reg;
  auto cfg = config(R"(
receivers: {manual: {}}
processors: {tag/in: {tag: I}, tag/out: {tag: O}}
exporters: {recorder: {}}
connectors: {pass: {}}
service:
  pipelines:
    traces/in: {receivers: [manual], processors: [tag/in], exporters: [pass]}
    traces/out: {receivers: [pass], processors: [tag/out], exporters: [recorder]}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto svc = Graph::build(*cfg, f, host);
  ASSERT_TRUE(svc.ok()) << svc.status();
  ASSERT_TRUE(csp::block_on((*svc)->start()).ok());
  ASSERT_TRUE(reg.receivers["manual"]->push(otlp::Signal::kTraces, "t", 1).ok());
  csp::block_on((*svc)->shutdown(5s));
  EXPECT_EQ(reg.exporters["recorder|traces"]->seen(), std::vector<std::string>{"tIO"});
}

// The message of Graph::build's error for `yaml` ("" if it builds).
std::string build_error(const std::string& yaml) {
  Registry reg;
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto cfg = config(yaml);
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  if (!cfg.ok()) return "";
  auto graph = Graph::build(*cfg, f, host);
  return graph.ok() ? "" : std::string(graph.status().message());
}

TEST(Graph, ErrorsNameThePipelineAndComponent) {
  EXPECT_THAT(
      build_error(R"(
receivers: {manual: {}}
exporters: {nosuch: {}}
service: {pipelines: {traces: {receivers: [manual], exporters: [nosuch]}}}
)"),
      ::testing::HasSubstr("service::pipelines::traces: exporter \"nosuch\" has unknown type"));
  EXPECT_THAT(build_error(R"(
receivers: {manual: {}}
exporters: {recorder: {}}
service: {pipelines: {profiles: {receivers: [manual], exporters: [recorder]}}}
)"),
              ::testing::HasSubstr("receiver \"manual\" does not support profiles"));
  EXPECT_THAT(build_error(R"(
receivers: {manual: {}}
processors: {tag: {tga: X}}
exporters: {recorder: {}}
service: {pipelines: {traces: {receivers: [manual], processors: [tag], exporters: [recorder]}}}
)"),
              ::testing::HasSubstr("tga"));
}

TEST(Graph, AnExtensionOfUnknownTypeIsAnError) {
  EXPECT_THAT(build_error(R"(
extensions: {health_check: {}}
receivers: {manual: {}}
exporters: {recorder: {}}
service:
  extensions: [health_check]
  pipelines: {traces: {receivers: [manual], exporters: [recorder]}}
)"),
              ::testing::HasSubstr("extension \"health_check\" has unknown type"));
}

TEST(Graph, FullPipelineMakesCallersWaitAndRefusesThemAtTheirDeadline) {
  Registry reg;
  auto cfg = config(R"(
receivers: {manual: {}}
exporters: {recorder: {}}
service: {pipelines: {logs: {receivers: [manual], exporters: [recorder]}}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  GraphOptions opts;
  opts.entrance_capacity = 2;
  auto graph = Graph::build(*cfg, f, host, opts);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto exporter = reg.exporters["recorder|logs"];
  exporter->gate_ = csp::Chan<csp::Unit>(0);  // the backend stalls
  ASSERT_TRUE(csp::block_on((*graph)->start()).ok());
  // Two batches fill the pipeline and wait for the backend.
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      if (reg.receivers["manual"]->push(otlp::Signal::kLogs, std::to_string(i), 1).ok()) ++ok;
    });
  }
  while (exporter->waiting() < 2) std::this_thread::sleep_for(1ms);
  // A third waits for room until its deadline, then is told to retry.
  auto ctx = csp::with_timeout(csp::Context::background(), 50ms).first;
  absl::Status third = reg.receivers["manual"]->push_with(ctx, otlp::Signal::kLogs, "late", 1);
  EXPECT_EQ(third.code(), absl::StatusCode::kUnavailable) << third;
  EXPECT_NE(third.message().find("pipeline logs is full"), std::string::npos) << third;
  exporter->gate_.close();  // the backend recovers
  for (auto& t : clients) t.join();
  csp::block_on((*graph)->shutdown(5s));
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(exporter->seen().size(), 2u) << "everything accepted was delivered";
}

TEST(Graph, ConnectorCycleIsAnErrorNamingThePipelinesAndWhere) {
  Registry reg;
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto cfg = config(R"(receivers: {manual: {}}
exporters: {recorder: {}}
connectors: {pass/ab: {}, pass/ba: {}}
service:
  pipelines:
    traces/a: {receivers: [manual, pass/ba], exporters: [pass/ab]}
    traces/b: {receivers: [pass/ab], exporters: [recorder, pass/ba]}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto graph = Graph::build(*cfg, f, host);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message(),
            "service::pipelines: the pipelines form a cycle through connectors: traces/a -> "
            "pass/ab -> traces/b -> pass/ba -> traces/a (<inline>:6:5)");
}

// Factories that count what they create, to check which instances the graph shares.
class CountingExporterFactory final : public ExporterFactory {
 public:
  CountingExporterFactory(std::string type, bool shared)
      : type_(std::move(type)), shared_(shared) {}
  std::string_view type() const override { return type_; }
  bool supports(otlp::Signal) const override { return true; }
  bool shared_across_signals() const override { return shared_; }
  absl::StatusOr<std::shared_ptr<Exporter>> create(const ComponentId&, const ConfigNode&,
                                                   otlp::Signal, Host&) const override {
    ++created;
    return std::shared_ptr<Exporter>(std::make_shared<RecordingExporter>());
  }
  mutable int created = 0;

 private:
  std::string type_;
  bool shared_;
};

// A processor whose shared part records the order of starts and shutdowns.
struct Events {
  std::mutex mu;
  std::vector<std::string> list;
  void add(std::string e) {
    std::lock_guard lock(mu);
    list.push_back(std::move(e));
  }
};

// A component that only records its start and shutdown, as "start <what>" / "shutdown <what>".
class RecordingComponent final : public Component {
 public:
  RecordingComponent(Events* events, std::string what) : events_(events), what_(std::move(what)) {}
  csp::Task<absl::Status> start() override {
    events_->add("start " + what_);
    co_return absl::OkStatus();
  }
  csp::Task<void> shutdown(csp::Context) override {
    events_->add("shutdown " + what_);
    co_return;
  }

 private:
  Events* events_;
  std::string what_;
};

class PartProcessor final : public Processor {
 public:
  PartProcessor(std::shared_ptr<Component> shared, std::shared_ptr<Consumer> next, Events* events)
      : shared_(std::move(shared)), next_(std::move(next)), events_(events) {}
  csp::Task<absl::Status> consume(csp::Context ctx, Batch b) override {
    co_return co_await next_->consume(ctx, std::move(b));
  }
  csp::Task<absl::Status> start() override {
    events_->add("start processor");
    co_return absl::OkStatus();
  }
  csp::Task<void> shutdown(csp::Context) override {
    events_->add("shutdown processor");
    co_return;
  }
  std::shared_ptr<Component> shared_;

 private:
  std::shared_ptr<Consumer> next_;
  Events* events_;
};

class SharedPartFactory final : public ProcessorFactory {
 public:
  explicit SharedPartFactory(Events* events) : events_(events) {}
  std::string_view type() const override { return "limiter"; }
  bool supports(otlp::Signal) const override { return true; }
  bool has_shared_part() const override { return true; }
  absl::StatusOr<std::shared_ptr<Component>> create_shared(const ComponentId&, const ConfigNode&,
                                                           Host&) const override {
    ++shared_created;
    return std::shared_ptr<Component>(std::make_shared<RecordingComponent>(events_, "shared"));
  }
  absl::StatusOr<std::shared_ptr<Processor>> create(const ComponentId&, const ConfigNode&,
                                                    otlp::Signal, std::shared_ptr<Consumer> next,
                                                    std::shared_ptr<Component> shared,
                                                    Host&) const override {
    EXPECT_NE(shared, nullptr);
    ++created;
    return std::shared_ptr<Processor>(
        std::make_shared<PartProcessor>(std::move(shared), std::move(next), events_));
  }
  mutable int created = 0;
  mutable int shared_created = 0;

 private:
  Events* events_;
};

class RecordingExtensionFactory final : public ExtensionFactory {
 public:
  explicit RecordingExtensionFactory(Events* events) : events_(events) {}
  std::string_view type() const override { return "recorder_ext"; }
  absl::StatusOr<std::shared_ptr<Component>> create(const ComponentId&, const ConfigNode&,
                                                    Host&) const override {
    return std::shared_ptr<Component>(std::make_shared<RecordingComponent>(events_, "extension"));
  }

 private:
  Events* events_;
};

// A processor whose factory finds the extension through the Host when it is created.
class ExtensionUserFactory final : public ProcessorFactory {
 public:
  explicit ExtensionUserFactory(Events* events) : events_(events) {}
  std::string_view type() const override { return "uses_ext"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<Processor>> create(const ComponentId&, const ConfigNode&,
                                                    otlp::Signal, std::shared_ptr<Consumer> next,
                                                    std::shared_ptr<Component>,
                                                    Host& host) const override {
    if (host.extension("recorder_ext") == nullptr) {
      return absl::FailedPreconditionError("no extension");
    }
    return std::shared_ptr<Processor>(
        std::make_shared<PartProcessor>(nullptr, std::move(next), events_));
  }

 private:
  Events* events_;
};

TEST(Graph, ExtensionsExistBeforeComponentsStartFirstAndStopLast) {
  Registry reg;
  Events events;
  Factories f = test_factories(&reg);
  f.extensions.push_back(std::make_unique<RecordingExtensionFactory>(&events));
  f.processors.push_back(std::make_unique<ExtensionUserFactory>(&events));
  auto cfg = config(R"(
extensions: {recorder_ext: {}}
receivers: {manual: {}}
processors: {uses_ext: {}}
exporters: {recorder: {}}
service:
  extensions: [recorder_ext]
  pipelines: {traces: {receivers: [manual], processors: [uses_ext], exporters: [recorder]}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  auto graph = Graph::build(*cfg, f, host);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ((*graph)->start_order().front(), "extension recorder_ext");
  ASSERT_TRUE(csp::block_on((*graph)->start()).ok());
  csp::block_on((*graph)->shutdown(5s));
  std::lock_guard lock(events.mu);
  EXPECT_EQ(events.list, (std::vector<std::string>{"start extension", "start processor",
                                                   "shutdown processor", "shutdown extension"}));
}

TEST(Graph, InstancesAreDecidedByTheGraphFromTheFactories) {
  Registry reg;
  Events events;
  Factories f = test_factories(&reg);
  auto per_signal = std::make_unique<CountingExporterFactory>("per_signal", false);
  auto shared = std::make_unique<CountingExporterFactory>("shared", true);
  auto limiter = std::make_unique<SharedPartFactory>(&events);
  auto* per_signal_f = per_signal.get();
  auto* shared_f = shared.get();
  auto* limiter_f = limiter.get();
  f.exporters.push_back(std::move(per_signal));
  f.exporters.push_back(std::move(shared));
  f.processors.push_back(std::move(limiter));
  auto cfg = config(R"(
receivers: {manual: {}}
processors: {limiter: {}}
exporters: {per_signal: {}, shared: {}}
service:
  pipelines:
    traces: {receivers: [manual], processors: [limiter], exporters: [per_signal, shared]}
    traces/2: {receivers: [manual], processors: [limiter], exporters: [per_signal, shared]}
    logs: {receivers: [manual], processors: [limiter], exporters: [per_signal, shared]}
    metrics: {receivers: [manual], processors: [limiter], exporters: [per_signal, shared]}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  auto graph = Graph::build(*cfg, f, host);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(reg.receivers.size(), 1u) << "one receiver per id";
  EXPECT_EQ(per_signal_f->created, 3) << "one per (id, signal): traces, logs, metrics";
  EXPECT_EQ(shared_f->created, 1) << "one per id for every signal";
  EXPECT_EQ(limiter_f->created, 4) << "a processor per (pipeline, id)";
  EXPECT_EQ(limiter_f->shared_created, 1) << "its shared part once per id";

  // Start: exporters before processors before receivers; the shared part before its
  // processors. Shutdown: the reverse, the shared part after every processor that uses it.
  const std::vector<std::string> order = (*graph)->start_order();
  auto pos = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  EXPECT_LT(pos("exporter shared"), pos("processor limiter (traces)"));
  EXPECT_LT(pos("exporter per_signal (logs)"), pos("processor limiter (logs)"));
  EXPECT_LT(pos("processor limiter (shared)"), pos("processor limiter (traces/2)"));
  EXPECT_EQ(pos("receiver manual"), static_cast<std::ptrdiff_t>(order.size()) - 1);
  ASSERT_TRUE(csp::block_on((*graph)->start()).ok());
  csp::block_on((*graph)->shutdown(5s));
  std::lock_guard lock(events.mu);
  ASSERT_EQ(events.list.size(), 10u);
  EXPECT_EQ(events.list.front(), "start shared");
  EXPECT_EQ(events.list.back(), "shutdown shared");
}

TEST(Graph, ShutdownWaitsForTheBatchesInsideAPipeline) {
  Registry reg;
  auto cfg = config(R"(
receivers: {manual: {}}
processors: {tag: {tag: T}}
exporters: {recorder: {}}
service: {pipelines: {logs: {receivers: [manual], processors: [tag], exporters: [recorder]}}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto graph = Graph::build(*cfg, f, host);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto exporter = reg.exporters["recorder|logs"];
  exporter->gate_ = csp::Chan<csp::Unit>(0);
  ASSERT_TRUE(csp::block_on((*graph)->start()).ok());
  std::thread client(
      [&] { EXPECT_TRUE(reg.receivers["manual"]->push(otlp::Signal::kLogs, "x", 1).ok()); });
  while (exporter->waiting() < 1) std::this_thread::sleep_for(1ms);
  const int shutdowns_before = g_tag_shutdowns.load();
  std::thread stopper([&] { csp::block_on((*graph)->shutdown(10s)); });
  // The shutdown has begun (the receiver is stopped); give it the chance to run ahead.
  while (reg.receivers["manual"]->stopped.load() == 0) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  exporter->gate_.close();  // the backend takes the batch
  client.join();
  stopper.join();
  EXPECT_EQ(exporter->seen(), std::vector<std::string>{"xT"});
  // The processor was shut down only after the batch inside the pipeline had passed it.
  EXPECT_EQ(exporter->tag_shutdowns_at_delivery(), shutdowns_before);
  EXPECT_EQ(g_tag_shutdowns.load(), shutdowns_before + 1);
  // After shutdown the pipeline refuses.
  EXPECT_EQ(reg.receivers["manual"]->push(otlp::Signal::kLogs, "y", 1).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pipeline
