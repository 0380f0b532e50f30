#pragma once
// Admission control at the receivers: a request is let in only if the bytes it adds to those
// already in flight (received and not yet answered) stay under the limit, and the process is
// not over its memory limit. Decided before decoding, so an overloaded collector refuses work
// cheaply instead of growing.
//
// The limits come from the memory_limiter processor's config; without one, everything is let in.
// A Ticket returns its bytes when destroyed (when the receiver has answered its client).
//
// Thread-safety: all methods are safe from any thread.

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

namespace pipeline {

class Admission {
 public:
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Admission* a, std::int64_t bytes) : owner_(a), bytes_(bytes) {}
    Ticket(Ticket&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), bytes_(o.bytes_) {}
    Ticket& operator=(Ticket&& o) noexcept {
      release();
      owner_ = std::exchange(o.owner_, nullptr);
      bytes_ = o.bytes_;
      return *this;
    }
    ~Ticket() { release(); }

   private:
    void release() {
      if (owner_ != nullptr) owner_->in_flight_.fetch_sub(bytes_, std::memory_order_relaxed);
      owner_ = nullptr;
    }
    Admission* owner_ = nullptr;
    std::int64_t bytes_ = 0;
  };

  // Sets the limits (memory_limiter). in_flight_limit: bytes of requests being handled at once.
  void configure(std::int64_t in_flight_limit) {
    in_flight_limit_.store(in_flight_limit, std::memory_order_relaxed);
  }
  // The memory limiter's periodic check says whether the process is over its soft limit.
  void set_over_limit(bool over) { over_limit_.store(over, std::memory_order_relaxed); }
  bool over_limit() const { return over_limit_.load(std::memory_order_relaxed); }

  // A ticket for `bytes`, or nothing if the request must be refused.
  std::optional<Ticket> admit(std::int64_t bytes) {
    if (over_limit_.load(std::memory_order_relaxed)) return std::nullopt;
    const std::int64_t limit = in_flight_limit_.load(std::memory_order_relaxed);
    const std::int64_t now = in_flight_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    if (limit > 0 && now > limit && now != bytes) {  // one request alone is always let in
      in_flight_.fetch_sub(bytes, std::memory_order_relaxed);
      return std::nullopt;
    }
    return Ticket(this, bytes);
  }

  std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> in_flight_limit_{0};
  std::atomic<bool> over_limit_{false};
};

}  // namespace pipeline
