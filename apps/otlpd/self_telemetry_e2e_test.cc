// otlpd's own metrics, end to end: a real otlpd child process, real OTLP clients over gRPC and
// HTTP, a real gRPC backend that takes traces and refuses logs as bad data, and the /metrics
// page read over a raw socket and parsed strictly as the Prometheus text format.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "apps/otlpd/testing/child_collector.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/testing/random_requests.h"
#include "otlp/wire.h"
#include "telemetry/testing/prometheus_text.h"
#include "transport/grpc_client.h"
#include "transport/grpc_server.h"
#include "transport/http_client.h"
#include "transport/http_server.h"
#include "transport/testing/raw_http.h"

namespace otlpd {
namespace {

using namespace std::chrono_literals;
using csp::testing::eventually;
using testing::ChildCollector;

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

transport::testing::RawResponse request(const std::string& endpoint, std::string_view method,
                                        const std::string& path) {
  absl::StatusOr<transport::testing::RawResponse> r = transport::testing::raw_exchange(
      port_of(endpoint), transport::testing::raw_request(method, path, {}, ""));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : transport::testing::RawResponse{};
}

telemetry::testing::Exposition scrape(const ChildCollector& c) {
  const transport::testing::RawResponse a =
      request(c.endpoint("service", "metrics"), "GET", "/metrics");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  absl::StatusOr<telemetry::testing::Exposition> parsed =
      telemetry::testing::parse_exposition(a.body);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : telemetry::testing::Exposition{};
}

std::string body_with(otlp::Signal signal, std::uint64_t seed, std::int64_t* items) {
  std::string body = otlp::testing::random_request(signal, seed)->SerializeAsString();
  *items = static_cast<std::int64_t>(*otlp::wire_count_items(signal, body));
  return body;
}

TEST(SelfTelemetryE2E, TheMetricsPageCountsWhatWasAcceptedSentAndRefused) {
  // The backend: takes traces, refuses logs as bad data (a permanent error: dropped, counted).
  std::atomic<std::int64_t> backend_spans{0};
  std::atomic<std::int64_t> backend_refused_logs{0};
  transport::GrpcServerOptions backend_options;
  backend_options.endpoint = "127.0.0.1:0";
  transport::GrpcServer backend(
      backend_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        const std::int64_t n = static_cast<std::int64_t>(*otlp::wire_count_items(r.signal, r.body));
        if (r.signal == otlp::Signal::kLogs) {
          backend_refused_logs += n;
          co_return transport::ExportResult{absl::InvalidArgumentError("no logs here")};
        }
        backend_spans += n;
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> backend_port = backend.start();
  ASSERT_TRUE(backend_port.ok()) << backend_port.status();

  const std::string config = absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
      http: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 20ms}
exporters:
  otlp:
    endpoint: "127.0.0.1:)",
                                          *backend_port, R"("
    tls: {insecure: true}
    sending_queue: {queue_size: 77}
service:
  telemetry:
    logs: {level: error}
    metrics:
      level: detailed
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 0}}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}
    logs: {receivers: [otlp], exporters: [otlp]}
)");
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();

  transport::GrpcClientOptions grpc_options;
  grpc_options.endpoint = (*c)->endpoint("otlp", "grpc");
  grpc_options.insecure = true;
  transport::GrpcExporterClient grpc_client(grpc_options);
  transport::HttpClientOptions http_options;
  http_options.endpoint = "http://" + (*c)->endpoint("otlp", "http");
  transport::HttpExporterClient http_client(http_options);
  auto send = [](auto& client, otlp::Signal signal, std::string body) {
    return csp::block_on(client.export_request(signal, std::move(body), csp::Context::background()))
        .status;
  };

  std::int64_t grpc_spans = 0;
  std::int64_t http_spans = 0;
  std::int64_t logs = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    std::int64_t n = 0;
    ASSERT_TRUE(
        send(grpc_client, otlp::Signal::kTraces, body_with(otlp::Signal::kTraces, seed, &n)).ok());
    grpc_spans += n;
  }
  for (std::uint64_t seed = 4; seed <= 5; ++seed) {
    std::int64_t n = 0;
    ASSERT_TRUE(
        send(http_client, otlp::Signal::kTraces, body_with(otlp::Signal::kTraces, seed, &n)).ok());
    http_spans += n;
  }
  {
    std::int64_t n = 0;
    ASSERT_TRUE(send(grpc_client, otlp::Signal::kLogs, body_with(otlp::Signal::kLogs, 6, &n)).ok());
    logs += n;
  }
  ASSERT_GT(grpc_spans + http_spans, 0);
  ASSERT_GT(logs, 0);
  ASSERT_TRUE(eventually([&] {
    return backend_spans.load() == grpc_spans + http_spans && backend_refused_logs.load() == logs;
  }));

  // The exporter counts after the backend answered: poll until the page caught up.
  telemetry::testing::Exposition m;
  const std::string sent = R"(otelcol_exporter_sent_spans_total{exporter="otlp"})";
  const std::string failed = R"(otelcol_exporter_send_failed_log_records_total{exporter="otlp"})";
  ASSERT_TRUE(eventually([&] {
    m = scrape(**c);
    return m.get(sent) == grpc_spans + http_spans && m.get(failed) == logs;
  })) << "sent "
      << m.get(sent) << ", send_failed " << m.get(failed);

  EXPECT_EQ(m.types["otelcol_receiver_accepted_spans_total"], "counter");
  EXPECT_EQ(m.get(R"(otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"})"),
            grpc_spans);
  EXPECT_EQ(m.get(R"(otelcol_receiver_accepted_spans_total{receiver="otlp",transport="http"})"),
            http_spans);
  EXPECT_EQ(
      m.get(R"(otelcol_receiver_accepted_log_records_total{receiver="otlp",transport="grpc"})"),
      logs);
  EXPECT_EQ(m.get(R"(otelcol_receiver_refused_spans_total{receiver="otlp",transport="grpc"})"), 0);
  EXPECT_EQ(m.get(R"(otelcol_exporter_enqueue_failed_spans_total{exporter="otlp"})"), 0);
  EXPECT_EQ(m.get(R"(otelcol_exporter_queue_capacity{exporter="otlp"})"), 77);
  EXPECT_EQ(m.get(R"(otelcol_exporter_queue_size{exporter="otlp"})"), 0);
  // Every batch the processor sent is in its histogram, and each went for a reason.
  const double batches =
      m.get(R"(otelcol_processor_batch_batch_send_size_count{processor="batch"})");
  EXPECT_GE(batches, 1);
  EXPECT_EQ(m.get(R"(otelcol_processor_batch_batch_send_size_sum{processor="batch"})"),
            grpc_spans + http_spans);
  EXPECT_EQ(
      m.get(R"(otelcol_processor_batch_timeout_trigger_send_total{processor="batch"})") +
          m.get(R"(otelcol_processor_batch_batch_size_trigger_send_total{processor="batch"})"),
      batches);
  EXPECT_GT(m.get("otelcol_process_cpu_seconds"), 0);
  EXPECT_GT(m.get("otelcol_process_memory_rss"), 1 << 20);
  EXPECT_GT(m.get("otelcol_process_uptime"), 0);
  EXPECT_GE(m.get("otlpd_runtime_goroutines"), 1);

  // Only GET /metrics is served there.
  const std::string metrics = (*c)->endpoint("service", "metrics");
  EXPECT_EQ(request(metrics, "GET", "/v1/traces").status, 404);
  EXPECT_EQ(request(metrics, "POST", "/v1/traces").status, 404);
  EXPECT_EQ(request(metrics, "GET", "/").status, 404);
  const transport::testing::RawResponse post = request(metrics, "POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET");
  EXPECT_EQ((*c)->stop(), 0);
  backend.shutdown(csp::Clock::now() + 5s);
}

