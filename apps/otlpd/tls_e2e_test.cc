// TLS end to end: a real otlpd whose receivers, health_check and metrics endpoint speak TLS
// (the receivers with mutual TLS), exporting over mutual TLS to a real backend; real clients
// with and without the right certificates. Certificates are made by the test.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

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
#include "transport/testing/https_get.h"
#include "transport/testing/test_pki.h"

namespace otlpd {
namespace {

using namespace std::chrono_literals;
using testing::ChildCollector;
namespace fs = std::filesystem;
using csp::testing::eventually;
using transport::TlsClientOptions;
using transport::testing::PemFiles;

int port_of(const std::string& address) {
  return std::stoi(address.substr(address.rfind(':') + 1));
}

TEST(TlsE2E, ReceiversHealthAndMetricsServeTlsAndTheExporterSpeaksMutualTls) {
  const fs::path dir = testing::make_temp_dir();
  transport::testing::TestPki pki(dir.string());
  const PemFiles ca = pki.make_ca("ca");
  const PemFiles server = pki.make_leaf("server", {.ca = "ca"});
  const PemFiles client = pki.make_leaf("client", {.ca = "ca"});
  const PemFiles collector = pki.make_leaf("collector", {.ca = "ca"});  // otlpd's exporter

  // The backend requires a client certificate from the CA: only otlpd's exporter has one.
  transport::TlsServerOptions backend_tls;
  backend_tls.cert_file = server.cert;
  backend_tls.key_file = server.key;
  backend_tls.client_ca_file = ca.cert;
  transport::GrpcServerOptions backend_options;
  backend_options.endpoint = "127.0.0.1:0";
  backend_options.tls = *transport::ServerTls::load(backend_tls);
  std::atomic<std::int64_t> backend_spans{0};
  transport::GrpcServer backend(
      backend_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        backend_spans += static_cast<std::int64_t>(*otlp::wire_count_items(r.signal, r.body));
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> backend_port = backend.start();
  ASSERT_TRUE(backend_port.ok()) << backend_port.status();

  const std::string server_tls =
      absl::StrCat("{cert_file: \"", server.cert, "\", key_file: \"", server.key, "\"");
  const std::string mtls = absl::StrCat(server_tls, ", client_ca_file: \"", ca.cert, "\"}");
  const std::string config = absl::StrCat(R"(
extensions:
  health_check: {endpoint: "127.0.0.1:0", tls: )",
                                          server_tls, R"(}}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0", tls: )",
                                          mtls, R"(}
      http: {endpoint: "127.0.0.1:0", tls: )",
                                          mtls, R"(}
exporters:
  otlp:
    endpoint: "localhost:)",
                                          *backend_port, R"("
    tls: {ca_file: ")",
                                          ca.cert, R"(", cert_file: ")", collector.cert,
                                          R"(", key_file: ")", collector.key, R"("}
    retry_on_failure: {initial_interval: 20ms, max_interval: 50ms}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 0, tls: )",
                                          server_tls, R"(}}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
)");
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();

  TlsClientOptions anonymous;
  anonymous.ca_file = ca.cert;
  TlsClientOptions identified = anonymous;
  identified.cert_file = client.cert;
  identified.key_file = client.key;

  std::int64_t sent = 0;
  auto grpc_send = [&](const TlsClientOptions& tls) {
    transport::GrpcClientOptions o;
    o.endpoint = absl::StrCat("localhost:", port_of((*c)->endpoint("otlp", "grpc")));
    o.tls = tls;
    transport::GrpcExporterClient grpc_client(o);
    std::string body = otlp::testing::random_request(otlp::Signal::kTraces, 7)->SerializeAsString();
    const absl::Status s = csp::block_on(grpc_client.export_request(otlp::Signal::kTraces, body,
                                                                    csp::Context::background()))
                               .status;
    if (s.ok())
      sent += static_cast<std::int64_t>(*otlp::wire_count_items(otlp::Signal::kTraces, body));
    return s;
  };
  auto http_send = [&](const TlsClientOptions& tls) {
    transport::HttpClientOptions o;
    o.endpoint = absl::StrCat("https://localhost:", port_of((*c)->endpoint("otlp", "http")));
    o.tls = tls;
    transport::HttpExporterClient http_client(o);
    std::string body = otlp::testing::random_request(otlp::Signal::kTraces, 8)->SerializeAsString();
    const absl::Status s = csp::block_on(http_client.export_request(otlp::Signal::kTraces, body,
                                                                    csp::Context::background()))
                               .status;
    if (s.ok())
      sent += static_cast<std::int64_t>(*otlp::wire_count_items(otlp::Signal::kTraces, body));
    return s;
  };

