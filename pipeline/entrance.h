#pragma once
// PipelineEntrance: the head of a pipeline — a limit on the batches inside it at once, and the
// barrier that shutdown waits on.
//
// Contract:
//  - consume() runs the pipeline on the caller's goroutine (no hand-off: a batch costs no
//    goroutine switch here). While `capacity` batches are inside, it waits for room until the
//    caller's context is done, then refuses with UNAVAILABLE (backpressure to the client, which
//    retries). A caller whose context is already done is refused without entering: it was told
//    to retry, and passing the batch on would deliver it twice.
//  - shutdown(ctx) refuses new batches from then on and waits until every batch that entered has
//    left (been answered by the pipeline), or until ctx is done. Processors may then shut down
//    knowing no caller is still inside them.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "csp/chan.h"
#include "csp/context.h"
#include "csp/semaphore.h"
#include "pipeline/component.h"

namespace pipeline {

class PipelineEntrance final : public Consumer {
 public:
  PipelineEntrance(std::string name, std::size_t capacity, std::shared_ptr<Consumer> next);

  csp::Task<absl::Status> consume(csp::Context ctx, Batch batch) override;
  csp::Task<void> shutdown(csp::Context ctx);
  bool delivering() const override { return next_->delivering(); }
  bool durable() const override { return next_->durable(); }

  // Batches inside the pipeline now (for tests and status).
  std::size_t inside() const { return slots_.in_use(); }
  // True once shutdown() began.
  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

 private:
  // Counts the caller in, unless shut down; leave() counts it out.
  bool enter();
  void leave();

  std::string name_;
  std::shared_ptr<Consumer> next_;
  csp::Semaphore slots_;
  mutable std::mutex mu_;
  bool closed_ = false;         // guarded by mu_; set by shutdown()
  std::size_t callers_ = 0;     // guarded by mu_; callers between enter() and leave()
  csp::Chan<csp::Unit> empty_;  // closed once closed_ and no caller is inside
};

}  // namespace pipeline
