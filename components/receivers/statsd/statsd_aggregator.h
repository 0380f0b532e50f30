#pragma once
// StatsdAggregator: StatsD samples gathered over one aggregation interval, then handed out as
// OTLP metrics, with the Collector (contrib) statsd receiver's semantics:
//
//  - counters: the sum of value / sample rate over the interval, as a delta Sum (int), monotonic
//    only with is_monotonic_counter;
//  - gauges: the last value (a "+N" / "-N" adjusts the last value, kept across intervals), as a
//    Gauge (double);
//  - timers (ms), histograms (h) and distributions (d), by their observer: gauge (each
//    observation a Gauge point), summary (a Summary with the configured percentiles; a sample
//    rate weighs the observation by 1 / rate) or histogram (a delta exponential histogram of at
//    most max_size buckets per sign, its scale chosen to fit);
//  - sets: the number of distinct members, as a Gauge (int) (otlpd's addition: contrib drops
//    sets).
//
// Series are (name, type, tags); tags become attributes, plus metric_type with
// enable_metric_type. Everything an interval gathered is handed out by flush() and forgotten.
//
// Limits: at most max_series series, max_observations stored observations (timer, histogram
// and distribution values, set members) and max_bytes of names, tags and members per interval;
// add() refuses what would pass them (the receiver counts it), so a sender with endless or
// enormous names cannot grow memory without bound. Values beyond the int64 range saturate.
//
// Not thread-safe: the receiver serializes calls.

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "components/receivers/statsd/statsd_parser.h"
#include "otlp/signal.h"

namespace components {

enum class StatsdObserver { kGauge, kSummary, kHistogram };

// How one statsd type (timing, histogram or distribution) is turned into OTLP.
struct StatsdObserverConfig {
  StatsdObserver observer = StatsdObserver::kGauge;
  std::vector<double> percentiles = {0, 10, 50, 90, 95, 100};  // summary, in [0, 100]
  int histogram_max_size = 160;                                // histogram, buckets per sign
};

struct StatsdAggregationConfig {
  bool enable_metric_type = false;
  bool is_monotonic_counter = false;
  StatsdObserverConfig timer;
  StatsdObserverConfig histogram;
  StatsdObserverConfig distribution;
  std::size_t max_series = 100'000;
  std::size_t max_observations = 1'000'000;
  // What an interval's series and set members may occupy (names, tags, members), and what the
  // last gauge values kept across intervals may.
  std::size_t max_bytes = 64u << 20;
};

class StatsdAggregator {
 public:
  explicit StatsdAggregator(StatsdAggregationConfig config) : config_(std::move(config)) {}

  // False when a limit refuses the sample.
  bool add(const StatsdSample& sample);
  // The interval [start_ns, now_ns) as a request (empty when nothing arrived); starts the next.
  otlp::MetricsRequest flush(std::int64_t start_ns, std::int64_t now_ns);
  std::size_t series() const { return series_.size(); }
  std::int64_t data_points() const;

 private:
  struct Series {
    std::string name;
    StatsdType type = StatsdType::kCounter;
    std::vector<std::pair<std::string, std::string>> tags;
    double counter = 0;
    double gauge = 0;
    std::vector<std::pair<double, double>> observations;  // value, weight
    std::set<std::string> members;
  };
  const StatsdObserverConfig& observer_of(StatsdType type) const;

  StatsdAggregationConfig config_;
  std::unordered_map<std::string, Series> series_;  // by key(name, type, tags)
  std::size_t observations_ = 0;
  std::size_t bytes_ = 0;  // of this interval's series keys and set members
  // Gauges' last values, kept across intervals for relative updates (at most max_bytes of keys).
  std::unordered_map<std::string, double> last_gauge_;
  std::size_t last_gauge_bytes_ = 0;
};

}  // namespace components
