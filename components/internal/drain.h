#pragma once
// Shutdown helper shared by components that drain on shutdown (batch processor, exporter queue).

#include "csp/chan.h"
#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/select.h"

namespace components {

// Calls `stop` once the deadline is done, unless finish() comes first (call it when the drain
// has finished). So retries may go on until the shutdown deadline, and no longer. finish()
// returns once the watching goroutine has ended, so a shutdown that awaits it leaves nothing
// running behind it.
class DeadlineStop {
 public:
  DeadlineStop(csp::Context deadline, csp::CancelFunc stop) {
    csp::go(
        [](csp::Context& d, csp::CancelFunc& s, csp::Chan<csp::Unit>& f,
           csp::Chan<csp::Unit>& e) -> csp::Task<void> {
          co_await csp::select(csp::recv(d.done()), csp::recv(f));
          s();
          e.close();
        },
        std::move(deadline), std::move(stop), finished_, ended_);
  }
  DeadlineStop(const DeadlineStop&) = delete;
  DeadlineStop& operator=(const DeadlineStop&) = delete;

  // Ends the watch (stop is still called once, now) and waits for the goroutine to end.
  [[nodiscard]] csp::Task<void> finish() {
    finished_.close();
    co_await ended_.recv();
  }

 private:
  csp::Chan<csp::Unit> finished_{0};
  csp::Chan<csp::Unit> ended_{0};
};

}  // namespace components
