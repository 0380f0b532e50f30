#pragma once
// csp::Semaphore: a counting semaphore for goroutines, built the Go way on a buffered channel of
// `permits` slots: acquiring sends into it (and waits while it is full), releasing receives.
// So acquisition is FIFO among waiters and composes with select and contexts.
//
// Contract: release() without a matching acquire is misuse and returns false.

#include <cstddef>

#include "absl/status/status.h"
#include "csp/chan.h"
#include "csp/context.h"

namespace csp {

class Semaphore {
 public:
  explicit Semaphore(std::size_t permits) : slots_(permits) {}

  // co_await sem.acquire(): true once a permit is held (false only if the semaphore was closed).
  [[nodiscard]] auto acquire() const { return slots_.send(Unit{}); }
  // A permit, or ctx.err() if the context is done first.
  Task<absl::Status> acquire(const Context& ctx) const { return send_ctx(ctx, slots_, Unit{}); }
  bool try_acquire() const { return slots_.try_send(Unit{}); }
  bool release() const { return slots_.try_recv().has_value(); }

  std::size_t in_use() const { return slots_.size(); }
  std::size_t permits() const { return slots_.capacity(); }

 private:
  Chan<Unit> slots_;
};

}  // namespace csp
