// UdpExporterClient against a real UdpServer on loopback.

#include "transport/udp_client.h"

#include <gtest/gtest.h>

#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"
#include "transport/udp_server.h"

namespace transport {
namespace {

using csp::testing::eventually;

TEST(UdpClient, EveryPartArrivesAsOneRequest) {
  testing::RecordingHandler recorder;
  UdpServerOptions server_options;
  server_options.endpoint = "127.0.0.1:0";
  UdpServer server(server_options, recorder.handler());
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok()) << port.status();

  UdpClientOptions options;
  options.endpoint = "localhost:" + std::to_string(*port);
  options.max_datagram_size = 65507;
  UdpExporterClient client(options);
  std::vector<std::string> bodies;
  for (int i = 0; i < 40; ++i) bodies.push_back(testing::request_bytes(otlp::Signal::kLogs, i));
  std::vector<std::string_view> parts(bodies.begin(), bodies.end());
  ExportResult r =
      csp::block_on(client.send(otlp::Signal::kLogs, parts, csp::Context::background()));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(eventually([&] { return recorder.count() == 40; }));
  std::multiset<std::string> got;
  for (const ExportRequest& req : recorder.requests()) {
    EXPECT_EQ(req.signal, otlp::Signal::kLogs);
    got.insert(req.body);
  }
  EXPECT_EQ(got, std::multiset<std::string>(bodies.begin(), bodies.end()));
  server.shutdown(csp::Clock::now() + std::chrono::seconds(5));
}

TEST(UdpClient, APartThatDoesNotFitIsRefusedAndNothingIsSent) {
  UdpClientOptions options;
  options.endpoint = "127.0.0.1:9";
  options.max_datagram_size = 100;
  UdpExporterClient client(options);
  const std::string big(100, 'x');  // with its tag, 101 bytes
  ExportResult r = csp::block_on(client.send(otlp::Signal::kTraces, {std::string_view("ok"), big},
                                             csp::Context::background()));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.not_received);
}

TEST(UdpClient, BadOptionsAndUnknownHostsFailEverySendWithTheReason) {
  for (const char* endpoint : {"nohost", ":4319", "localhost:0"}) {
    UdpClientOptions o;
    o.endpoint = endpoint;
    EXPECT_FALSE(o.validate().ok()) << endpoint;
    UdpExporterClient client(o);
    ExportResult r = csp::block_on(
        client.send(otlp::Signal::kTraces, {std::string_view("x")}, csp::Context::background()));
    EXPECT_FALSE(r.status.ok()) << endpoint;
    EXPECT_TRUE(r.not_received);
  }
  UdpClientOptions unknown;
  unknown.endpoint = "no-such-host.invalid:4319";
  UdpExporterClient client(unknown);
  ExportResult r = csp::block_on(
      client.send(otlp::Signal::kTraces, {std::string_view("x")}, csp::Context::background()));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("no-such-host.invalid"), std::string_view::npos);
}

}  // namespace
}  // namespace transport
