#include "csp/internal/random.h"

#include <atomic>
#include <chrono>

#include "csp/internal/striped_counter.h"

namespace csp::internal {

namespace {
std::atomic<std::uint64_t> next_seed{
    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
std::atomic<std::size_t> next_stripe{0};
}  // namespace

ThreadRandom& thread_random() noexcept {
  thread_local ThreadRandom rng{
      next_seed.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed)};
  return rng;
}

void reseed_thread_random(std::uint64_t seed) noexcept { thread_random().state = seed; }

std::size_t thread_stripe() noexcept {
  thread_local std::size_t stripe =
      next_stripe.fetch_add(1, std::memory_order_relaxed) % StripedCounter::kStripes;
  return stripe;
}

}  // namespace csp::internal
