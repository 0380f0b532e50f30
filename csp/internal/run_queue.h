#pragma once
// RunQueue: a worker's local queue of runnable goroutines (coroutine frame addresses).
//
// Single producer (the owning worker pushes at the tail), many consumers (the owner and
// thieves take from the head by compare-and-swap). Fixed capacity; push fails when full and the
// owner then moves half of the queue to the scheduler's global queue.
//
// Why the racy reads are safe: a consumer reads slots [head, head+n) and then claims them with a
// CAS on head. The owner overwrites a slot only after observing head past it, so a slot read by
// a consumer can change only if head has moved on, and then that consumer's CAS fails and it
// discards what it read. Slots are relaxed atomics so that this benign race is also well defined.

#include <array>
#include <atomic>
#include <cstdint>

namespace csp::internal {

class RunQueue {
 public:
  static constexpr std::uint32_t kCapacity = 256;

  // Owner only. False when full.
  bool push(void* g) noexcept {
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    const std::uint32_t h = head_.load(std::memory_order_acquire);
    if (t - h >= kCapacity) return false;
    slots_[t % kCapacity].store(g, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // Any thread (normally the owner). Null when empty.
  void* pop() noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t t = tail_.load(std::memory_order_acquire);
      if (t == h) return nullptr;
      void* g = slots_[h % kCapacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return g;
      }
    }
  }

  // Any thread: takes half of the queue (rounded up), at most max, into out. Returns how many.
  std::uint32_t grab(void** out, std::uint32_t max) noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_acquire);
      std::uint32_t n = t - h;
      n -= n / 2;
      if (n == 0) return 0;
      if (n > kCapacity / 2) continue;  // head and tail read at different moments; try again
      if (n > max) n = max;
      for (std::uint32_t i = 0; i < n; ++i) {
        out[i] = slots_[(h + i) % kCapacity].load(std::memory_order_relaxed);
      }
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        return n;
      }
    }
  }

  // A snapshot; exact only when no one else touches the queue.
  std::uint32_t size() const noexcept {
    const std::uint32_t h = head_.load(std::memory_order_acquire);
    const std::uint32_t t = tail_.load(std::memory_order_acquire);
    return t - h;
  }
  bool empty() const noexcept { return size() == 0; }

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::array<std::atomic<void*>, kCapacity> slots_{};
};

}  // namespace csp::internal
