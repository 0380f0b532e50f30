#include "pipeline/entrance.h"

#include "csp/scheduler.h"

namespace pipeline {

PipelineEntrance::PipelineEntrance(std::string name, std::size_t capacity, std::size_t workers,
                                   std::shared_ptr<Consumer> next)
    : name_(std::move(name)),
      workers_(workers == 0 ? 1 : workers),
      next_(std::move(next)),
      queue_(capacity) {}

void PipelineEntrance::start() {
  running_.add(static_cast<std::int64_t>(workers_));
  for (std::size_t i = 0; i < workers_; ++i) csp::go(work());
}

csp::Task<absl::Status> PipelineEntrance::consume(csp::Context ctx, Batch batch) {
  csp::Chan<absl::Status> answer(1);
  if (!queue_.try_send(Item{ctx, std::move(batch), answer})) {
    co_return absl::UnavailableError("pipeline " + name_ + " is full");
  }
  auto got = co_await csp::recv_ctx(ctx, answer);
  if (!got.ok()) co_return got.status();  // the client gave up waiting
  if (!got->has_value()) co_return absl::UnavailableError("pipeline " + name_ + " shut down");
  co_return std::move(**got);
}

csp::Task<void> PipelineEntrance::work() {
  while (auto item = co_await queue_.recv()) {
    // The client stopped waiting (its request timed out and was answered "retry"): passing the
    // batch on now would deliver it twice once the client retries.
    if (item->ctx.is_done()) continue;
    absl::Status s = co_await next_->consume(item->ctx, std::move(item->batch));
    item->answer.try_send(std::move(s));
  }
  running_.done();
}

csp::Task<void> PipelineEntrance::shutdown() {
  queue_.close();
  co_await running_.wait();
}

}  // namespace pipeline
