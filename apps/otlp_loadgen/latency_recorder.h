#pragma once
// LatencyRecorder: every latency of a run, kept exactly, for percentiles over the whole run and
// over the last progress interval.
//
// Contract:
//  - record() is thread-safe (a mutex; at the request rates one client process reaches, a few
//    tens of thousands a second, it is not contended enough to matter) and keeps every sample:
//    8 bytes each, so a million requests cost 8 MB. Exact percentiles beat a histogram's
//    buckets when the tail is what is being compared.
//  - percentiles() are nearest-rank over all samples so far; since(mark) over the samples
//    recorded after a mark() (the progress line's interval).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace loadgen {

struct Percentiles {
  std::size_t count = 0;
  std::chrono::nanoseconds p50{0}, p99{0}, p999{0}, max{0};
};

class LatencyRecorder {
 public:
  void record(std::chrono::nanoseconds latency);
  // The number of samples so far: pass it to since() later.
  std::size_t mark() const;
  Percentiles since(std::size_t mark) const;
  Percentiles percentiles() const { return since(0); }

 private:
  mutable std::mutex mu_;
  std::vector<std::int64_t> samples_ns_;  // guarded by mu_
};

// Nearest-rank percentiles of `samples` (reordered in place).
Percentiles compute_percentiles(std::vector<std::int64_t>& samples);

}  // namespace loadgen