TEST(SelfTelemetryE2E, LevelNoneTurnsTheEndpointOffAndABusyConfiguredPortStopsTheStart) {
  const std::string base = R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
exporters:
  debug: {}
service:
  telemetry:
    logs: {level: warn}
    metrics: )";
  const std::string pipelines = R"(
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)";
  auto off = ChildCollector::start(base + "{level: none}" + pipelines);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ((*off)->endpoint("service", "metrics"), "");
  EXPECT_EQ((*off)->stop(), 0);

  // A port the config names must be free.
  const int busy = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string taken = std::to_string(ntohs(addr.sin_port));
  auto refused = ChildCollector::start(base + "{address: \"127.0.0.1:" + taken + "\"}" + pipelines);
  EXPECT_FALSE(refused.ok());
  close(busy);

  // The operations guide's example is a valid configuration.
  const testing::RunResult example = testing::run_otlpd(
      {"validate", "--config", OTLPD_SOURCE_DIR "/docs/examples/operations.yaml"});
  EXPECT_EQ(example.exit_code, 0) << example.err;

  // A bad level names its key and line.
  const testing::RunResult bad =
      testing::run_otlpd({"validate", "--set", "service.telemetry.metrics.level=loud"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("service::telemetry::metrics::level"), std::string::npos) << bad.err;
}

