#include "components/exporters/otlp_udp/otlp_udp_exporter.h"

#include <gtest/gtest.h>

#include <atomic>

#include "components/exporters/otlp_udp/factory.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/binary_codec.h"
#include "otlp/signals.h"
#include "otlp/wire.h"
#include "transport/udp_server.h"

namespace components {
namespace {

using namespace std::chrono_literals;

// Logs: `resources` resources of `per_resource` records, each with a body of `body` bytes.
std::string logs(int resources, int per_resource, std::size_t body) {
  otlp::LogsRequest r;
  for (int i = 0; i < resources; ++i) {
    auto* scope = r.add_resource_logs()->add_scope_logs();
    for (int j = 0; j < per_resource; ++j) {
      scope->add_log_records()->mutable_body()->set_string_value(
          std::string(body, static_cast<char>('a' + j % 26)));
    }
  }
  return *otlp::encode_binary(r);
}

TEST(SplitToFit, EveryPartFitsAndEveryItemIsKept) {
  const std::string big = logs(3, 200, 40);  // ~30 KB
  auto fitted = split_to_fit(otlp::Signal::kLogs, big, 1399);
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  EXPECT_EQ(fitted->oversized_items, 0);
  EXPECT_GT(fitted->parts.size(), 20u);
  std::uint64_t items = 0;
  for (const std::string& p : fitted->parts) {
    EXPECT_LE(p.size(), 1399u);
    items += *otlp::wire_count_items(otlp::Signal::kLogs, p);
  }
  EXPECT_EQ(items, 600u);
  // What fits already goes as it is.
  const std::string small = logs(1, 2, 10);
  auto one = split_to_fit(otlp::Signal::kLogs, small, 1399);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->parts.size(), 1u);
  EXPECT_EQ(one->parts[0], small);
}

TEST(SplitToFit, AnItemTooLargeAloneIsCountedNotSent) {
  otlp::LogsRequest r;
  auto* scope = r.add_resource_logs()->add_scope_logs();
  scope->add_log_records()->mutable_body()->set_string_value(std::string(5000, 'x'));
  scope->add_log_records()->mutable_body()->set_string_value("small");
  auto fitted = split_to_fit(otlp::Signal::kLogs, *otlp::encode_binary(r), 1399);
  ASSERT_TRUE(fitted.ok());
  EXPECT_EQ(fitted->oversized_items, 1);
  ASSERT_EQ(fitted->parts.size(), 1u);
  EXPECT_EQ(*otlp::wire_count_items(otlp::Signal::kLogs, fitted->parts[0]), 1u);
}

TEST(OtlpUdpExporter, BatchesArriveAtAUdpReceiverCutToTheDatagramSize) {
  std::atomic<std::int64_t> records{0};
  std::atomic<std::size_t> largest{0};
  transport::UdpServerOptions server_options;
  server_options.endpoint = "127.0.0.1:0";
  transport::UdpServer server(
      server_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        records += static_cast<std::int64_t>(*otlp::wire_count_items(r.signal, r.body));
        std::size_t seen = largest.load();
        while (r.body.size() + 1 > seen &&
               !largest.compare_exchange_weak(seen, r.body.size() + 1)) {
        }
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok()) << port.status();

  pipeline::Host host(pipeline::LogLevel::kError);
  auto node = pipeline::ConfigNode::parse(
      "{endpoint: \"127.0.0.1:" + std::to_string(*port) + "\", max_datagram_size: 1000}",
      "exporters::otlp_udp");
  ASSERT_TRUE(node.ok());
  auto config = parse_otlp_udp_exporter_config(*node);
  ASSERT_TRUE(config.ok()) << config.status();
  auto exporter = make_otlp_udp_exporter("otlp_udp", *config, host);
  ASSERT_TRUE(csp::block_on(exporter->start()).ok());
  std::int64_t sent = 0;
  for (int i = 0; i < 20; ++i) {
    pipeline::Batch b{otlp::Signal::kLogs, logs(2, 25, 30), 50};
    ASSERT_TRUE(csp::block_on(exporter->consume(csp::Context::background(), std::move(b))).ok());
    sent += 50;
  }
  EXPECT_TRUE(csp::testing::eventually([&] { return records.load() == sent; }))
      << records.load() << " of " << sent;
  csp::block_on(exporter->shutdown(csp::with_timeout(csp::Context::background(), 5s).first));
  server.shutdown(csp::Clock::now() + 5s);
  EXPECT_LE(largest.load(), 1000u);
  EXPECT_EQ(server.stats().dropped_total(), 0u);
}

TEST(OtlpUdpExporterConfig, MistakesNameTheirKey) {
  for (const char* yaml :
       {"{}", "{endpoint: \"nohost\"}", "{endpoint: \"h:1\", max_datagram_size: 1}",
        "{endpoint: \"h:1\", max_datagram_size: 70000}", "{endpoint: \"h:1\", timeout: 0s}",
        "{endpoint: \"h:1\", mtu: 9000}"}) {
    auto node = pipeline::ConfigNode::parse(yaml, "exporters::otlp_udp");
    ASSERT_TRUE(node.ok()) << yaml;
    auto c = parse_otlp_udp_exporter_config(*node);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find("exporters::otlp_udp"), std::string_view::npos)
        << c.status();
  }
}

}  // namespace
}  // namespace components
