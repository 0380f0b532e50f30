#include "telemetry/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "telemetry/testing/prometheus_text.h"

namespace telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Parsed = testing::Exposition;

Parsed parse(const std::string& text) {
  absl::StatusOr<Parsed> p = testing::parse_exposition(text);
  EXPECT_TRUE(p.ok()) << p.status() << "\n" << text;
  return p.ok() ? *p : Parsed{};
}

TEST(Registry, CountersFromManyThreadsAddUpExactly) {
  Registry r;
  Counter& c = r.counter("otelcol_receiver_accepted_spans", "Spans pushed into the pipeline.",
                         {{"receiver", "otlp"}, {"transport", "grpc"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 100000; ++i) c.add(3);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.value(), 8 * 100000 * 3);
  // The same name and labels are the same series.
  EXPECT_EQ(&r.counter("otelcol_receiver_accepted_spans", "",
                       {{"receiver", "otlp"}, {"transport", "grpc"}}),
            &c);
  const Parsed p = parse(r.prometheus_text());
  EXPECT_EQ(p.types.at("otelcol_receiver_accepted_spans_total"), "counter");
  EXPECT_EQ(p.help.at("otelcol_receiver_accepted_spans_total"), "Spans pushed into the pipeline.");
  EXPECT_EQ(
      p.samples.at(R"(otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"})"),
      2400000);
}

TEST(Registry, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.counter("odd", "line one\nback\\slash", {{"path", "a\"b\\c\nd"}}).add();
  const std::string text = r.prometheus_text();
  EXPECT_THAT(text, HasSubstr(R"(# HELP odd_total line one\nback\\slash)"));
  EXPECT_THAT(text, HasSubstr(R"(odd_total{path="a\"b\\c\nd"} 1)"));
  parse(text);  // and it is still the format
}

TEST(Registry, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  Histogram& h = r.histogram("otelcol_processor_batch_batch_send_size", "Items per batch sent.",
                             {10, 100, 1000}, {{"processor", "batch"}});
  for (double v : {5.0, 10.0, 50.0, 500.0, 5000.0}) h.record(v);
  const Parsed p = parse(r.prometheus_text());
  const std::string n = "otelcol_processor_batch_batch_send_size";
  EXPECT_EQ(p.types.at(n), "histogram");
  EXPECT_EQ(p.samples.at(n + R"(_bucket{processor="batch",le="10"})"), 2);
  EXPECT_EQ(p.samples.at(n + R"(_bucket{processor="batch",le="100"})"), 3);
  EXPECT_EQ(p.samples.at(n + R"(_bucket{processor="batch",le="1000"})"), 4);
  EXPECT_EQ(p.samples.at(n + R"(_bucket{processor="batch",le="+Inf"})"), 5);
  EXPECT_EQ(p.samples.at(n + R"(_sum{processor="batch"})"), 5565);
  EXPECT_EQ(p.samples.at(n + R"(_count{processor="batch"})"), 5);
}

TEST(Registry, GaugesAreReadWhenRenderedAndGoWithTheirOwner) {
  Registry r;
  double size = 3;
  int owner = 0;
  r.gauge(
      "otelcol_exporter_queue_size", "Batches in the queue.", {{"exporter", "otlp"}},
      [&size] { return size; }, &owner);
  r.gauge("otelcol_process_uptime", "Seconds since start.", {}, [] { return 1.5; });
  EXPECT_EQ(
      parse(r.prometheus_text()).samples.at(R"(otelcol_exporter_queue_size{exporter="otlp"})"), 3);
  size = 7;
  Parsed p = parse(r.prometheus_text());
  EXPECT_EQ(p.samples.at(R"(otelcol_exporter_queue_size{exporter="otlp"})"), 7);
  EXPECT_EQ(p.samples.at("otelcol_process_uptime"), 1.5);
  r.remove_gauges(&owner);
  p = parse(r.prometheus_text());
  EXPECT_EQ(p.samples.count(R"(otelcol_exporter_queue_size{exporter="otlp"})"), 0u);
  EXPECT_EQ(p.types.count("otelcol_exporter_queue_size"), 0u) << "an empty family is not shown";
  EXPECT_EQ(p.samples.count("otelcol_process_uptime"), 1u);
}

// The test parser is strict, so a malformed page cannot pass the tests that read one.
TEST(Registry, SnapshotHoldsTheSameValuesAsThePage) {
  Registry r;
  r.counter("c", "a counter", {{"k", "v"}}).add(5);
  r.gauge("g", "a gauge", {}, [] { return 2.5; });
  r.histogram("h", "a histogram", {1, 10}).record(3);
  const std::vector<Registry::FamilySnapshot> s = r.snapshot();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "c");
  EXPECT_EQ(s[0].kind, Registry::Kind::kCounter);
  ASSERT_EQ(s[0].samples.size(), 1u);
  EXPECT_EQ(s[0].samples[0].value, 5);
  EXPECT_EQ(s[0].samples[0].labels, (Labels{{"k", "v"}}));
  EXPECT_EQ(s[1].kind, Registry::Kind::kGauge);
  EXPECT_EQ(s[1].samples[0].value, 2.5);
  EXPECT_EQ(s[2].kind, Registry::Kind::kHistogram);
  EXPECT_EQ(s[2].samples[0].histogram.count, 1);
  EXPECT_EQ(s[2].samples[0].histogram.cumulative, (std::vector<std::int64_t>{0, 1, 1}));
}

TEST(ExpositionParser, RefusesWhatIsNotTheFormat) {
  EXPECT_TRUE(testing::parse_exposition("a_total{x=\"1\",y=\"q\\\"\"} 3\nb 1.5\n").ok());
  for (const char* bad : {"a{x=\"1} 3", "a 1 2", "a{x=1} 3", "# TYPE a summary", "a{x=\"\\q\"} 1",
                          "a", "9a 1", "a 1\na 2", "a NaNx"}) {
    EXPECT_FALSE(testing::parse_exposition(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace telemetry