// The value of `name`'s data point with `transport` in the newest of `requests`; -1 if none.
double pushed_value(const std::vector<std::string>& requests, const std::string& name,
                    const std::string& transport_label) {
  for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest r;
    if (!r.ParseFromString(*it)) continue;
    for (const auto& rm : r.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          if (m.name() != name || !m.has_sum()) continue;
          for (const auto& p : m.sum().data_points()) {
            for (const auto& a : p.attributes()) {
              if (a.key() == "transport" && a.value().string_value() == transport_label) {
                return static_cast<double>(p.as_int());
              }
            }
          }
        }
      }
    }
  }
  return -1;
}

TEST(SelfTelemetryE2E, PeriodicReadersPushTheMetricsOverGrpcAndHttpAndOnceMoreAtStop) {
  // Two backends record what otlpd pushes about itself.
  std::mutex mu;
  std::vector<std::string> grpc_pushes, http_pushes;
  auto recorder = [&](std::vector<std::string>& into) {
    return [&mu, &into](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
      if (r.signal == otlp::Signal::kMetrics) {
        std::lock_guard lock(mu);
        into.push_back(std::string(r.body));
      }
      co_return transport::ExportResult{};
    };
  };
  transport::GrpcServerOptions go;
  go.endpoint = "127.0.0.1:0";
  transport::GrpcServer grpc_backend(go, recorder(grpc_pushes));
  absl::StatusOr<int> grpc_port = grpc_backend.start();
  ASSERT_TRUE(grpc_port.ok()) << grpc_port.status();
  transport::HttpServerOptions ho;
  ho.endpoint = "127.0.0.1:0";
  transport::HttpServer http_backend(ho, recorder(http_pushes));
  absl::StatusOr<int> http_port = http_backend.start();
  ASSERT_TRUE(http_port.ok()) << http_port.status();

  const std::string config = absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
exporters:
  debug: {}
service:
  telemetry:
    metrics:
      readers:
        - periodic:
            interval: 50
            exporter: {otlp: {protocol: grpc, endpoint: "http://127.0.0.1:)",
                                          *grpc_port, R"(", compression: none}}
        - periodic:
            interval: 50
            exporter:
              otlp:
                protocol: http/protobuf
                endpoint: "http://127.0.0.1:)",
                                          *http_port, R"(/v1/metrics"
                headers: [{name: x-team, value: observability}]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)");
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();
  // Periodic readers alone: no /metrics endpoint.
  EXPECT_EQ((*c)->endpoint("service", "metrics"), "");

  transport::GrpcClientOptions o;
  o.endpoint = (*c)->endpoint("otlp", "grpc");
  o.insecure = true;
  transport::GrpcExporterClient client(o);
  std::int64_t spans = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    std::int64_t n = 0;
    ASSERT_TRUE(csp::block_on(client.export_request(otlp::Signal::kTraces,
                                                    body_with(otlp::Signal::kTraces, seed, &n),
                                                    csp::Context::background()))
                    .status.ok());
    spans += n;
  }
  const std::string accepted = "otelcol_receiver_accepted_spans";
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return pushed_value(grpc_pushes, accepted, "grpc") == static_cast<double>(spans) &&
           pushed_value(http_pushes, accepted, "grpc") == static_cast<double>(spans);
  }));

  // The last push comes at stop: spans sent just before it are in it.
  std::int64_t late = 0;
  ASSERT_TRUE(csp::block_on(client.export_request(otlp::Signal::kTraces,
                                                  body_with(otlp::Signal::kTraces, 9, &late),
                                                  csp::Context::background()))
                  .status.ok());
  EXPECT_EQ((*c)->stop(), 0);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(pushed_value(grpc_pushes, accepted, "grpc"), static_cast<double>(spans + late));
    EXPECT_EQ(pushed_value(http_pushes, accepted, "grpc"), static_cast<double>(spans + late));
    // The resource says who pushed.
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest r;
    ASSERT_TRUE(r.ParseFromString(http_pushes.back()));
    std::map<std::string, std::string> resource;
    for (const auto& a : r.resource_metrics(0).resource().attributes()) {
      resource[a.key()] = a.value().string_value();
    }
    EXPECT_EQ(resource["service.name"], "otlpd");
    EXPECT_EQ(resource["service.instance.id"].size(), 36u);
  }
  grpc_backend.shutdown(csp::Clock::now() + 5s);
  http_backend.shutdown(csp::Clock::now() + 5s);
}

