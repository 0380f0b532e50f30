#include "components/receivers/statsd/statsd_aggregator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace components {
namespace {

namespace v1 = opentelemetry::proto::metrics::v1;

void add(StatsdAggregator& a, const char* line) {
  auto s = parse_statsd_line(line);
  ASSERT_TRUE(s.ok()) << line;
  ASSERT_TRUE(a.add(*s)) << line;
}

const v1::Metric* find(const otlp::MetricsRequest& r, const std::string& name) {
  for (const auto& m : r.resource_metrics(0).scope_metrics(0).metrics()) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

TEST(StatsdAggregator, CountersSumWithRatesGaugesKeepTheLastValueSetsCountMembers) {
  StatsdAggregator a({});
  add(a, "hits:1|c");
  add(a, "hits:2|c|@0.5");  // counts as 4
  add(a, "hits:5|c|#env:prod");
  add(a, "temp:20|g");
  add(a, "temp:+3|g");
  add(a, "users:alice|s");
  add(a, "users:bob|s");
  add(a, "users:alice|s");
  EXPECT_EQ(a.series(), 4u);
  EXPECT_EQ(a.data_points(), 4);
  const otlp::MetricsRequest r = a.flush(1000, 2000);
  const v1::Metric* hits = find(r, "hits");
  ASSERT_NE(hits, nullptr);
  ASSERT_EQ(hits->sum().data_points_size(), 2);
  EXPECT_EQ(hits->sum().aggregation_temporality(), v1::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_FALSE(hits->sum().is_monotonic());
  EXPECT_EQ(hits->sum().data_points(0).as_int(), 5);  // untagged: 1 + 2/0.5
  EXPECT_EQ(hits->sum().data_points(0).start_time_unix_nano(), 1000u);
  EXPECT_EQ(hits->sum().data_points(0).time_unix_nano(), 2000u);
  EXPECT_EQ(hits->sum().data_points(1).as_int(), 5);
  EXPECT_EQ(hits->sum().data_points(1).attributes(0).key(), "env");
  EXPECT_EQ(find(r, "temp")->gauge().data_points(0).as_double(), 23);
  EXPECT_EQ(find(r, "users")->gauge().data_points(0).as_int(), 2);
  // The next interval starts empty; a relative gauge builds on the last value.
  EXPECT_EQ(a.series(), 0u);
  add(a, "temp:-1|g");
  const otlp::MetricsRequest next = a.flush(2000, 3000);
  EXPECT_EQ(find(next, "temp")->gauge().data_points(0).as_double(), 22);
  EXPECT_EQ(find(next, "hits"), nullptr);
}

TEST(StatsdAggregator, TimersAsGaugePointsSummariesOrExponentialHistograms) {
  StatsdAggregationConfig config;
  config.enable_metric_type = true;
  config.timer.observer = StatsdObserver::kSummary;
  config.timer.percentiles = {0, 50, 100};
  config.histogram.observer = StatsdObserver::kHistogram;
  config.histogram.histogram_max_size = 20;
  StatsdAggregator a(config);
  for (int v = 1; v <= 100; ++v) add(a, ("rt:" + std::to_string(v) + "|ms").c_str());
  add(a, "size:0|h");
  add(a, "size:1|h");
  add(a, "size:1000000|h");
  add(a, "size:-8|h");
  add(a, "lat:0.5|d");
  add(a, "lat:0.7|d");
  const otlp::MetricsRequest r = a.flush(0, 10);

  const auto& summary = find(r, "rt")->summary().data_points(0);
  EXPECT_EQ(summary.count(), 100u);
  EXPECT_EQ(summary.sum(), 5050);
  ASSERT_EQ(summary.quantile_values_size(), 3);
  EXPECT_EQ(summary.quantile_values(0).value(), 1);
  EXPECT_EQ(summary.quantile_values(1).quantile(), 0.5);
  EXPECT_EQ(summary.quantile_values(1).value(), 50);
  EXPECT_EQ(summary.quantile_values(2).value(), 100);
  EXPECT_EQ(summary.attributes(0).key(), "metric_type");
  EXPECT_EQ(summary.attributes(0).value().string_value(), "timing");

  const auto& h = find(r, "size")->exponential_histogram().data_points(0);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.zero_count(), 1u);
  EXPECT_EQ(h.min(), -8);
  EXPECT_EQ(h.max(), 1000000);
  EXPECT_LE(h.positive().bucket_counts_size(), 20);
  std::uint64_t positive = 0;
  for (std::uint64_t n : h.positive().bucket_counts()) positive += n;
  EXPECT_EQ(positive, 2u);
  // Each value lies in its bucket: base^offset < 1 <= base^(offset+1) for the lowest.
  const double base = std::pow(2, std::pow(2, -h.scale()));
  EXPECT_LT(std::pow(base, h.positive().offset()), 1.0 + 1e-9);
  EXPECT_GE(std::pow(base, h.positive().offset() + 1), 1.0 - 1e-9);
  EXPECT_EQ(h.negative().bucket_counts_size(), 1);

  // Distributions kept the gauge observer: a point per observation.
  EXPECT_EQ(find(r, "lat")->gauge().data_points_size(), 2);
}

TEST(StatsdAggregator, ExtremeValuesSaturateAndHugeNamesHitTheByteLimit) {
  StatsdAggregationConfig config;
  config.max_bytes = 10'000;
  StatsdAggregator a(config);
  add(a, "big:1e300|c");
  add(a, "big:-1e300|c|#sign:neg");
  add(a, "rare:1|c|@1e-300");
  const std::string huge = std::string(6000, 'n') + ":1|c";
  EXPECT_FALSE(a.add(*parse_statsd_line(huge))) << "6000-byte names twice exceed 10000 bytes";
  const otlp::MetricsRequest r = a.flush(0, 1);
  const v1::Metric* big = find(r, "big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->sum().data_points(0).as_int(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(big->sum().data_points(1).as_int(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(find(r, "rare")->sum().data_points(0).as_int(),
            std::numeric_limits<std::int64_t>::max());
}

TEST(StatsdAggregator, LimitsRefuseNewSeriesAndObservations) {
  StatsdAggregationConfig config;
  config.max_series = 2;
  config.max_observations = 3;
  StatsdAggregator a(config);
  add(a, "a:1|c");
  add(a, "b:1|ms");
  EXPECT_FALSE(a.add(*parse_statsd_line("c:1|c"))) << "a third series";
  EXPECT_TRUE(a.add(*parse_statsd_line("a:1|c"))) << "a known series";
  add(a, "b:2|ms");
  add(a, "b:3|ms");
  EXPECT_FALSE(a.add(*parse_statsd_line("b:4|ms"))) << "a fourth observation";
  a.flush(0, 1);
  EXPECT_TRUE(a.add(*parse_statsd_line("c:1|c"))) << "the next interval has room again";
}

}  // namespace
}  // namespace components
