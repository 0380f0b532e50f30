#include "telemetry/registry.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"

namespace telemetry {

namespace {

std::atomic<std::size_t> next_stripe{0};

// Prometheus label values escape backslash, double quote and line feed; help text escapes
// backslash and line feed.
void append_escaped(std::string& out, const std::string& text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    absl::StrAppend(&out, static_cast<std::int64_t>(v));
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out += buf;
  }
}

void append_labels(std::string& out, const Labels& labels,
                   const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return;
  out += '{';
  bool first = true;
  auto one = [&](const std::string& name, const std::string& value) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, /*quote=*/true);
    out += '"';
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (extra != nullptr) one(extra->first, extra->second);
  out += '}';
}

}  // namespace

std::size_t Counter::stripe() noexcept {
  thread_local const std::size_t mine =
      next_stripe.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return mine;
}

std::int64_t Counter::value() const noexcept {
  std::int64_t total = 0;
  for (const Stripe& s : stripes_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::int64_t>[]>(bounds_.size() + 1)) {}

void Histogram::record(double value) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::int64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

Registry::Family& Registry::family(const std::string& name, Type type, const std::string& help) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  }
  return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, Type::kCounter, help);
  Counter*& c = f.counters[labels];
  if (c == nullptr) c = &counters_.emplace_back();
  return *c;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, Type::kHistogram, help);
  Histogram*& h = f.histograms[labels];
  if (h == nullptr) h = histograms_.emplace_back(std::make_unique<Histogram>(bounds)).get();
  return *h;
}

void Registry::gauge(const std::string& name, const std::string& help, const Labels& labels,
                     std::function<double()> read, const void* owner) {
  std::lock_guard lock(mu_);
  family(name, Type::kGauge, help).gauges[labels] = GaugeSeries{std::move(read), owner};
}

void Registry::remove_gauges(const void* owner) {
  std::lock_guard lock(mu_);
  for (auto& [name, f] : families_) {
    std::erase_if(f.gauges, [owner](const auto& entry) { return entry.second.owner == owner; });
  }
}

std::string Registry::prometheus_text() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    const std::string exposed = f.type == Type::kCounter ? name + "_total" : name;
    if (f.counters.empty() && f.gauges.empty() && f.histograms.empty()) continue;
    absl::StrAppend(&out, "# HELP ", exposed, " ");
    append_escaped(out, f.help, /*quote=*/false);
    absl::StrAppend(&out, "\n# TYPE ", exposed, " ",
                    f.type == Type::kCounter ? "counter"
                    : f.type == Type::kGauge ? "gauge"
                                             : "histogram",
                    "\n");
    for (const auto& [labels, c] : f.counters) {
      out += exposed;
      append_labels(out, labels);
      absl::StrAppend(&out, " ", c->value(), "\n");
    }
    for (const auto& [labels, g] : f.gauges) {
      out += exposed;
      append_labels(out, labels);
      out += ' ';
      append_number(out, g.read());
      out += '\n';
    }
    for (const auto& [labels, h] : f.histograms) {
      const Histogram::Snapshot s = h->snapshot();
      for (std::size_t i = 0; i < s.cumulative.size(); ++i) {
        std::string le;
        append_number(le,
                      i < s.bounds.size() ? s.bounds[i] : std::numeric_limits<double>::infinity());
        const std::pair<std::string, std::string> bucket{"le", le};
        absl::StrAppend(&out, exposed, "_bucket");
        append_labels(out, labels, &bucket);
        absl::StrAppend(&out, " ", s.cumulative[i], "\n");
      }
      absl::StrAppend(&out, exposed, "_sum");
      append_labels(out, labels);
      out += ' ';
      append_number(out, s.sum);
      absl::StrAppend(&out, "\n", exposed, "_count");
      append_labels(out, labels);
      absl::StrAppend(&out, " ", s.count, "\n");
    }
  }
  return out;
}

std::vector<Registry::FamilySnapshot> Registry::snapshot() const {
  std::vector<FamilySnapshot> out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    if (f.counters.empty() && f.gauges.empty() && f.histograms.empty()) continue;
    FamilySnapshot& family = out.emplace_back();
    family.name = name;
    family.help = f.help;
    family.kind = f.type == Type::kCounter ? Kind::kCounter
                  : f.type == Type::kGauge ? Kind::kGauge
                                           : Kind::kHistogram;
    for (const auto& [labels, c] : f.counters) {
      family.samples.push_back(Sample{labels, static_cast<double>(c->value()), {}});
    }
    for (const auto& [labels, g] : f.gauges) family.samples.push_back(Sample{labels, g.read(), {}});
    for (const auto& [labels, h] : f.histograms) {
      family.samples.push_back(Sample{labels, 0, h->snapshot()});
    }
  }
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
}

}  // namespace telemetry