TEST(SelfTelemetryE2E, JsonLogsAreOneObjectPerLineWithTheInitialFields) {
  auto c = ChildCollector::start(R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
exporters:
  debug: {}
service:
  telemetry:
    logs: {level: info, encoding: json, initial_fields: {service: edge-gateway}}
    metrics: {address: "127.0.0.1:0"}
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->stop(), 0);
  const std::string log = (*c)->log();
  int lines = 0;
  for (std::size_t at = 0; at < log.size();) {
    const std::size_t end = std::min(log.find('\n', at), log.size());
    const std::string line = log.substr(at, end - at);
    at = end + 1;
    if (line.empty()) continue;
    ++lines;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find(R"("level":")"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("msg":")"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("service":"edge-gateway")"), std::string::npos) << line;
  }
  EXPECT_GE(lines, 4) << log;  // starting, pipeline, listening, stopped at least
}

TEST(SelfTelemetryE2E, ABadPeriodicReaderNamesItsKey) {
  const testing::RunResult bad =
      testing::run_otlpd({"validate", "--set",
                          "service.telemetry.metrics.readers=[{periodic: {exporter: {otlp: "
                          "{protocol: carrier-pigeon}}}}]"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("otlp::protocol: expected grpc, http/protobuf or http/json"),
            std::string::npos)
      << bad.err;
}

// health_check in a running collector: healthy once ready, unhealthy once its only exporter
// has been failing for longer than the interval, healthy again when the backend is back.
TEST(HealthCheckE2E, TheProbeFollowsTheCollectorAndItsExporters) {
  // A port with nothing behind it yet; the backend comes up there later.
  const int probe_socket = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe_socket, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(probe_socket, reinterpret_cast<sockaddr*>(&addr), &len);
  const int backend_port = ntohs(addr.sin_port);
  close(probe_socket);

  const std::string config = absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
exporters:
  otlp:
    endpoint: "127.0.0.1:)",
                                          backend_port, R"("
    tls: {insecure: true}
    timeout: 200ms
    retry_on_failure: {initial_interval: 20ms, max_interval: 50ms, max_elapsed_time: 0s}
extensions:
  health_check:
    endpoint: 127.0.0.1:0
    check_collector_pipeline: {enabled: true, interval: 300ms}
service:
  extensions: [health_check]
  telemetry:
    logs: {level: error}
    metrics: {level: none}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
)");
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string health = (*c)->endpoint("health_check", "http");
  ASSERT_FALSE(health.empty());
  transport::testing::RawResponse r = request(health, "GET", "/");
  EXPECT_EQ(r.status, 200) << r.body;

  // The backend is down: the queued batch keeps failing.
  transport::GrpcClientOptions options;
  options.endpoint = (*c)->endpoint("otlp", "grpc");
  options.insecure = true;
  transport::GrpcExporterClient client(options);
  std::int64_t spans = 0;
  ASSERT_TRUE(csp::block_on(client.export_request(otlp::Signal::kTraces,
                                                  body_with(otlp::Signal::kTraces, 1, &spans),
                                                  csp::Context::background()))
                  .status.ok());
  ASSERT_TRUE(eventually([&] {
    r = request(health, "GET", "/");
    return r.status == 503;
  })) << r.body;
  EXPECT_NE(r.body.find("\"exporter\":\"otlp\""), std::string::npos) << r.body;

  // The backend comes up: the retry delivers and the probe is healthy again.
  std::atomic<std::int64_t> got{0};
  transport::GrpcServerOptions backend_options;
  backend_options.endpoint = absl::StrCat("127.0.0.1:", backend_port);
  transport::GrpcServer backend(
      backend_options, [&](transport::ExportRequest req) -> csp::Task<transport::ExportResult> {
        got += static_cast<std::int64_t>(*otlp::wire_count_items(req.signal, req.body));
        co_return transport::ExportResult{};
      });
  ASSERT_TRUE(backend.start().ok());
  ASSERT_TRUE(eventually([&] { return got.load() == spans; })) << got.load();
  ASSERT_TRUE(eventually([&] { return request(health, "GET", "/").status == 200; }));
  EXPECT_EQ((*c)->stop(), 0);
  backend.shutdown(csp::Clock::now() + 5s);
}

}  // namespace
}  // namespace otlpd
