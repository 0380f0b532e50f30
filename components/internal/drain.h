#pragma once
// Shutdown helper shared by components that drain on shutdown (batch processor, exporter queue).

#include "csp/chan.h"
#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/select.h"

namespace components {

// Calls `stop` once `deadline` is done, unless the returned channel is closed first (close it
// when the drain has finished). So retries may go on until the shutdown deadline, and no longer.
inline csp::Chan<csp::Unit> stop_at_deadline(csp::Context deadline, csp::CancelFunc stop) {
  csp::Chan<csp::Unit> finished(0);
  csp::go(
      [](csp::Context d, csp::CancelFunc s, csp::Chan<csp::Unit> f) -> csp::Task<void> {
        co_await csp::select(csp::recv(d.done()), csp::recv(f));
        s();
      },
      std::move(deadline), std::move(stop), finished);
  return finished;
}

}  // namespace components
