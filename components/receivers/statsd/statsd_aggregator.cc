#include "components/receivers/statsd/statsd_aggregator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"

namespace components {

namespace {

namespace v1 = opentelemetry::proto::metrics::v1;
using opentelemetry::proto::common::v1::KeyValue;

std::string key_of(const StatsdSample& s) {
  std::string key = absl::StrCat(static_cast<int>(s.type), ":", s.name.size(), ":", s.name);
  for (const auto& [k, v] : s.tags) absl::StrAppend(&key, "|", k.size(), ":", k, "=", v);
  return key;
}

// The bucket index of |v| > 0 at `scale`: the i with base^i < |v| <= base^(i+1),
// base = 2^(2^-scale).
// llround that saturates at the int64 range instead of leaving it unspecified.
std::int64_t saturating_round(double v) {
  constexpr double kMax = 9.2e18;
  if (!(v < kMax)) return std::numeric_limits<std::int64_t>::max();
  if (!(v > -kMax)) return std::numeric_limits<std::int64_t>::min();
  return std::llround(v);
}

std::uint64_t saturating_count(double v) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(saturating_round(v), 0));
}

std::int64_t bucket_index(double v, int scale) {
  return static_cast<std::int64_t>(std::ceil(std::ldexp(std::log2(v), scale))) - 1;
}

// The largest scale in [-10, 20] at which values in [lo, hi] need at most max_size buckets.
int fitting_scale(double lo, double hi, int max_size) {
  int scale = 20;
  while (scale > -10 && bucket_index(hi, scale) - bucket_index(lo, scale) + 1 > max_size) --scale;
  return scale;
}

void fill_buckets(const std::vector<std::pair<double, double>>& values, int scale, bool negative,
                  v1::ExponentialHistogramDataPoint::Buckets& out) {
  std::map<std::int64_t, std::uint64_t> counts;
  for (const auto& [v, w] : values) {
    if (v == 0 || (v < 0) != negative) continue;
    counts[bucket_index(std::fabs(v), scale)] += saturating_count(w);
  }
  if (counts.empty()) return;
  const std::int64_t first = counts.begin()->first;
  out.set_offset(static_cast<std::int32_t>(first));
  for (std::int64_t i = first; i <= counts.rbegin()->first; ++i) {
    auto it = counts.find(i);
    out.add_bucket_counts(it == counts.end() ? 0 : it->second);
  }
}

}  // namespace

const StatsdObserverConfig& StatsdAggregator::observer_of(StatsdType type) const {
  static const StatsdObserverConfig kPlain;
  switch (type) {
    case StatsdType::kTimer:
      return config_.timer;
    case StatsdType::kHistogram:
      return config_.histogram;
    case StatsdType::kDistribution:
      return config_.distribution;
    default:
      return kPlain;
  }
}

bool StatsdAggregator::add(const StatsdSample& sample) {
  std::string key = key_of(sample);
  auto it = series_.find(key);
  if (it == series_.end()) {
    const std::size_t cost = 2 * key.size() + sizeof(Series) + 64;  // the key, name and tags
    if (series_.size() >= config_.max_series || bytes_ + cost > config_.max_bytes) return false;
    bytes_ += cost;
    Series s;
    s.name = sample.name;
    s.type = sample.type;
    s.tags = sample.tags;
    if (sample.type == StatsdType::kGauge) {
      auto last = last_gauge_.find(key);
      if (last != last_gauge_.end()) s.gauge = last->second;
    }
    it = series_.emplace(std::move(key), std::move(s)).first;
  }
  Series& s = it->second;
  switch (sample.type) {
    case StatsdType::kCounter:
      s.counter += sample.value / sample.sample_rate;
      break;
    case StatsdType::kGauge:
      s.gauge = sample.relative ? s.gauge + sample.value : sample.value;
      if (auto last = last_gauge_.find(it->first); last != last_gauge_.end()) {
        last->second = s.gauge;
      } else if (last_gauge_.size() < config_.max_series &&
                 last_gauge_bytes_ + it->first.size() <= config_.max_bytes) {
        last_gauge_bytes_ += it->first.size();
        last_gauge_.emplace(it->first, s.gauge);
      }
      break;
    case StatsdType::kTimer:
    case StatsdType::kHistogram:
    case StatsdType::kDistribution:
      if (observations_ >= config_.max_observations) return false;
      ++observations_;
      s.observations.emplace_back(sample.value, 1 / sample.sample_rate);
      break;
    case StatsdType::kSet:
      if (s.members.count(sample.set_member) == 0) {
        const std::size_t cost = sample.set_member.size() + 48;
        if (observations_ >= config_.max_observations || bytes_ + cost > config_.max_bytes) {
          return false;
        }
        ++observations_;
        bytes_ += cost;
        s.members.insert(sample.set_member);
      }
      break;
  }
  return true;
}

std::int64_t StatsdAggregator::data_points() const {
  std::int64_t n = 0;
  for (const auto& [key, s] : series_) {
    const bool each = (s.type == StatsdType::kTimer || s.type == StatsdType::kHistogram ||
                       s.type == StatsdType::kDistribution) &&
                      observer_of(s.type).observer == StatsdObserver::kGauge;
    n += each ? static_cast<std::int64_t>(s.observations.size()) : 1;
  }
  return n;
}

