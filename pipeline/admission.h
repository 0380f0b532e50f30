#pragma once
// Admission control at the receivers: a request is let in only if the process is not over its
// memory limit and the bytes it adds fit the budget. Decided before decoding, so an overloaded
// collector refuses work cheaply instead of growing.
//
// Two kinds of bytes are counted:
//  - in flight: requests received and not yet answered (a Ticket, released when the receiver
//    has answered its client);
//  - held: data accepted and still buffered inside the collector (batch processors, exporter
//    queues and their retries), added with hold() and returned with release().
// A request is refused when (in flight + held + its size) would pass the soft limit, or when
// in-flight bytes alone would pass the spike allowance, or when the memory limiter's periodic
// check found the process above its soft limit. The limits come from the memory_limiter
// processor's config; without one, everything is let in (channels and queues still bound the
// number of batches).
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

  // Sets the limits (memory_limiter): bytes of requests being handled at once, and bytes in
  // flight plus held. 0 = no limit.
  void configure(std::int64_t in_flight_limit, std::int64_t soft_limit) {
    in_flight_limit_.store(in_flight_limit, std::memory_order_relaxed);
    soft_limit_.store(soft_limit, std::memory_order_relaxed);
  }
  // Data accepted and buffered (see above).
  void hold(std::int64_t bytes) { held_.fetch_add(bytes, std::memory_order_relaxed); }
  void release(std::int64_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::int64_t held() const { return held_.load(std::memory_order_relaxed); }
  // The memory limiter's periodic check says whether the process is over its soft limit.
  void set_over_limit(bool over) { over_limit_.store(over, std::memory_order_relaxed); }
  bool over_limit() const { return over_limit_.load(std::memory_order_relaxed); }

  // A ticket for `bytes`, or nothing if the request must be refused.
  std::optional<Ticket> admit(std::int64_t bytes) {
    if (over_limit_.load(std::memory_order_relaxed)) return std::nullopt;
    const std::int64_t limit = in_flight_limit_.load(std::memory_order_relaxed);
    const std::int64_t soft = soft_limit_.load(std::memory_order_relaxed);
    const std::int64_t now = in_flight_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    const bool over_spike = limit > 0 && now > limit && now != bytes;  // one alone may pass
    const bool over_soft = soft > 0 && now + held_.load(std::memory_order_relaxed) > soft;
    if (over_spike || over_soft) {
      in_flight_.fetch_sub(bytes, std::memory_order_relaxed);
      return std::nullopt;
    }
    return Ticket(this, bytes);
  }

  std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> in_flight_limit_{0};
  std::atomic<std::int64_t> soft_limit_{0};
  std::atomic<std::int64_t> held_{0};
  std::atomic<bool> over_limit_{false};
};

}  // namespace pipeline
