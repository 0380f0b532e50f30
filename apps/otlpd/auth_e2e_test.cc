// bearertokenauth end to end: a real otlpd whose receivers require a token from a file and
// whose exporter sends one to a real backend that checks it; real OTLP clients over gRPC and
// HTTP with and without the token; the token rotated on disk while everything runs.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

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
#include "transport/testing/raw_http.h"

namespace otlpd {
namespace {

using namespace std::chrono_literals;
using testing::ChildCollector;
namespace fs = std::filesystem;
using csp::testing::eventually;

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

TEST(AuthE2E, ReceiversRequireTheTokenExportersSendItAndARotationNeedsNoRestart) {
  const fs::path dir = testing::make_temp_dir();
  const fs::path token_file = dir / "token";
  write_file(token_file, "first-secret-1111\n");

  // The backend accepts only the token the collector's exporter should be sending.
  std::mutex mu;
  std::string backend_expects = "Bearer first-secret-1111";
  std::atomic<std::int64_t> backend_spans{0};
  std::atomic<int> backend_refusals{0};
  transport::GrpcServerOptions backend_options;
  backend_options.endpoint = "127.0.0.1:0";
  backend_options.authenticate = [&](std::string_view authorization) {
    std::lock_guard lock(mu);
    const bool ok = authorization == backend_expects;
    if (!ok) ++backend_refusals;
    return ok;
  };
  transport::GrpcServer backend(
      backend_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        backend_spans += static_cast<std::int64_t>(*otlp::wire_count_items(r.signal, r.body));
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> backend_port = backend.start();
  ASSERT_TRUE(backend_port.ok()) << backend_port.status();

  const std::string config = absl::StrCat(R"(
extensions:
  bearertokenauth:
    filename: ")",
                                          token_file.string(), R"("
    reload_interval: 20ms
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0", auth: {authenticator: bearertokenauth}}
      http: {endpoint: "127.0.0.1:0", auth: {authenticator: bearertokenauth}}
exporters:
  otlp:
    endpoint: "127.0.0.1:)",
                                          *backend_port, R"("
    tls: {insecure: true}
    auth: {authenticator: bearertokenauth}
    retry_on_failure: {initial_interval: 20ms, max_interval: 50ms}
service:
  extensions: [bearertokenauth]
  telemetry:
    logs: {level: debug}
    metrics: {address: "127.0.0.1:0"}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
)");
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();

  auto grpc_send = [&](const std::string& token, std::int64_t* items) {
    transport::GrpcClientOptions o;
    o.endpoint = (*c)->endpoint("otlp", "grpc");
    o.insecure = true;
    if (!token.empty()) o.authorization = [token] { return "Bearer " + token; };
    transport::GrpcExporterClient client(o);
    std::string body = otlp::testing::random_request(otlp::Signal::kTraces, 7)->SerializeAsString();
    *items = static_cast<std::int64_t>(*otlp::wire_count_items(otlp::Signal::kTraces, body));
    return csp::block_on(
               client.export_request(otlp::Signal::kTraces, body, csp::Context::background()))
        .status;
  };
  auto http_send = [&](const std::string& token) {
    transport::HttpClientOptions o;
    o.endpoint = "http://" + (*c)->endpoint("otlp", "http");
    if (!token.empty()) o.authorization = [token] { return "Bearer " + token; };
    transport::HttpExporterClient client(o);
    std::string body = otlp::testing::random_request(otlp::Signal::kTraces, 8)->SerializeAsString();
    return csp::block_on(
               client.export_request(otlp::Signal::kTraces, body, csp::Context::background()))
        .status;
  };

  std::int64_t n = 0;
  std::int64_t delivered = 0;
  EXPECT_EQ(grpc_send("", &n).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(grpc_send("first-secret-1112", &n).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(http_send("").code(), absl::StatusCode::kUnauthenticated);  // 401
  ASSERT_TRUE(grpc_send("first-secret-1111", &n).ok());
  delivered += n;
  ASSERT_TRUE(eventually([&] { return backend_spans.load() == delivered; }));
  EXPECT_EQ(backend_refusals.load(), 0) << "the exporter sent the token the backend expects";

  // Rotate: the receivers take the new token only, and the exporter sends it.
  {
    std::lock_guard lock(mu);
    backend_expects = "Bearer second-secret-22222";
  }
  write_file(token_file, "second-secret-22222\n");
  int early_tries = 0;  // refused until the collector has read the new file
  ASSERT_TRUE(eventually([&] {
    if (grpc_send("second-secret-22222", &n).ok()) return true;
    ++early_tries;
    return false;
  }));
  delivered += n;
  EXPECT_EQ(grpc_send("first-secret-1111", &n).code(), absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(eventually([&] { return backend_spans.load() == delivered; }))
      << backend_spans.load() << " of " << delivered;

  // Refusals are counted per transport.
  absl::StatusOr<transport::testing::RawResponse> page = transport::testing::raw_exchange(
      std::stoi((*c)->endpoint("service", "metrics")
                    .substr((*c)->endpoint("service", "metrics").rfind(':') + 1)),
      transport::testing::raw_request("GET", "/metrics", {}, ""));
  ASSERT_TRUE(page.ok()) << page.status();
  auto m = telemetry::testing::parse_exposition(page->body);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(
      m->get(R"(otlpd_receiver_unauthenticated_requests_total{receiver="otlp",transport="grpc"})"),
      3 + early_tries);
  EXPECT_EQ(
      m->get(R"(otlpd_receiver_unauthenticated_requests_total{receiver="otlp",transport="http"})"),
      1);

  EXPECT_EQ((*c)->stop(), 0);
  // Not even the debug log shows a token, the right ones or the wrong ones.
  const std::string log = (*c)->log();
  for (const char* secret : {"first-secret", "second-secret"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << log;
  }
  backend.shutdown(csp::Clock::now() + 5s);
  fs::remove_all(dir);
}

TEST(AuthE2E, AnAuthenticatorThatIsNotABearerTokenAuthExtensionIsAConfigError) {
  const testing::RunResult r = testing::run_otlpd(
      {"validate", "--set", "receivers.otlp.protocols.grpc.auth.authenticator=nope"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("auth::authenticator"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"nope\" is not a bearertokenauth extension"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace otlpd
