// Client metadata end to end (docs/collector.md, "Client metadata"): a real otlpd whose
// receivers keep request headers (include_metadata), whose batch processor gathers per tenant
// (metadata_keys) and whose exporter names each batch's tenant to the backend (headers_setter).
// Clients of several tenants send interleaved over gRPC and HTTP; the backend must see every
// span under its own tenant's header, and nothing else of the clients' headers.

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "apps/otlpd/testing/child_collector.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/binary_codec.h"
#include "otlp/signals.h"
#include "otlp/wire.h"
#include "transport/grpc_client.h"
#include "transport/http_client.h"
#include "transport/http_server.h"

namespace otlpd {
namespace {

using csp::testing::eventually;
using testing::ChildCollector;

// A traces request whose spans are all named after `tenant`.
std::string spans_of(const std::string& tenant, int n) {
  otlp::TracesRequest r;
  auto* scope = r.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < n; ++i) {
    auto* span = scope->add_spans();
    span->set_name(tenant);
    span->set_trace_id(std::string(16, '\x01'));
    span->set_span_id(std::string(8, static_cast<char>(i + 1)));
  }
  return *otlp::encode_binary(r);
}

TEST(ClientMetadataE2E, EachTenantsSpansReachTheBackendUnderItsOwnHeader) {
  // The backend: what arrives, by the X-Scope-OrgID header it came with.
  std::mutex mu;
  std::map<std::string, std::map<std::string, int>> spans_by_header;  // header → span name → n
  int leaked_headers = 0;
  transport::HttpServerOptions backend_options;
  backend_options.endpoint = "127.0.0.1:0";
  backend_options.include_metadata = true;
  transport::HttpServer backend(
      backend_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        std::string org = "<none>";
        std::lock_guard lock(mu);
        for (const auto& [k, v] : r.metadata) {
          if (k == "x-scope-orgid") org = v;
          if (k == "x-tenant" || k == "authorization") ++leaked_headers;
        }
        otlp::TracesRequest got;
        if (otlp::decode_binary(r.body, got).ok()) {
          for (const auto& rs : got.resource_spans()) {
            for (const auto& ss : rs.scope_spans()) {
              for (const auto& span : ss.spans()) ++spans_by_header[org][span.name()];
            }
          }
        }
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> backend_port = backend.start();
  ASSERT_TRUE(backend_port.ok()) << backend_port.status();

  const std::string config = absl::StrCat(R"(
extensions:
  headers_setter:
    headers:
      - {key: X-Scope-OrgID, from_context: x-tenant, default_value: anonymous}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0", include_metadata: true}
      http: {endpoint: "127.0.0.1:0", include_metadata: true}
processors:
  batch: {metadata_keys: [X-Tenant], timeout: 50ms}
exporters:
  otlp_http:
    endpoint: "http://127.0.0.1:)",
                                          *backend_port, R"("
    auth: {authenticator: headers_setter}
    retry_on_failure: {initial_interval: 20ms, max_interval: 50ms}
service:
  extensions: [headers_setter]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp_http]}
)");
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();

  std::map<std::string, int> sent;  // span name (the tenant, or "untagged") → spans
  for (int round = 0; round < 5; ++round) {
    for (const std::string tenant : {"acme", "globex", "untagged"}) {
      for (const bool grpc : {true, false}) {
        transport::Headers headers;
        if (tenant != "untagged") headers = {{"x-tenant", tenant}};
        headers.emplace_back("authorization", "Bearer client-secret");
        const std::string body = spans_of(tenant, 3);
        transport::ExportResult r;
        if (grpc) {
          transport::GrpcClientOptions o;
          o.endpoint = (*c)->endpoint("otlp", "grpc");
          o.insecure = true;
          transport::GrpcExporterClient client(o);
          r = csp::block_on(client.export_borrowed(otlp::Signal::kTraces, body,
                                                   csp::Context::background(), &headers));
        } else {
          transport::HttpClientOptions o;
          o.endpoint = "http://" + (*c)->endpoint("otlp", "http");
          transport::HttpExporterClient client(o);
          r = csp::block_on(client.export_borrowed(otlp::Signal::kTraces, body,
                                                   csp::Context::background(), &headers));
        }
        ASSERT_TRUE(r.status.ok()) << r.status << (grpc ? " (gRPC)" : " (HTTP)");
        sent[tenant] += 3;
      }
    }
  }
  const std::map<std::string, std::map<std::string, int>> expected = {
      {"acme", {{"acme", sent["acme"]}}},
      {"globex", {{"globex", sent["globex"]}}},
      {"anonymous", {{"untagged", sent["untagged"]}}}};
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return spans_by_header == expected;
  })) << (*c)->log();
  std::lock_guard lock(mu);
  EXPECT_EQ(spans_by_header, expected);
  EXPECT_EQ(leaked_headers, 0) << "only metadata_keys travel past the batch processor";
}

TEST(ClientMetadataE2E, AHeadersSetterOnAReceiverIsAConfigErrorAtItsKey) {
  const std::string dir = testing::make_temp_dir();
  const std::string path = dir + "/config.yaml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(R"(extensions:
  headers_setter:
    headers: [{key: x-a, value: b}]
receivers:
  otlp:
    protocols:
      http:
        auth: {authenticator: headers_setter}
exporters:
  debug: {}
service:
  extensions: [headers_setter]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)",
               f);
    std::fclose(f);
  }
  testing::RunResult r = testing::run_otlpd({"validate", "--config", path});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("receivers::otlp::protocols::http::auth::authenticator"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("config.yaml:8"), std::string::npos) << r.err;
}

TEST(ClientMetadataE2E, TheDocumentedExampleValidates) {
  testing::RunResult r = testing::run_otlpd(
      {"validate", "--config", OTLPD_SOURCE_DIR "/docs/examples/multi_tenant.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace otlpd