  EXPECT_EQ(grpc_send(anonymous).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http_send(anonymous).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(grpc_send(identified).ok());
  ASSERT_TRUE(http_send(identified).ok());
  // The exporter's mTLS to the backend: everything accepted arrives.
  EXPECT_TRUE(eventually([&] { return backend_spans.load() == sent; }))
      << backend_spans.load() << " of " << sent;

  // health_check and /metrics over TLS, verified against the CA.
  absl::StatusOr<transport::testing::RawResponse> health = transport::testing::https_get(
      port_of((*c)->endpoint("health_check", "https")), "/", anonymous);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200) << health->body;
  absl::StatusOr<transport::testing::RawResponse> page = transport::testing::https_get(
      port_of((*c)->endpoint("service", "metrics")), "/metrics", anonymous);
  ASSERT_TRUE(page.ok()) << page.status();
  auto metrics = telemetry::testing::parse_exposition(page->body);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(
      metrics->get(R"(otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"})") +
          metrics->get(
              R"(otelcol_receiver_accepted_spans_total{receiver="otlp",transport="http"})"),
      static_cast<double>(sent));
  // A client that trusts another CA does not get the page.
  pki.make_ca("other");
  TlsClientOptions stranger;
  stranger.ca_file = (dir / "other.pem").string();
  EXPECT_EQ(transport::testing::https_get(port_of((*c)->endpoint("service", "metrics")), "/metrics",
                                          stranger)
                .status()
                .code(),
            absl::StatusCode::kUnavailable);

  EXPECT_EQ((*c)->stop(), 0);
  backend.shutdown(csp::Clock::now() + 5s);
  fs::remove_all(dir);
}

TEST(TlsE2E, BadTlsSettingsAreConfigErrorsNamingTheKeyAndLine) {
  const testing::RunResult missing = testing::run_otlpd(
      {"validate", "--set", "receivers.otlp.protocols.grpc.tls.cert_file=/nonexistent/server.pem",
       "--set", "receivers.otlp.protocols.grpc.tls.key_file=/nonexistent/server.key"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("grpc::tls::cert_file"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("\"/nonexistent/server.pem\": cannot read: No such file or directory"),
            std::string::npos)
      << missing.err;

  const testing::RunResult no_key = testing::run_otlpd(
      {"validate", "--set", "receivers.otlp.protocols.http.tls.cert_file=/x.pem"});
  EXPECT_NE(no_key.exit_code, 0);
  EXPECT_NE(no_key.err.find("key_file: required for TLS on a server"), std::string::npos)
      << no_key.err;

  const testing::RunResult version =
      testing::run_otlpd({"validate", "--set", "receivers.otlp.protocols.http.tls.cert_file=/x.pem",
                          "--set", "receivers.otlp.protocols.http.tls.key_file=/x.key", "--set",
                          "receivers.otlp.protocols.http.tls.min_version=1.5"});
  EXPECT_NE(version.exit_code, 0);
  EXPECT_NE(version.err.find("http::tls::min_version: unknown TLS version \"1.5\""),
            std::string::npos)
      << version.err;
}

TEST(TlsE2E, TheDocumentedExampleValidatesOnceItsCertificatesExist) {
  const fs::path dir = testing::make_temp_dir();
  transport::testing::TestPki pki(dir.string());
  pki.make_ca("ca");
  pki.make_leaf("server", {.ca = "ca"});
  std::ifstream in(std::string(OTLPD_SOURCE_DIR) + "/docs/examples/tls.yaml");
  ASSERT_TRUE(in) << "docs/examples/tls.yaml";
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The example's files are in /tmp/otlpd-tls/ (docs/security.md makes them there).
  for (std::size_t at = 0; (at = yaml.find("/tmp/otlpd-tls/", at)) != std::string::npos;) {
    yaml.replace(at, 15, dir.string() + "/");
  }
  const fs::path config = dir / "tls.yaml";
  std::ofstream(config) << yaml;
  const testing::RunResult r = testing::run_otlpd({"validate", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace otlpd
