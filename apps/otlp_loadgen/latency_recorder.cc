#include "apps/otlp_loadgen/latency_recorder.h"

#include <algorithm>
#include <cmath>

namespace loadgen {

void LatencyRecorder::record(std::chrono::nanoseconds latency) {
  std::lock_guard lock(mu_);
  samples_ns_.push_back(latency.count());
}

std::size_t LatencyRecorder::mark() const {
  std::lock_guard lock(mu_);
  return samples_ns_.size();
}

Percentiles LatencyRecorder::since(std::size_t mark) const {
  std::vector<std::int64_t> copy;
  {
    std::lock_guard lock(mu_);
    if (mark < samples_ns_.size()) {
      copy.assign(samples_ns_.begin() + static_cast<std::ptrdiff_t>(mark), samples_ns_.end());
    }
  }
  return compute_percentiles(copy);
}

Percentiles compute_percentiles(std::vector<std::int64_t>& samples) {
  Percentiles p;
  p.count = samples.size();
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  // Nearest rank: the smallest sample with at least q of all samples at or below it.
  auto at = [&](double q) {
    std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    rank = std::clamp<std::size_t>(rank, 1, samples.size());
    return std::chrono::nanoseconds(samples[rank - 1]);
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = std::chrono::nanoseconds(samples.back());
  return p;
}

}  // namespace loadgen
