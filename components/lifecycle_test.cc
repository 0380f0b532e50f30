// The lifecycle contract of pipeline/component.h, run over every factory in
// components::make_factories() and every signal each supports: start → consume one small batch →
// shutdown; shutdown without start; shutdown twice; consume after shutdown is refused. A factory
// added to the list without a minimal config here fails the suite (minimal_config below).

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/factories.h"
#include "components/testing/recording_consumer.h"
#include "csp/csp.h"
#include "otlp/binary_codec.h"
#include "otlp/signal.h"
#include "otlp/wire.h"
#include "pipeline/config/config_node.h"

namespace components {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Long enough never to fire on a healthy component, short enough that a hang fails the test
// instead of timing out the whole binary.
constexpr csp::Duration kHang = 30s;
// The deadline shutdown gets.
constexpr csp::Duration kShutdownDeadline = 3s;

enum class Kind { kReceiver, kProcessor, kExporter, kConnector };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kReceiver:
      return "receiver";
    case Kind::kProcessor:
      return "processor";
    case Kind::kExporter:
      return "exporter";
    case Kind::kConnector:
      return "connector";
  }
  return "?";
}

struct Case {
  Kind kind;
  std::string type;
  otlp::Signal signal;
};

std::vector<Case> all_cases() {
  const pipeline::Factories f = make_factories();
  std::vector<Case> out;
  auto add = [&](Kind kind, const auto& list) {
    for (const auto& factory : list) {
      for (otlp::Signal s : otlp::kAllSignals) {
        if (factory->supports(s)) out.push_back({kind, std::string(factory->type()), s});
      }
    }
  };
  add(Kind::kReceiver, f.receivers);
  add(Kind::kProcessor, f.processors);
  add(Kind::kExporter, f.exporters);
  add(Kind::kConnector, f.connectors);
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = std::string(kind_name(info.param.kind)) + "_" + info.param.type + "_" +
                     std::string(otlp::signal_name(info.param.signal));
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// The smallest config each factory accepts, with nothing that waits long or reaches outside the
// machine. Empty if the type is unknown.
std::string minimal_config(const Case& c, const fs::path& dir) {
  if (c.kind == Kind::kReceiver && c.type == "otlp") {
    return "protocols: {grpc: {endpoint: '127.0.0.1:0'}, http: {endpoint: '127.0.0.1:0'}, "
           "udp: {endpoint: '127.0.0.1:0'}}";
  }
  if (c.kind == Kind::kReceiver && c.type == "statsd") {
    return "{endpoint: '127.0.0.1:0', aggregation_interval: 10ms}";
  }
  if (c.kind == Kind::kReceiver && c.type == "syslog") {
    return "{protocol: rfc5424, udp: {listen_address: '127.0.0.1:0'}, "
           "tcp: {listen_address: '127.0.0.1:0'}}";
  }
  if (c.kind == Kind::kProcessor && c.type == "batch") return "{timeout: 10ms}";
  if (c.kind == Kind::kProcessor && c.type == "memory_limiter") {
    // A limit no test process reaches: the limiter must let the batch through.
    return "{check_interval: 10ms, limit_mib: 1048576}";
  }
  if (c.kind == Kind::kExporter && (c.type == "debug" || c.type == "nop")) return "{}";
  if (c.kind == Kind::kExporter && c.type == "file") {
    return "{path: '" + (dir / "out.json").string() + "', flush_interval: 10ms}";
  }
  // Port 1 on loopback refuses at once; no retries, so shutdown does not wait on a backoff.
  if (c.kind == Kind::kExporter && c.type == "otlp") {
    return "{endpoint: '127.0.0.1:1', tls: {insecure: true}, timeout: 200ms, "
           "retry_on_failure: {enabled: false}}";
  }
  if (c.kind == Kind::kExporter && (c.type == "otlp_http" || c.type == "otlphttp")) {
    return "{endpoint: 'http://127.0.0.1:1', timeout: 200ms, retry_on_failure: {enabled: false}}";
  }
  if (c.kind == Kind::kExporter && c.type == "otlp_websocket") {
    return "{endpoint: 'ws://127.0.0.1:1', timeout: 200ms, retry_on_failure: {enabled: false}}";
  }
  if (c.kind == Kind::kExporter && c.type == "otlp_udp") {
    return "{endpoint: '127.0.0.1:1', timeout: 200ms, retry_on_failure: {enabled: false}}";
  }
  if (c.kind == Kind::kConnector && c.type == "forward") return "{}";
  // One level of one pipeline, which create() below connects to the recording consumer.
  if (c.kind == Kind::kConnector && c.type == "failover") {
    return "{priority_levels: [[" + std::string(otlp::signal_name(c.signal)) + "/next]]}";
  }
  return "";
}

// One small, valid request of the signal.
pipeline::Batch small_batch(otlp::Signal signal) {
  std::unique_ptr<google::protobuf::Message> request = otlp::new_request(signal);
  switch (signal) {
    case otlp::Signal::kTraces: {
      auto& r = static_cast<otlp::TracesRequest&>(*request);
      auto* span = r.add_resource_spans()->add_scope_spans()->add_spans();
      span->set_name("lifecycle");
      span->set_trace_id(std::string(16, '\1'));
      span->set_span_id(std::string(8, '\2'));
      break;
    }
    case otlp::Signal::kMetrics: {
      auto& r = static_cast<otlp::MetricsRequest&>(*request);
      auto* m = r.add_resource_metrics()->add_scope_metrics()->add_metrics();
      m->set_name("lifecycle");
      m->mutable_gauge()->add_data_points()->set_as_int(1);
      break;
    }
    case otlp::Signal::kLogs: {
      auto& r = static_cast<otlp::LogsRequest&>(*request);
      r.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body()->set_string_value(
          "lifecycle");
      break;
    }
    case otlp::Signal::kProfiles: {
      auto& r = static_cast<otlp::ProfilesRequest&>(*request);
      r.add_resource_profiles()->add_scope_profiles()->add_profiles()->add_samples();
      break;
    }
  }
  std::string bytes;
  EXPECT_TRUE(request->SerializeToString(&bytes));
  auto items = otlp::wire_count_items(signal, bytes);
  EXPECT_TRUE(items.ok()) << items.status();
  EXPECT_GT(items.ok() ? *items : 0, 0u)
      << "the batch must hold an item for the checks to mean anything";
  return pipeline::Batch{signal, std::move(bytes),
                         items.ok() ? static_cast<std::int64_t>(*items) : 0};
}

// Runs a task on a goroutine and waits for it, at most kHang. False if it did not finish: the
// goroutine keeps what it captured alive, so a hang fails the test without a use after free.
template <class T>
bool finishes(csp::Task<T> task, T* result) {
  csp::Chan<T> out(1);
  csp::go(
      [](csp::Task<T>& t, csp::Chan<T>& o) -> csp::Task<void> {
        T r = co_await std::move(t);
        o.try_send(std::move(r));
      },
      std::move(task), out);
  csp::Chan<csp::TimePoint> timeout = csp::after(kHang);
  std::optional<T> got;
  const std::size_t k = csp::select_blocking(csp::recv(out, &got), csp::recv(timeout));
  if (k != 0 || !got) return false;
  *result = std::move(*got);
  return true;
}

bool finishes(csp::Task<void> task) {
  csp::Chan<csp::Unit> done(1);
  csp::go(
      [](csp::Task<void>& t, csp::Chan<csp::Unit>& d) -> csp::Task<void> {
        co_await std::move(t);
        d.close();
      },
      std::move(task), done);
  csp::Chan<csp::TimePoint> timeout = csp::after(kHang);
  return csp::select_blocking(csp::recv(done), csp::recv(timeout)) == 0;
}

csp::Context deadline_ctx(csp::Duration d) {
  return csp::with_timeout(csp::Context::background(), d).first;
}

class Lifecycle : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("otlpd-lifecycle-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    // Components first (the file exporter holds a file in dir_), then the directory.
    component_.reset();
    consumer_.reset();
    shared_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Builds the component of the case through its factory; receivers and connectors are
  // connected to next_.
  void create() {
    const Case& c = GetParam();
    const std::string yaml = minimal_config(c, dir_);
    ASSERT_FALSE(yaml.empty()) << "no minimal config for " << kind_name(c.kind) << " " << c.type
                               << ": add one to minimal_config";
    auto node = pipeline::ConfigNode::parse(yaml, c.type);
    ASSERT_TRUE(node.ok()) << node.status();
    const pipeline::ComponentId id(c.type);
    switch (c.kind) {
      case Kind::kReceiver: {
        auto r = factories_.receiver(c.type)->create(id, *node, host_);
        ASSERT_TRUE(r.ok()) << r.status();
        (*r)->connect(c.signal, next_);
        component_ = *r;
        break;
      }
      case Kind::kProcessor: {
        const pipeline::ProcessorFactory* f = factories_.processor(c.type);
        if (f->has_shared_part()) {
          // What the graph does: the shared part exists first and runs around the processor.
          auto shared = f->create_shared(id, *node, host_);
          ASSERT_TRUE(shared.ok()) << shared.status();
          shared_ = *shared;
        }
        auto p = f->create(id, *node, c.signal, next_, shared_, host_);
        ASSERT_TRUE(p.ok()) << p.status();
        component_ = *p;
        consumer_ = *p;
        break;
      }
      case Kind::kExporter: {
        auto e = factories_.exporter(c.type)->create(id, *node, c.signal, host_);
        ASSERT_TRUE(e.ok()) << e.status();
        component_ = *e;
        consumer_ = *e;
        break;
      }
      case Kind::kConnector: {
        auto k = factories_.connector(c.type)->create(id, *node, host_);
        ASSERT_TRUE(k.ok()) << k.status();
        (*k)->connect(c.signal, next_);
        (*k)->connect_pipeline(pipeline::PipelineId(c.signal, "next"), next_);
        ASSERT_TRUE((*k)->check_connections().ok());
        component_ = *k;
        consumer_ = *k;
        break;
      }
    }
  }

  void start() {
    absl::Status s;
    if (shared_ && !shared_started_) {
      ASSERT_TRUE(finishes(shared_->start(), &s)) << "start() of the shared part hung";
      ASSERT_TRUE(s.ok()) << s;
      shared_started_ = true;
    }
    ASSERT_TRUE(finishes(component_->start(), &s)) << "start() hung";
    ASSERT_TRUE(s.ok()) << s;
  }

  void shutdown() {
    ASSERT_TRUE(finishes(component_->shutdown(deadline_ctx(kShutdownDeadline))))
        << "shutdown() did not return within " << kHang.count() << "ns";
    if (shared_) {
      ASSERT_TRUE(finishes(shared_->shutdown(deadline_ctx(kShutdownDeadline))))
          << "shutdown() of the shared part did not return";
    }
  }

  // consume() of one small batch; fails the test if it hangs.
  absl::Status consume() {
    pipeline::Batch batch = small_batch(GetParam().signal);
    absl::Status s = absl::InternalError("not run");
    EXPECT_TRUE(finishes(consumer_->consume(deadline_ctx(5s), std::move(batch)), &s))
        << "consume() hung";
    return s;
  }

  static inline std::atomic<int> counter_{0};
  fs::path dir_;
  pipeline::Factories factories_ = make_factories();
  pipeline::Host host_{pipeline::LogLevel::kError};
  std::shared_ptr<testing::RecordingConsumer> next_ =
      std::make_shared<testing::RecordingConsumer>();
  std::shared_ptr<pipeline::Component> component_;
  std::shared_ptr<pipeline::Component> shared_;  // the processor's shared part, if it has one
  bool shared_started_ = false;
  std::shared_ptr<pipeline::Consumer> consumer_;  // null for receivers
};

TEST_P(Lifecycle, StartConsumeShutdown) {
  ASSERT_NO_FATAL_FAILURE(create());
  ASSERT_NO_FATAL_FAILURE(start());
  if (consumer_) {
    const absl::Status s = consume();
    EXPECT_TRUE(s.ok()) << s;
  }
  ASSERT_NO_FATAL_FAILURE(shutdown());
  // What a processor or connector accepted has been handed on by the time shutdown returns.
  const Kind kind = GetParam().kind;
  if (kind == Kind::kProcessor || kind == Kind::kConnector) {
    EXPECT_EQ(next_->items(), small_batch(GetParam().signal).items);
  }
  if (kind == Kind::kReceiver) {
    EXPECT_EQ(next_->items(), 0);
  }
}

TEST_P(Lifecycle, ShutdownWithoutStart) {
  ASSERT_NO_FATAL_FAILURE(create());
  ASSERT_NO_FATAL_FAILURE(shutdown());
}

TEST_P(Lifecycle, ShutdownTwice) {
  ASSERT_NO_FATAL_FAILURE(create());
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(shutdown());
  ASSERT_NO_FATAL_FAILURE(shutdown());
}

TEST_P(Lifecycle, ConsumeAfterShutdownIsRefused) {
  ASSERT_NO_FATAL_FAILURE(create());
  if (!consumer_) GTEST_SKIP() << "a receiver consumes nothing";
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(shutdown());
  const absl::Status s = consume();
  EXPECT_FALSE(s.ok()) << "consume after shutdown was accepted";
  // Nothing reached the next consumer either.
  EXPECT_EQ(next_->items(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllFactories, Lifecycle, ::testing::ValuesIn(all_cases()), case_name);

// Extensions have no signals and take no data: start → shutdown, shutdown without start and
// shutdown twice, for every extension factory.
std::string minimal_extension_config(const std::string& type, const fs::path& dir) {
  if (type == "file_storage")
    return "{directory: '" + (dir / "storage").string() + "', create_directory: true}";
  if (type == "health_check" || type == "status") return "{endpoint: '127.0.0.1:0'}";
  if (type == "bearertokenauth") return "{token: secret}";
  if (type == "headers_setter") return "{headers: [{key: x-tenant, from_context: x-tenant}]}";
  return "";
}

TEST(ExtensionLifecycle, EveryExtensionStartsStopsAndToleratesMisuse) {
  const pipeline::Factories factories = make_factories();
  ASSERT_FALSE(factories.extensions.empty());
  for (const auto& factory : factories.extensions) {
    const std::string type(factory->type());
    SCOPED_TRACE("extension " + type);
    const fs::path dir = fs::temp_directory_path() /
                         ("otlpd-extension-lifecycle-" + std::to_string(::getpid()) + "-" + type);
    const std::string yaml = minimal_extension_config(type, dir);
    ASSERT_FALSE(yaml.empty()) << "no minimal config for extension " << type;
    auto node = pipeline::ConfigNode::parse(yaml, type);
    ASSERT_TRUE(node.ok()) << node.status();
    pipeline::Host host(pipeline::LogLevel::kError);
    for (int round = 0; round < 3; ++round) {
      auto e = factory->create(pipeline::ComponentId(type), *node, host);
      ASSERT_TRUE(e.ok()) << e.status();
      auto ctx = csp::with_timeout(csp::Context::background(), kShutdownDeadline).first;
      if (round == 0) {  // start, then shutdown
        ASSERT_TRUE(csp::block_on((*e)->start()).ok());
        csp::block_on((*e)->shutdown(ctx));
      } else if (round == 1) {  // shutdown without start
        csp::block_on((*e)->shutdown(ctx));
      } else {  // shutdown twice
        ASSERT_TRUE(csp::block_on((*e)->start()).ok());
        csp::block_on((*e)->shutdown(ctx));
        csp::block_on((*e)->shutdown(ctx));
      }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
}

}  // namespace
}  // namespace components
