#pragma once
// Per-thread fast pseudo-random numbers for select's poll order and work stealing. Not for
// anything that needs unpredictability. reseed_thread_random() makes tests reproducible.

#include <cstdint>

namespace csp::internal {

struct ThreadRandom {
  std::uint64_t state;
  // wyrand: one multiply per number, passes BigCrush; good enough to shuffle a few cases.
  std::uint64_t next() noexcept {
    state += 0xa0761d6478bd642fULL;
    __uint128_t t = static_cast<__uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbULL);
    return static_cast<std::uint64_t>(t >> 64) ^ static_cast<std::uint64_t>(t);
  }
  // Uniform in [0, n) by Lemire's multiply-shift (bias below 2^-32 for the n we use).
  std::uint32_t below(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(next() >> 32) * n) >> 32);
  }
};

ThreadRandom& thread_random() noexcept;
void reseed_thread_random(std::uint64_t seed) noexcept;

}  // namespace csp::internal
