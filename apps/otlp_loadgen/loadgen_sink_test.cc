// otlp-loadgen's counts against otlp-sink's, directly and through otlpd: every item the load
// generator saw accepted must arrive exactly once. In-process sink and loadgen on loopback
// (ports picked by the kernel), otlpd as a real child process. No timing is asserted.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <tuple>

#include "apps/otlp_loadgen/generator.h"
#include "apps/otlp_loadgen/load_runner.h"
#include "apps/otlp_sink/sink.h"
#include "apps/otlpd/testing/child_collector.h"

namespace loadgen {
namespace {

using namespace std::chrono_literals;

std::vector<GeneratedRequest> requests_of(otlp::Signal signal) {
  GeneratorOptions g;
  g.signal = signal;
  g.items_per_request = 23;
  g.resources_per_request = 2;
  g.attributes_per_item = 4;
  g.variants = 3;
  auto r = generate_requests(g);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : std::vector<GeneratedRequest>{};
}

Report run_load(otlp::Signal signal, Protocol protocol, const std::string& endpoint,
                otlp::Compression compression, std::uint64_t count, double rate = 0) {
  LoadOptions o;
  o.endpoint = endpoint;
  o.protocol = protocol;
  o.compression = compression;
  o.count = count;
  o.rate = rate;
  o.concurrency = 4;
  o.timeout = 30s;
  LoadRunner runner(signal, o, requests_of(signal));
  return runner.run();
}

std::string endpoint_of(const sink::Sink& s, Protocol protocol) {
  return "127.0.0.1:" + std::to_string(protocol == Protocol::kGrpc ? s.grpc_port() : s.http_port());
}

// ---- loadgen -> sink ------------------------------------------------------------------------

using Case = std::tuple<Protocol, otlp::Signal>;
class LoadgenToSink : public ::testing::TestWithParam<Case> {};

TEST_P(LoadgenToSink, TheSinkCountsExactlyWhatTheLoadGeneratorSawAccepted) {
  const auto [protocol, signal] = GetParam();
  sink::Sink s({});
  ASSERT_TRUE(s.start().ok());
  // zstd where the protocol has it, gzip otherwise: both inflate paths of the servers.
  const otlp::Compression compression =
      protocol == Protocol::kGrpc ? otlp::Compression::kGzip : otlp::Compression::kZstd;
  const Report r = run_load(signal, protocol, endpoint_of(s, protocol), compression, 40);
  s.shutdown();

  EXPECT_EQ(r.counters.requests_sent, 40u);
  EXPECT_EQ(r.counters.requests_ok, 40u) << r.first_error;
  EXPECT_EQ(r.counters.items_sent, 40u * 23u);
  EXPECT_EQ(r.counters.items_accepted, r.counters.items_sent);
  EXPECT_EQ(r.counters.items_refused + r.counters.items_failed, 0u);
  EXPECT_EQ(r.latency.count, 40u);

  const sink::SinkCounts c = s.counts();
  EXPECT_EQ(c.of(signal).requests, 40u);
  EXPECT_EQ(c.of(signal).items, r.counters.items_accepted);
  EXPECT_EQ(c.items(), c.of(signal).items) << "nothing under another signal";
  EXPECT_EQ(c.uncountable, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    All, LoadgenToSink,
    ::testing::Combine(
        ::testing::Values(Protocol::kGrpc, Protocol::kHttpProtobuf, Protocol::kHttpJson),
        ::testing::Values(otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs)),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string p(protocol_name(std::get<0>(info.param)));
      for (char& ch : p) ch = ch == '/' ? '_' : ch;
      return p + "_" + std::string(otlp::signal_name(std::get<1>(info.param)));
    });

TEST(LoadgenToSinkOpenLoop, SendsTheCountAtTheRateAndEveryItemArrives) {
  sink::Sink s({});
  ASSERT_TRUE(s.start().ok());
  const Report r = run_load(otlp::Signal::kTraces, Protocol::kGrpc, endpoint_of(s, Protocol::kGrpc),
                            otlp::Compression::kNone, 30, 300);
  s.shutdown();
  EXPECT_EQ(r.counters.requests_sent + r.counters.requests_skipped, 30u);
  EXPECT_EQ(r.counters.items_accepted, r.counters.items_sent) << r.first_error;
  EXPECT_EQ(s.counts().of(otlp::Signal::kTraces).items, r.counters.items_accepted);
}

TEST(LoadgenToNowhere, ConnectionFailuresAreCountedAsFailedNotAccepted) {
  // A port that was free a moment ago: nothing listens there.
  int port = 0;
  {
    sink::Sink s({.grpc_endpoint = "127.0.0.1:0", .http_endpoint = ""});
    ASSERT_TRUE(s.start().ok());
    port = s.grpc_port();
  }
  LoadOptions o;
  o.endpoint = "127.0.0.1:" + std::to_string(port);
  o.protocol = Protocol::kHttpProtobuf;
  o.count = 5;
  o.timeout = 5s;
  LoadRunner runner(otlp::Signal::kLogs, o, requests_of(otlp::Signal::kLogs));
  const Report r = runner.run();
  EXPECT_EQ(r.counters.requests_sent, 5u);
  EXPECT_EQ(r.counters.items_accepted, 0u);
  EXPECT_EQ(r.counters.items_failed, r.counters.items_sent);
  EXPECT_FALSE(r.first_error.empty());
}

// ---- loadgen -> otlpd -> sink ---------------------------------------------------------------

std::string collector_config(int sink_port, const std::string& queue_dir) {
  const bool durable = !queue_dir.empty();
  std::string extensions, queue, service_extensions;
  if (durable) {
    extensions =
        "extensions:\n  file_storage: {directory: \"" + queue_dir + "\", create_directory: true}\n";
    queue = "    sending_queue: {storage: file_storage}\n";
    service_extensions = "  extensions: [file_storage]\n";
  }
  return extensions + R"(receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
      http: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 20ms, send_batch_size: 200}
exporters:
  otlp:
    endpoint: "127.0.0.1:)" +
         std::to_string(sink_port) + R"("
    tls: {insecure: true}
)" + queue +
         R"(service:
)" + service_extensions +
         R"(  telemetry: {logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [otlp]}
    logs: {receivers: [otlp], processors: [batch], exporters: [otlp]}
)";
}

