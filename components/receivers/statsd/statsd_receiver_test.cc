// The statsd receiver fed by `nc -u` (netcat, a client nobody here wrote) and by a raw socket.

#include "components/receivers/statsd/statsd_receiver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "components/receivers/statsd/factory.h"
#include "components/testing/recording_consumer.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/binary_codec.h"

namespace components {
namespace {

using csp::testing::eventually;
using namespace std::chrono_literals;

int udp_port(const pipeline::Host& host) {
  for (const pipeline::Host::Endpoint& e : host.endpoints()) {
    if (e.what == "udp") return std::stoi(e.address.substr(e.address.rfind(':') + 1));
  }
  return 0;
}

std::shared_ptr<StatsdReceiver> make(pipeline::Host& host, const char* yaml,
                                     std::shared_ptr<testing::RecordingConsumer> sink) {
  auto node = pipeline::ConfigNode::parse(yaml, "receivers::statsd");
  EXPECT_TRUE(node.ok());
  auto config = parse_statsd_receiver_config(*node);
  EXPECT_TRUE(config.ok()) << config.status();
  auto r = std::make_shared<StatsdReceiver>("statsd", *config, host);
  r->connect(otlp::Signal::kMetrics, sink);
  EXPECT_TRUE(csp::block_on(r->start()).ok());
  return r;
}

// name → the sum of its points' int and double values across every batch.
std::map<std::string, double> totals(const testing::RecordingConsumer& sink) {
  std::map<std::string, double> out;
  for (const pipeline::Batch& b : sink.batches()) {
    otlp::MetricsRequest r;
    EXPECT_TRUE(otlp::decode_binary(b.bytes, r).ok());
    for (const auto& rm : r.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          for (const auto& p : m.sum().data_points()) out[m.name()] += p.as_int();
          for (const auto& p : m.gauge().data_points()) {
            out[m.name()] += p.has_as_int() ? static_cast<double>(p.as_int()) : p.as_double();
          }
          for (const auto& p : m.summary().data_points()) out[m.name()] += p.sum();
        }
      }
    }
  }
  return out;
}

TEST(StatsdReceiver, NetcatLinesAreAggregatedAndFlushedEachInterval) {
  pipeline::Host host(pipeline::LogLevel::kError);
  auto sink = std::make_shared<testing::RecordingConsumer>();
  auto r = make(host, R"(
endpoint: "127.0.0.1:0"
aggregation_interval: 100ms
timer_histogram_mapping:
  - {statsd_type: timing, observer_type: summary}
)",
                sink);
  const std::string port = std::to_string(udp_port(host));
  // One datagram with several lines, then a second one; nc exits after sending (-w0 / -q0).
  ASSERT_EQ(std::system(("printf 'jobs:1|c\\njobs:2|c|#queue:mail\\nload:0.5|g\\n' | nc -u -w0 "
                         "127.0.0.1 " +
                         port)
                            .c_str()),
            0);
  ASSERT_EQ(std::system(
                ("printf 'rt:10|ms\\nrt:30|ms\\nbogus\\n' | nc -u -w0 127.0.0.1 " + port).c_str()),
            0);
  ASSERT_TRUE(eventually([&] {
    const auto t = totals(*sink);
    return t.count("jobs") && t.at("jobs") == 3 && t.count("load") && t.count("rt") &&
           t.at("rt") == 40;
  }));
  EXPECT_EQ(totals(*sink).at("load"), 0.5);
  EXPECT_EQ(r->count(StatsdReceiver::kAccepted), 5);
  EXPECT_EQ(r->count(StatsdReceiver::kMalformed), 1);
  csp::block_on(r->shutdown(csp::with_timeout(csp::Context::background(), 5s).first));
}

TEST(StatsdReceiver, ShutdownFlushesWhatTheIntervalGathered) {
  pipeline::Host host(pipeline::LogLevel::kError);
  auto sink = std::make_shared<testing::RecordingConsumer>();
  auto r = make(host, "{endpoint: \"127.0.0.1:0\", aggregation_interval: 1h}", sink);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(udp_port(host)));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string line = "late:7|c";
  ASSERT_EQ(::sendto(fd, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(line.size()));
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return r->count(StatsdReceiver::kAccepted) == 1; }));
  EXPECT_TRUE(sink->batches().empty()) << "the hour has not passed";
  csp::block_on(r->shutdown(csp::with_timeout(csp::Context::background(), 5s).first));
  EXPECT_EQ(totals(*sink)["late"], 7);
}

TEST(StatsdReceiverConfig, MistakesNameTheirKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& c : {
           Case{"transport: tcp", "transport"},
           Case{"aggregation_interval: 0s", "aggregation_interval"},
           Case{"timer_histogram_mapping: [{statsd_type: timing}]", "observer_type"},
           Case{"timer_histogram_mapping: [{statsd_type: gauge, observer_type: gauge}]",
                "statsd_type"},
           Case{"timer_histogram_mapping: [{statsd_type: timing, observer_type: average}]",
                "observer_type"},
           Case{"timer_histogram_mapping: [{statsd_type: h, observer_type: histogram}]",
                "statsd_type"},
           Case{"timer_histogram_mapping: [{statsd_type: histogram, observer_type: histogram, "
                "histogram: {max_size: 1}}]",
                "max_size"},
           Case{"timer_histogram_mapping: [{statsd_type: timing, observer_type: summary, "
                "summary: {percentiles: [101]}}]",
                "percentiles"},
           Case{"enable_simple_tags: true", "enable_simple_tags"},
           Case{"timer_histogram_mapping: [{statsd_type: timing, observer_type: gauge}, "
                "{statsd_type: timer, observer_type: summary}]",
                "mapped twice"},
       }) {
    auto node = pipeline::ConfigNode::parse(c.yaml, "receivers::statsd");
    ASSERT_TRUE(node.ok()) << c.yaml;
    auto config = parse_statsd_receiver_config(*node);
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_NE(config.status().message().find(c.key), std::string_view::npos) << config.status();
  }
}

}  // namespace
}  // namespace components
