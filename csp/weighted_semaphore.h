#pragma once
// csp::WeightedSemaphore: a semaphore whose acquirers take n units at once (the shape of Go's
// golang.org/x/sync/semaphore.Weighted), for bounds that are not counted in items of one size:
// a queue bounded by the spans in it rather than by the requests.
//
// Contract:
//  - acquire(ctx, n) waits until n units are free and takes them, or returns ctx.err() once the
//    context is done (taking nothing). Waiters are served in arrival order: a large request at
//    the head is not overtaken by later small ones, so it cannot starve.
//  - A request larger than the whole capacity is granted only when nothing else is held (so it
//    runs alone instead of never), and holds the semaphore until released.
//  - release(n) gives back what an acquire took, and grants waiters from the head while they fit.
//  - Every method may be called from any goroutine or thread. The semaphore must outlive its
//    waiters.

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "csp/chan.h"
#include "csp/context.h"
#include "csp/select.h"

namespace csp {

class WeightedSemaphore {
 public:
  explicit WeightedSemaphore(std::int64_t capacity) : capacity_(capacity) {}
  WeightedSemaphore(const WeightedSemaphore&) = delete;
  WeightedSemaphore& operator=(const WeightedSemaphore&) = delete;

  Task<absl::Status> acquire(Context ctx, std::int64_t n) {
    Chan<Unit> granted;
    {
      std::lock_guard lock(mu_);
      if (waiters_.empty() && fits(n)) {
        held_ += n;
        co_return absl::OkStatus();
      }
      granted = Chan<Unit>(1);
      waiters_.push_back(Waiter{n, granted});
    }
    Chan<Unit> done = ctx.done();
    const std::size_t k = co_await select(recv(granted), recv(done));
    if (k == 0) co_return absl::OkStatus();
    // The context ended. A grant may have raced with it: then give the units back.
    bool grant_raced = false;
    {
      std::lock_guard lock(mu_);
      if (granted.try_recv().has_value()) {
        grant_raced = true;
      } else {
        const bool was_head = !waiters_.empty() && waiters_.front().granted == granted;
        std::erase_if(waiters_, [&](const Waiter& w) { return w.granted == granted; });
        // Leaving the head may let the ones behind it in.
        if (was_head) grant_waiters_locked();
      }
    }
    if (grant_raced) release(n);
    co_return ctx.err();
  }

  bool try_acquire(std::int64_t n) {
    std::lock_guard lock(mu_);
    if (!waiters_.empty() || !fits(n)) return false;
    held_ += n;
    return true;
  }

  void release(std::int64_t n) {
    std::lock_guard lock(mu_);
    held_ -= n;
    grant_waiters_locked();
  }

  std::int64_t held() const {
    std::lock_guard lock(mu_);
    return held_;
  }
  std::int64_t capacity() const { return capacity_; }
  std::size_t waiting() const {
    std::lock_guard lock(mu_);
    return waiters_.size();
  }

 private:
  struct Waiter {
    std::int64_t n;
    Chan<Unit> granted;  // capacity 1: the grant never blocks the releaser
  };

  bool fits(std::int64_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return held_ + n <= capacity_ || held_ == 0;
  }

  void grant_waiters_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!waiters_.empty() && fits(waiters_.front().n)) {
      held_ += waiters_.front().n;
      waiters_.front().granted.try_send(Unit{});
      waiters_.pop_front();
    }
  }

  const std::int64_t capacity_;
  mutable std::mutex mu_;
  std::int64_t held_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace csp
