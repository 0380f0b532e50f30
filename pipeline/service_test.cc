#include "pipeline/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "csp/csp.h"
#include "pipeline/config/config.h"

namespace pipeline {
namespace {

using namespace std::chrono_literals;

// ---- Test components -----------------------------------------------------------------------

// A receiver the test drives by hand: push() hands a batch to what the engine connected.
class ManualReceiver final : public Receiver {
 public:
  void connect(otlp::Signal signal, std::shared_ptr<Consumer> next) override {
    next_[static_cast<int>(signal)] = std::move(next);
  }
  absl::Status push(otlp::Signal signal, std::string bytes, std::int64_t items) {
    auto ctx = csp::with_timeout(csp::Context::background(), 10s).first;
    return csp::block_on(
        next_[static_cast<int>(signal)]->consume(ctx, Batch{signal, bytes, items}));
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
    if (!gate_.is_nil()) co_await gate_.recv();
    std::lock_guard lock(mu_);
    seen_.push_back(b.bytes);
    co_return absl::OkStatus();
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  csp::Chan<csp::Unit> gate_;  // when set, each consume waits for it (a stalled backend)

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
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

TEST(Service, RunsProcessorsInOrderAndFansOutToEveryExporter) {
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
  auto svc = Service::build(*cfg, f, host);
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

TEST(Service, OneReceiverFeedsEveryPipelineOfItsSignal) {
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
  auto svc = Service::build(*cfg, f, host);
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

TEST(Service, ConnectorJoinsPipelines) {
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
  auto svc = Service::build(*cfg, f, host);
  ASSERT_TRUE(svc.ok()) << svc.status();
  ASSERT_TRUE(csp::block_on((*svc)->start()).ok());
  ASSERT_TRUE(reg.receivers["manual"]->push(otlp::Signal::kTraces, "t", 1).ok());
  csp::block_on((*svc)->shutdown(5s));
  EXPECT_EQ(reg.exporters["recorder|traces"]->seen(), std::vector<std::string>{"tIO"});
}

TEST(Service, ErrorsNameThePipelineAndComponent) {
  Registry reg;
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto unknown = config(R"(
receivers: {manual: {}}
exporters: {nosuch: {}}
service: {pipelines: {traces: {receivers: [manual], exporters: [nosuch]}}}
)");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  auto s1 = Service::build(*unknown, f, host);
  ASSERT_FALSE(s1.ok());
  EXPECT_NE(s1.status().message().find(
                "service::pipelines::traces: exporter \"nosuch\" has unknown type"),
            std::string::npos)
      << s1.status();

  auto unsupported = config(R"(
receivers: {manual: {}}
exporters: {recorder: {}}
service: {pipelines: {profiles: {receivers: [manual], exporters: [recorder]}}}
)");
  ASSERT_TRUE(unsupported.ok()) << unsupported.status();
  auto s2 = Service::build(*unsupported, f, host);
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.status().message().find("receiver \"manual\" does not support profiles"),
            std::string::npos)
      << s2.status();

  auto bad_key = config(R"(
receivers: {manual: {}}
processors: {tag: {tga: X}}
exporters: {recorder: {}}
service: {pipelines: {traces: {receivers: [manual], processors: [tag], exporters: [recorder]}}}
)");
  ASSERT_TRUE(bad_key.ok()) << bad_key.status();
  auto s3 = Service::build(*bad_key, f, host);
  ASSERT_FALSE(s3.ok());
  EXPECT_NE(s3.status().message().find("tga"), std::string::npos) << s3.status();
}

TEST(Service, ExtensionsAreRejectedUntilTheBuildHasSome) {
  Registry reg;
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  auto cfg = config(R"(
extensions: {health_check: {}}
receivers: {manual: {}}
exporters: {recorder: {}}
service:
  extensions: [health_check]
  pipelines: {traces: {receivers: [manual], exporters: [recorder]}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto svc = Service::build(*cfg, f, host);
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(svc.status().message().find("extension \"health_check\" has unknown type"),
            std::string::npos)
      << svc.status();
}

TEST(Service, FullPipelineRefusesRetryablyInsteadOfGrowing) {
  Registry reg;
  auto cfg = config(R"(
receivers: {manual: {}}
exporters: {recorder: {}}
service: {pipelines: {logs: {receivers: [manual], exporters: [recorder]}}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Host host(LogLevel::kError);
  Factories f = test_factories(&reg);
  ServiceOptions opts;
  opts.entrance_capacity = 2;
  opts.entrance_workers = 1;
  auto svc = Service::build(*cfg, f, host, opts);
  ASSERT_TRUE(svc.ok()) << svc.status();
  auto exporter = reg.exporters["recorder|logs"];
  exporter->gate_ = csp::Chan<csp::Unit>(0);  // the backend stalls
  ASSERT_TRUE(csp::block_on((*svc)->start()).ok());
  // Many concurrent pushes: one is with the worker, two wait in the entrance, the rest refused.
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      absl::Status s = reg.receivers["manual"]->push(otlp::Signal::kLogs, std::to_string(i), 1);
      if (s.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
        ++refused;
      }
    });
  }
  while (refused.load() < 5) std::this_thread::sleep_for(1ms);
  exporter->gate_.close();  // the backend recovers
  for (auto& t : clients) t.join();
  csp::block_on((*svc)->shutdown(5s));
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(refused.load(), 5);
  EXPECT_EQ(exporter->seen().size(), 3u) << "everything accepted was delivered";
}

}  // namespace
}  // namespace pipeline
