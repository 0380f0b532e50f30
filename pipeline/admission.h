#pragma once
// Admission control: the collector's memory budget, in bytes the process knows it holds.
//
// Two kinds of bytes are counted:
//  - claimed: bytes a server is about to buffer, inflate or decode for a request, and the
//    request while the pipelines handle it. A claim (claim()) is a shared pointer; the bytes
//    count while any copy of it lives and are given back when the last copy is dropped. The
//    receivers hand claim() to their servers as the transport::MemoryReserver, so a request is
//    refused before its bytes are read, inflated or decoded.
//  - held: data accepted and still buffered inside the collector (batch processors, exporter
//    queues and their retries). hold() returns a MemoryTicket, which a component that buffers
//    a batch puts in the batch (Batch::memory): the bytes count as held until the batch leaves
//    memory (is sent, dropped or merged into a larger one, which gets its own ticket). A copy of
//    a ticket holds the bytes again, because a copied batch is a second copy of the bytes.
// A claim is refused when (claimed + held + its size) would pass the soft limit, when claimed
// bytes alone would pass the spike allowance (a single claim may exceed the allowance as long as
// it fits the soft limit), or while the memory limiter's resident-memory check has tightened
// the budget (set_over_limit; bounded in time, see memory_limiter.h). The limits come from the
// memory_limiter processor's config; without one, every claim is granted (channels and queues
// still bound the number of batches).
//
// Decisions depend only on these counters, which fall as data drains: nothing here latches.
//
// Thread-safety: all methods are safe from any thread; claims may be dropped on any thread.
// The Admission must outlive every claim it granted.

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

namespace pipeline {

class Admission;

// Bytes counted as held while the ticket lives (see Admission::hold). Move-only semantics on
// move; copying holds the same number of bytes again. A default ticket holds nothing.
class MemoryTicket {
 public:
  MemoryTicket() = default;
  MemoryTicket(const MemoryTicket& other);
  MemoryTicket& operator=(const MemoryTicket& other);
  MemoryTicket(MemoryTicket&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  MemoryTicket& operator=(MemoryTicket&& other) noexcept {
    if (this != &other) {
      reset();
      owner_ = std::exchange(other.owner_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  ~MemoryTicket() { reset(); }

  std::int64_t bytes() const { return bytes_; }
  // Gives the bytes back now.
  void reset();

 private:
  friend class Admission;
  MemoryTicket(Admission* owner, std::int64_t bytes) : owner_(owner), bytes_(bytes) {}
  Admission* owner_ = nullptr;
  std::int64_t bytes_ = 0;
};

class Admission {
 public:
  // Sets the limits (memory_limiter): claimed bytes at once (spike allowance), and claimed plus
  // held bytes (soft limit). 0 = no limit.
  void configure(std::int64_t spike_limit, std::int64_t soft_limit) {
    spike_limit_.store(spike_limit, std::memory_order_relaxed);
    soft_limit_.store(soft_limit, std::memory_order_relaxed);
  }
  std::int64_t soft_limit() const { return soft_limit_.load(std::memory_order_relaxed); }

  // A claim on `bytes` (>= 0) of the budget, or nullptr if it must be refused. Never blocks.
  std::shared_ptr<void> claim(std::int64_t bytes) {
    if (bytes < 0) bytes = 0;
    if (over_limit_.load(std::memory_order_relaxed)) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    const std::int64_t spike = spike_limit_.load(std::memory_order_relaxed);
    const std::int64_t soft = soft_limit_.load(std::memory_order_relaxed);
    // Add first, then check: two racing claims cannot both slip under a limit.
    const std::int64_t now = claimed_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    const bool over_spike = spike > 0 && now > spike && now != bytes;
    const bool over_soft = soft > 0 && now + held_.load(std::memory_order_relaxed) > soft;
    if (over_spike || over_soft) {
      claimed_.fetch_sub(bytes, std::memory_order_relaxed);
      refused_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    return std::make_shared<Claim>(this, bytes);
  }

  // Data accepted and buffered (see above): held until the ticket is dropped. Never refused:
  // the data is already in memory, the ticket only accounts for it.
  MemoryTicket hold(std::int64_t bytes) {
    if (bytes <= 0) return {};
    held_.fetch_add(bytes, std::memory_order_relaxed);
    return MemoryTicket(this, bytes);
  }

  std::int64_t claimed() const { return claimed_.load(std::memory_order_relaxed); }
  std::int64_t held() const { return held_.load(std::memory_order_relaxed); }
  // What the process knows it holds: claimed + held.
  std::int64_t used() const { return claimed() + held(); }
  // Claims refused so far (for logs and tests).
  std::int64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  // The memory limiter's resident-memory check tightens (true) or relaxes (false) the budget:
  // while tightened every claim is refused. The limiter bounds how long this stays true.
  void set_over_limit(bool over) { over_limit_.store(over, std::memory_order_relaxed); }
  bool over_limit() const { return over_limit_.load(std::memory_order_relaxed); }

  // Several pipelines may each have a memory limiter; one of them (the first to ask) runs the
  // resident-memory check, so that transitions are decided and logged once.
  bool take_rss_check(const void* owner) {
    const void* expected = nullptr;
    return rss_checker_.compare_exchange_strong(expected, owner);
  }
  void give_up_rss_check(const void* owner) {
    const void* expected = owner;
    rss_checker_.compare_exchange_strong(expected, nullptr);
  }

 private:
  struct Claim {
    Claim(Admission* owner, std::int64_t bytes) : owner_(owner), bytes_(bytes) {}
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    ~Claim() { owner_->claimed_.fetch_sub(bytes_, std::memory_order_relaxed); }
    Admission* owner_;
    std::int64_t bytes_;
  };

  std::atomic<std::int64_t> claimed_{0};
  std::atomic<std::int64_t> held_{0};
  std::atomic<std::int64_t> spike_limit_{0};
  std::atomic<std::int64_t> soft_limit_{0};
  std::atomic<std::int64_t> refused_{0};
  std::atomic<bool> over_limit_{false};
  std::atomic<const void*> rss_checker_{nullptr};

  friend class MemoryTicket;
};

inline MemoryTicket::MemoryTicket(const MemoryTicket& other)
    : MemoryTicket(other.owner_ == nullptr ? MemoryTicket() : other.owner_->hold(other.bytes_)) {}

inline MemoryTicket& MemoryTicket::operator=(const MemoryTicket& other) {
  if (this != &other) *this = MemoryTicket(other);
  return *this;
}

inline void MemoryTicket::reset() {
  if (owner_ != nullptr) owner_->held_.fetch_sub(bytes_, std::memory_order_relaxed);
  owner_ = nullptr;
  bytes_ = 0;
}

}  // namespace pipeline
