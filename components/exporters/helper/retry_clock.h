#pragma once
// RetryClock: where QueuedRetryExporter reads the time and how it waits between attempts.
//
// The exporter measures max_elapsed_time with now() and waits out every backoff or server
// retry-after with sleep(), both on the same clock, so the two always agree. The real clock
// (real_retry_clock()) is the steady clock and a timer; a test substitutes a clock that records
// each wait asked for and returns at once (components/exporters/testing/manual_retry_clock.h),
// which makes retry schedules checkable exactly and without waiting for them.
//
// Contract:
//  - now() is monotonic. It may be called from any goroutine or thread at any time.
//  - sleep(d, ctx) is a goroutine-only coroutine. It returns true once d has passed on this
//    clock, false if ctx was done first (or already done); it must return promptly once ctx is
//    done, since shutdown deadlines reach a waiting sender only through ctx.
//  - One clock may serve several exporters and several senders at once: both calls are
//    thread-safe.
//  - Not governed by the clock: the per-attempt timeout, which the transport enforces against
//    the real clock (a hung backend takes real time to time out).

#include <memory>

#include "csp/context.h"
#include "csp/task.h"
#include "csp/timer.h"

namespace components {

class RetryClock {
 public:
  virtual ~RetryClock() = default;
  virtual csp::TimePoint now() = 0;
  virtual csp::Task<bool> sleep(csp::Duration d, csp::Context ctx) = 0;
};

// The steady clock and csp timers; shared, never destroyed before the exporters using it.
std::shared_ptr<RetryClock> real_retry_clock();

}  // namespace components