otlp::MetricsRequest StatsdAggregator::flush(std::int64_t start_ns, std::int64_t now_ns) {
  otlp::MetricsRequest request;
  if (series_.empty()) return request;
  auto* scope = request.add_resource_metrics()->add_scope_metrics();
  scope->mutable_scope()->set_name("otlpd/statsd");
  // One Metric per (name, kind of point), holding every tag set's points, in a stable order.
  std::map<std::pair<std::string, int>, v1::Metric*> metrics;
  std::vector<const Series*> ordered;
  ordered.reserve(series_.size());
  for (const auto& [key, s] : series_) ordered.push_back(&s);
  std::sort(ordered.begin(), ordered.end(), [](const Series* a, const Series* b) {
    return std::tie(a->name, a->type, a->tags) < std::tie(b->name, b->type, b->tags);
  });
  const auto start = static_cast<std::uint64_t>(start_ns);
  const auto now = static_cast<std::uint64_t>(now_ns);
  for (const Series* s : ordered) {
    const StatsdObserverConfig& mapping = observer_of(s->type);
    const StatsdObserver observer = mapping.observer;
    v1::Metric*& metric =
        metrics[{s->name, static_cast<int>(s->type) * 4 + static_cast<int>(observer)}];
    if (metric == nullptr) {
      metric = scope->add_metrics();
      metric->set_name(s->name);
    }
    const auto attributes = [&](auto* point) {
      for (const auto& [k, v] : s->tags) {
        KeyValue* kv = point->add_attributes();
        kv->set_key(k);
        kv->mutable_value()->set_string_value(v);
      }
      if (config_.enable_metric_type) {
        KeyValue* kv = point->add_attributes();
        kv->set_key("metric_type");
        kv->mutable_value()->set_string_value(std::string(statsd_type_name(s->type)));
      }
    };
    switch (s->type) {
      case StatsdType::kCounter: {
        auto* sum = metric->mutable_sum();
        sum->set_aggregation_temporality(v1::AGGREGATION_TEMPORALITY_DELTA);
        sum->set_is_monotonic(config_.is_monotonic_counter);
        auto* p = sum->add_data_points();
        p->set_start_time_unix_nano(start);
        p->set_time_unix_nano(now);
        p->set_as_int(saturating_round(s->counter));
        attributes(p);
        break;
      }
      case StatsdType::kGauge: {
        auto* p = metric->mutable_gauge()->add_data_points();
        p->set_time_unix_nano(now);
        p->set_as_double(s->gauge);
        attributes(p);
        break;
      }
      case StatsdType::kSet: {
        auto* p = metric->mutable_gauge()->add_data_points();
        p->set_time_unix_nano(now);
        p->set_as_int(static_cast<std::int64_t>(s->members.size()));
        attributes(p);
        break;
      }
      case StatsdType::kTimer:
      case StatsdType::kHistogram:
      case StatsdType::kDistribution: {
        if (observer == StatsdObserver::kGauge) {
          for (const auto& [v, w] : s->observations) {
            auto* p = metric->mutable_gauge()->add_data_points();
            p->set_time_unix_nano(now);
            p->set_as_double(v);
            attributes(p);
          }
          break;
        }
        std::vector<std::pair<double, double>> values = s->observations;
        std::sort(values.begin(), values.end());
        double count = 0;
        double total = 0;
        for (const auto& [v, w] : values) {
          count += w;
          total += v * w;
        }
        if (observer == StatsdObserver::kSummary) {
          auto* p = metric->mutable_summary()->add_data_points();
          p->set_start_time_unix_nano(start);
          p->set_time_unix_nano(now);
          p->set_count(saturating_count(count));
          p->set_sum(total);
          for (double percentile : mapping.percentiles) {
            // Weighted nearest rank: the first value whose cumulative weight reaches the rank.
            const double rank = percentile / 100 * count;
            double seen = 0;
            double value = values.empty() ? 0 : values.back().first;
            for (const auto& [v, w] : values) {
              seen += w;
              if (seen >= rank) {
                value = v;
                break;
              }
            }
            auto* q = p->add_quantile_values();
            q->set_quantile(percentile / 100);
            q->set_value(value);
          }
          attributes(p);
          break;
        }
        auto* h = metric->mutable_exponential_histogram();
        h->set_aggregation_temporality(v1::AGGREGATION_TEMPORALITY_DELTA);
        auto* p = h->add_data_points();
        p->set_start_time_unix_nano(start);
        p->set_time_unix_nano(now);
        p->set_count(saturating_count(count));
        p->set_sum(total);
        double lo = 0;
        double hi = 0;
        std::uint64_t zeros = 0;
        for (const auto& [v, w] : values) {
          if (v == 0) {
            zeros += saturating_count(w);
            continue;
          }
          const double a = std::fabs(v);
          lo = lo == 0 ? a : std::min(lo, a);
          hi = std::max(hi, a);
        }
        const int scale = hi > 0 ? fitting_scale(lo, hi, mapping.histogram_max_size) : 0;
        p->set_scale(scale);
        p->set_zero_count(zeros);
        if (!values.empty()) {
          p->set_min(values.front().first);
          p->set_max(values.back().first);
        }
        fill_buckets(values, scale, false, *p->mutable_positive());
        fill_buckets(values, scale, true, *p->mutable_negative());
        attributes(p);
        break;
      }
    }
  }
  series_.clear();
  observations_ = 0;
  bytes_ = 0;
  return request;
}

}  // namespace components
