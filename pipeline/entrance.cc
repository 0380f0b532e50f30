#include "pipeline/entrance.h"

#include "absl/strings/str_cat.h"
#include "csp/select.h"

namespace pipeline {

PipelineEntrance::PipelineEntrance(std::string name, std::size_t capacity,
                                   std::shared_ptr<Consumer> next)
    : name_(std::move(name)),
      next_(std::move(next)),
      slots_(capacity == 0 ? 1 : capacity),
      empty_(0) {}

bool PipelineEntrance::enter() {
  // Under the lock, so that shutdown() either sees this caller counted or refuses it.
  std::lock_guard lock(mu_);
  if (closed_) return false;
  ++callers_;
  return true;
}

void PipelineEntrance::leave() {
  std::lock_guard lock(mu_);
  if (--callers_ == 0 && closed_) empty_.close();
}

csp::Task<absl::Status> PipelineEntrance::consume(csp::Context ctx, Batch batch) {
  if (ctx.is_done()) {
    co_return absl::UnavailableError(absl::StrCat("pipeline ", name_, ": the caller gave up"));
  }
  if (!enter()) co_return absl::UnavailableError(absl::StrCat("pipeline ", name_, " shut down"));
  absl::Status s;
  if (!slots_.try_acquire()) s = co_await slots_.acquire(ctx);
  if (s.ok()) {
    s = co_await next_->consume(ctx, std::move(batch));
    slots_.release();
  } else {
    s = absl::UnavailableError(absl::StrCat("pipeline ", name_, " is full: ", s.message()));
  }
  leave();
  co_return s;
}

csp::Task<void> PipelineEntrance::shutdown(csp::Context ctx) {
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      closed_ = true;
      if (callers_ == 0) empty_.close();
    }
  }
  // Every caller inside answers by its own deadline; ctx bounds the wait all the same.
  co_await csp::select(csp::recv(empty_), csp::recv(ctx.done()));
}

}  // namespace pipeline
