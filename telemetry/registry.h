#pragma once
// telemetry::Registry: the collector's metrics about itself — counters, gauges and histograms
// with labels — rendered in the Prometheus text exposition format (version 0.0.4) for the
// /metrics endpoint. Names follow the OpenTelemetry Collector's internal telemetry
// (otelcol_receiver_accepted_spans, ...), so existing dashboards and alerts work; a counter's
// exposed name gets the conventional `_total` suffix, as the Collector's Prometheus reader adds.
//
// Contract:
//  - Registration (counter(), histogram(), gauge()) takes a lock and may allocate; do it when a
//    component starts, keep the reference, and only add() on the data path. Registering the
//    same name and labels twice returns the same series; a name keeps its first type and help.
//  - Counter::add and Histogram::record never lock or allocate: a counter is striped over
//    cache lines by thread (relaxed atomics), so workers adding at once do not share a line.
//  - Gauges are callbacks, read when the page is rendered, on the rendering thread; they must
//    be thread-safe and cheap. remove_gauges(owner) drops an owner's callbacks (a component
//    that stops), after which none of them runs again.
//  - Series live as long as the registry; references stay valid.
//  - Thread-safe throughout.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace telemetry {

// Label names and values, in the order given ({"receiver", "otlp"}, {"transport", "grpc"}).
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(std::int64_t n = 1) noexcept {
    stripes_[stripe()].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::int64_t value() const noexcept;

 private:
  static constexpr std::size_t kStripes = 8;
  struct alignas(64) Stripe {
    std::atomic<std::int64_t> value{0};
  };
  static std::size_t stripe() noexcept;
  std::array<Stripe, kStripes> stripes_;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void record(double value) noexcept;

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::int64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    std::int64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;                      // ascending upper bounds
  std::unique_ptr<std::atomic<std::int64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

class Registry {
 public:
  // Off (service::telemetry::metrics::level: none): components ask enabled() before they
  // register, and count nothing at all. Set before components start.
  void set_enabled(bool enabled) { enabled_.store(enabled, std::memory_order_relaxed); }
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const Labels& labels = {});
  // `owner` groups callbacks for remove_gauges(); any stable address (the component).
  void gauge(const std::string& name, const std::string& help, const Labels& labels,
             std::function<double()> read, const void* owner = nullptr);
  void remove_gauges(const void* owner);

  // The whole registry in the Prometheus text format, families sorted by name.
  std::string prometheus_text() const;

  // The same values as data, for pushing them as OTLP (apps/otlpd/self_telemetry.h). A
  // counter's name is as registered (no `_total`).
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Sample {
    Labels labels;
    double value = 0;               // counters and gauges
    Histogram::Snapshot histogram;  // histograms
  };
  struct FamilySnapshot {
    std::string name;
    std::string help;
    Kind kind = Kind::kCounter;
    std::vector<Sample> samples;
  };
  std::vector<FamilySnapshot> snapshot() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct GaugeSeries {
    std::function<double()> read;
    const void* owner = nullptr;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<Labels, Counter*> counters;
    std::map<Labels, Histogram*> histograms;
    std::map<Labels, GaugeSeries> gauges;
  };
  Family& family(const std::string& name, Type type, const std::string& help);

  std::atomic<bool> enabled_{true};
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;             // guarded by mu_
  std::deque<Counter> counters_;                       // stable addresses; guarded by mu_
  std::deque<std::unique_ptr<Histogram>> histograms_;  // guarded by mu_
};

// Buckets for latencies in seconds: 100 µs to 60 s.
std::vector<double> latency_buckets_seconds();

}  // namespace telemetry
