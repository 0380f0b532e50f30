// OTLP over UDP end to end: a client sends to otlpd A over HTTP; A exports with otlp_udp to
// otlpd B's UDP receiver; B exports over HTTP to a backend. At a modest rate on loopback every
// span must arrive; bad datagrams sent straight to B are dropped and show on its /metrics under
// their reason.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "apps/otlpd/testing/child_collector.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/testing/random_requests.h"
#include "otlp/wire.h"
#include "telemetry/testing/prometheus_text.h"
#include "transport/http_client.h"
#include "transport/http_server.h"
#include "transport/testing/raw_http.h"

namespace otlpd {
namespace {

using csp::testing::eventually;
using testing::ChildCollector;

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

telemetry::testing::Exposition scrape(const ChildCollector& c) {
  absl::StatusOr<transport::testing::RawResponse> r =
      transport::testing::raw_exchange(port_of(c.endpoint("service", "metrics")),
                                       transport::testing::raw_request("GET", "/metrics", {}, ""));
  if (!r.ok()) return {};
  absl::StatusOr<telemetry::testing::Exposition> parsed =
      telemetry::testing::parse_exposition(r->body);
  return parsed.ok() ? *parsed : telemetry::testing::Exposition{};
}

TEST(UdpE2E, OtlpdToOtlpdOverUdpDeliversEverySpanAndCountsBadDatagrams) {
  std::atomic<std::int64_t> backend_spans{0};
  transport::HttpServerOptions backend_options;
  backend_options.endpoint = "127.0.0.1:0";
  transport::HttpServer backend(
      backend_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        backend_spans += static_cast<std::int64_t>(*otlp::wire_count_items(r.signal, r.body));
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> backend_port = backend.start();
  ASSERT_TRUE(backend_port.ok()) << backend_port.status();

  auto b = ChildCollector::start(absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      udp: {endpoint: "127.0.0.1:0"}
exporters:
  otlp_http:
    endpoint: "http://127.0.0.1:)",
                                              *backend_port, R"("
    retry_on_failure: {initial_interval: 20ms, max_interval: 50ms}
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 0}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp_http]}
)"));
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string b_udp = (*b)->endpoint("otlp", "udp");
  ASSERT_FALSE(b_udp.empty()) << (*b)->log();

  auto a = ChildCollector::start(absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 20ms}
exporters:
  otlp_udp:
    endpoint: ")",
                                              b_udp, R"("
    max_datagram_size: 1400
service:
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp_udp]}
)"));
  ASSERT_TRUE(a.ok()) << a.status();

  transport::HttpClientOptions o;
  o.endpoint = "http://" + (*a)->endpoint("otlp", "http");
  transport::HttpExporterClient client(o);
  std::int64_t sent = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    std::string body =
        otlp::testing::random_request(otlp::Signal::kTraces, seed)->SerializeAsString();
    const std::int64_t items =
        static_cast<std::int64_t>(*otlp::wire_count_items(otlp::Signal::kTraces, body));
    transport::ExportResult r = csp::block_on(
        client.export_request(otlp::Signal::kTraces, body, csp::Context::background()));
    ASSERT_TRUE(r.status.ok()) << r.status;
    sent += items;
  }
  ASSERT_GT(sent, 0);
  EXPECT_TRUE(eventually([&] { return backend_spans.load() == sent; }))
      << backend_spans.load() << " of " << sent << "\nA:\n"
      << (*a)->log() << "\nB:\n"
      << (*b)->log();

  // Straight to B: a datagram without a known tag and one that is not protobuf.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port_of(b_udp)));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (const std::string& d : {std::string("hello"), std::string("\x01\xff\xff\xff", 4)}) {
    ASSERT_EQ(::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(d.size()));
  }
  ::close(fd);
  const std::string malformed =
      R"(otlpd_receiver_udp_dropped_datagrams_total{receiver="otlp",reason="malformed"})";
  telemetry::testing::Exposition m;
  EXPECT_TRUE(eventually([&] {
    m = scrape(**b);
    return m.get(malformed) == 2;
  })) << m.get(malformed);
  EXPECT_EQ(m.get(R"(otelcol_receiver_accepted_spans_total{receiver="otlp",transport="udp"})"),
            sent);
  EXPECT_EQ(m.get(R"(otlpd_receiver_udp_dropped_datagrams_total{receiver="otlp",reason="busy"})"),
            0);
  EXPECT_EQ((*a)->stop(), 0);
  EXPECT_EQ((*b)->stop(), 0);
}

}  // namespace
}  // namespace otlpd