class LoadgenThroughOtlpd : public ::testing::TestWithParam<bool> {};

TEST_P(LoadgenThroughOtlpd, TheSinkGetsExactlyWhatOtlpdAcknowledged) {
  const bool durable = GetParam();
  const std::string dir = otlpd::testing::make_temp_dir();
  sink::Sink s({.grpc_endpoint = "127.0.0.1:0", .http_endpoint = ""});
  ASSERT_TRUE(s.start().ok());
  auto c = otlpd::testing::ChildCollector::start(
      collector_config(s.grpc_port(), durable ? dir + "/queue" : ""));
  ASSERT_TRUE(c.ok()) << c.status();

  // One signal per protocol, so that every receiver path is crossed.
  struct Leg {
    otlp::Signal signal;
    Protocol protocol;
    otlp::Compression compression;
  };
  const Leg legs[] = {{otlp::Signal::kTraces, Protocol::kGrpc, otlp::Compression::kGzip},
                      {otlp::Signal::kMetrics, Protocol::kHttpProtobuf, otlp::Compression::kNone},
                      {otlp::Signal::kLogs, Protocol::kHttpJson, otlp::Compression::kGzip}};
  std::map<otlp::Signal, std::uint64_t> accepted;
  for (const Leg& leg : legs) {
    const std::string endpoint =
        (*c)->endpoint("otlp", leg.protocol == Protocol::kGrpc ? "grpc" : "http");
    const Report r = run_load(leg.signal, leg.protocol, endpoint, leg.compression, 50);
    EXPECT_EQ(r.counters.items_accepted, r.counters.items_sent) << r.first_error;
    EXPECT_GT(r.counters.items_accepted, 0u);
    accepted[leg.signal] = r.counters.items_accepted;
  }
  // Wait (without asserting how long) until the sink has it all, then stop otlpd: its shutdown
  // would send anything still queued, and anything sent twice would show as a surplus below.
  auto arrived = [&] {
    for (const auto& [signal, n] : accepted) {
      if (s.counts().of(signal).items < n) return false;
    }
    return true;
  };
  for (int i = 0; i < 1200 && !arrived(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ((*c)->stop(), 0) << (*c)->log();
  s.shutdown();

  const sink::SinkCounts got = s.counts();
  for (const auto& [signal, n] : accepted) {
    EXPECT_EQ(got.of(signal).items, n) << otlp::signal_name(signal) << "\n" << (*c)->log();
  }
  EXPECT_EQ(got.uncountable, 0u);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Queues, LoadgenThroughOtlpd, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "DurableQueue" : "MemoryQueue");
                         });

}  // namespace
}  // namespace loadgen
