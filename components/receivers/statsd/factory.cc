#include "components/receivers/statsd/factory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<StatsdReceiverConfig> parse_statsd_receiver_config(
    const pipeline::ConfigNode& node) {
  StatsdReceiverConfig c;
  StatsdAggregationConfig& a = c.aggregation;
  OTLPD_ASSIGN_OR_RETURN(c.endpoint, node.string("endpoint", c.endpoint));
  OTLPD_ASSIGN_OR_RETURN(std::string transport, node.string("transport", "udp"));
  OTLPD_ASSIGN_OR_RETURN(auto interval,
                         node.duration("aggregation_interval", to_ns(c.aggregation_interval)));
  OTLPD_ASSIGN_OR_RETURN(a.enable_metric_type, node.boolean("enable_metric_type", false));
  OTLPD_ASSIGN_OR_RETURN(a.is_monotonic_counter, node.boolean("is_monotonic_counter", false));
  OTLPD_ASSIGN_OR_RETURN(std::vector<pipeline::ConfigNode> mappings,
                         node.list("timer_histogram_mapping"));
  std::vector<std::string> seen;
  for (const pipeline::ConfigNode& m : mappings) {
    OTLPD_RETURN_IF_ERROR(m.require("statsd_type"));
    OTLPD_RETURN_IF_ERROR(m.require("observer_type"));
    OTLPD_ASSIGN_OR_RETURN(std::string type, m.string("statsd_type", ""));
    OTLPD_ASSIGN_OR_RETURN(std::string observer, m.string("observer_type", ""));
    StatsdObserverConfig o;
    const pipeline::ConfigNode histogram = m.child("histogram");
    OTLPD_ASSIGN_OR_RETURN(std::int64_t max_size,
                           histogram.int64("max_size", o.histogram_max_size));
    OTLPD_RETURN_IF_ERROR(histogram.check_no_unknown_keys());
    const pipeline::ConfigNode summary = m.child("summary");
    OTLPD_ASSIGN_OR_RETURN(std::vector<std::string> percentiles,
                           summary.string_list("percentiles", {}));
    OTLPD_RETURN_IF_ERROR(summary.check_no_unknown_keys());
    OTLPD_RETURN_IF_ERROR(m.check_no_unknown_keys());
    if (observer == "gauge") {
      o.observer = StatsdObserver::kGauge;
    } else if (observer == "summary") {
      o.observer = StatsdObserver::kSummary;
    } else if (observer == "histogram") {
      o.observer = StatsdObserver::kHistogram;
    } else {
      return m.error_at("observer_type",
                        absl::StrCat("\"", observer, "\" is not gauge, summary or histogram"));
    }
    if (max_size < 2 || max_size > 16384) {
      return histogram.error_at("max_size", "must be in [2, 16384]");
    }
    o.histogram_max_size = static_cast<int>(max_size);
    if (!percentiles.empty()) {
      o.percentiles.clear();
      for (const std::string& p : percentiles) {
        char* end = nullptr;
        const double v = std::strtod(p.c_str(), &end);
        if (end == p.c_str() || *end != '\0' || !(v >= 0 && v <= 100)) {
          return summary.error_at("percentiles",
                                  absl::StrCat("\"", p, "\" is not a number in [0, 100]"));
        }
        o.percentiles.push_back(v);
      }
    }
    const std::string canonical = type == "timer" ? "timing" : type;
    StatsdObserverConfig* target = nullptr;
    if (canonical == "timing") {
      target = &a.timer;
    } else if (canonical == "histogram") {
      target = &a.histogram;
    } else if (canonical == "distribution") {
      target = &a.distribution;
    } else {
      return m.error_at("statsd_type",
                        absl::StrCat("\"", type, "\" is not timing, histogram or distribution"));
    }
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) {
      return m.error_at("statsd_type", absl::StrCat("\"", type, "\" is mapped twice"));
    }
    seen.push_back(canonical);
    *target = std::move(o);
  }
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (transport != "udp") {
    return node.error_at("transport",
                         absl::StrCat("\"", transport, "\": otlpd's statsd receiver speaks udp"));
  }
  if (interval <= std::chrono::nanoseconds::zero()) {
    return node.error_at("aggregation_interval", "must be greater than zero");
  }
  c.aggregation_interval = to_duration(interval);
  return c;
}

namespace {

class StatsdReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "statsd"; }
  bool supports(otlp::Signal signal) const override { return signal == otlp::Signal::kMetrics; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  absl::StatusOr<std::shared_ptr<pipeline::Receiver>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             pipeline::Host& host) const override {
    auto c = parse_statsd_receiver_config(config);
    if (!c.ok()) return c.status();
    return std::make_shared<StatsdReceiver>(id.str(), *std::move(c), host);
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> make_statsd_receiver_factory() {
  return std::make_unique<StatsdReceiverFactory>();
}

}  // namespace components
