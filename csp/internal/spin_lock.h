#pragma once
// SpinLock: a test-and-test-and-set lock for critical sections of a few dozen instructions
// (channel state, wait queues). Never suspend a goroutine or block a thread while holding one.
// After a short spin it yields the CPU, so a holder that was preempted is not starved.

#include <atomic>

namespace csp::internal {

class SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    lock_slow();
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  void lock_slow() noexcept;

  std::atomic<bool> locked_{false};
};

// One CPU hint for "I am spinning": lets a hyper-thread sibling run and saves power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace csp::internal
