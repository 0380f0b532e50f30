#pragma once
// The `statsd` receiver: StatsD (with DogStatsD tags and sample rates) over UDP, aggregated
// over an interval into OTLP metrics (statsd_aggregator.h), configured as the Collector
// (contrib) spells it:
//
//   receivers:
//     statsd:
//       endpoint: "localhost:8125"
//       aggregation_interval: 60s
//       enable_metric_type: false
//       is_monotonic_counter: false
//       timer_histogram_mapping:
//         - {statsd_type: timing, observer_type: summary, summary: {percentiles: [50, 99]}}
//         - {statsd_type: histogram, observer_type: histogram, histogram: {max_size: 100}}
//
// Contract:
//  - Every line is counted once in otlpd_receiver_statsd_lines{outcome}: accepted (into the
//    interval's aggregate), malformed, dropped (a series or observation limit of the interval),
//    too_large (a datagram over 64 KiB: its lines are lost).
//  - Every aggregation_interval, and once more at shutdown, the interval's metrics go to the
//    pipeline; a refusal is counted (otlpd_receiver_statsd_refused_points) and logged. UDP
//    cannot push back, so nothing is kept for a retry.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "components/receivers/statsd/statsd_aggregator.h"
#include "csp/chan.h"
#include "csp/wait_group.h"
#include "pipeline/component.h"
#include "pipeline/host.h"
#include "telemetry/registry.h"
#include "transport/internal/datagram_socket.h"

namespace components {

struct StatsdReceiverConfig {
  std::string endpoint = "localhost:8125";
  csp::Duration aggregation_interval = std::chrono::seconds(60);
  StatsdAggregationConfig aggregation;
  csp::Duration request_timeout = std::chrono::seconds(5);
};

class StatsdReceiver final : public pipeline::Receiver {
 public:
  StatsdReceiver(std::string id, StatsdReceiverConfig config, pipeline::Host& host);
  ~StatsdReceiver() override;

  void connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  enum Outcome { kAccepted = 0, kMalformed = 1, kDropped = 2, kTooLarge = 3 };
  static constexpr std::size_t kOutcomes = 4;
  std::int64_t count(Outcome outcome) const {
    return counts_[outcome].load(std::memory_order_relaxed);
  }
  std::int64_t refused_points() const { return refused_points_.load(); }

 private:
  void take(std::string_view datagram);
  void note(Outcome outcome);
  // Hands the interval's aggregate to the pipeline.
  csp::Task<void> flush();
  csp::Task<void> flusher();

  std::string id_;
  StatsdReceiverConfig config_;
  pipeline::Host& host_;
  std::shared_ptr<pipeline::Consumer> next_;

  std::mutex mu_;  // guards aggregator_ and interval_start_ns_
  StatsdAggregator aggregator_;
  std::int64_t interval_start_ns_ = 0;

  std::shared_ptr<transport::internal::UdpSocket> socket_;
  csp::Chan<csp::Unit> stop_{0};  // closed at shutdown: the flusher's last flush
  csp::WaitGroup goroutines_;

  std::array<std::atomic<std::int64_t>, kOutcomes> counts_{};
  std::array<telemetry::Counter*, kOutcomes> metrics_{};
  std::atomic<std::int64_t> refused_points_{0};
  telemetry::Counter* refused_metric_ = nullptr;
};

}  // namespace components
