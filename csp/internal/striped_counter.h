#pragma once
// StripedCounter: a counter that many threads update often and that is read rarely
// (goroutine and frame counts). Each thread adds to its own cache line; read() sums them, so a
// read is a snapshot that may miss updates racing with it, never a torn value.

#include <array>
#include <atomic>
#include <cstdint>

namespace csp::internal {

// A small per-thread index in [0, kStripes), assigned on first use.
std::size_t thread_stripe() noexcept;

class StripedCounter {
 public:
  static constexpr std::size_t kStripes = 32;

  void add(std::int64_t delta) noexcept {
    stripes_[thread_stripe()].value.fetch_add(delta, std::memory_order_relaxed);
  }
  std::int64_t read() const noexcept {
    std::int64_t sum = 0;
    for (const auto& s : stripes_) sum += s.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Stripe {
    std::atomic<std::int64_t> value{0};
  };
  std::array<Stripe, kStripes> stripes_{};
};

}  // namespace csp::internal
