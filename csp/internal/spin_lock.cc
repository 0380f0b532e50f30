#include "csp/internal/spin_lock.h"

#include <sched.h>

namespace csp::internal {

void SpinLock::lock_slow() noexcept {
  // Spin on a plain load so waiting cores share the cache line instead of bouncing it; after
  // kSpinsBeforeYield failed looks, give the CPU to whoever holds the lock.
  constexpr int kSpinsBeforeYield = 64;
  int spins = 0;
  for (;;) {
    while (locked_.load(std::memory_order_relaxed)) {
      if (++spins < kSpinsBeforeYield) {
        cpu_relax();
      } else {
        sched_yield();
        spins = 0;
      }
    }
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
  }
}

}  // namespace csp::internal
