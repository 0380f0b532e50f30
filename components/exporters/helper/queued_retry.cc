#include "components/exporters/helper/queued_retry.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "components/internal/drain.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"

namespace components {

QueuedRetryExporter::QueuedRetryExporter(std::string id, QueueConfig queue, RetryConfig retry,
                                         csp::Duration timeout, SendFn send, pipeline::Host& host)
    : id_(std::move(id)),
      queue_config_(queue),
      retry_(retry),
      timeout_(timeout),
      send_(std::move(send)),
      host_(host),
      queue_(queue.enabled ? std::max<std::size_t>(queue.queue_size, 1) : 1) {
  std::tie(stop_ctx_, stop_) = csp::with_cancel(csp::Context::background());
}

csp::Task<absl::Status> QueuedRetryExporter::start() {
  if (queue_config_.enabled) {
    const std::size_t n = std::max<std::size_t>(queue_config_.num_consumers, 1);
    senders_.add(static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) csp::go(sender());
  }
  co_return absl::OkStatus();
}

csp::Task<absl::Status> QueuedRetryExporter::consume(csp::Context ctx, pipeline::Batch batch) {
  if (shut_down_.load(std::memory_order_acquire)) {
    co_return absl::UnavailableError(absl::StrCat("exporter ", id_, " is shut down"));
  }
  if (!queue_config_.enabled) co_return co_await send_with_retry(ctx, batch);
  // Held until a sender has sent or dropped it. While the queue is full the caller waits for
  // room, until its own deadline (backpressure, not an unbounded buffer).
  if (batch.memory.bytes() == 0) {
    batch.memory = host_.admission().hold(static_cast<std::int64_t>(batch.bytes.size()));
  }
  absl::Status s = co_await csp::send_ctx(ctx, queue_, std::move(batch));
  if (s.ok()) co_return s;
  if (s.code() == absl::StatusCode::kFailedPrecondition) {
    co_return absl::UnavailableError(absl::StrCat("exporter ", id_, " is shut down"));
  }
  co_return absl::UnavailableError(
      absl::StrCat("exporter ", id_, ": sending queue is full: ", s.message()));
}

csp::Task<void> QueuedRetryExporter::sender() {
  while (auto batch = co_await queue_.recv()) {
    (void)co_await send_with_retry(stop_ctx_, *batch);
    // Leaving the loop body destroys the batch, and with it its memory ticket.
  }
  senders_.done();
}

csp::Duration QueuedRetryExporter::next_backoff(csp::Duration current) const {
  auto next = std::chrono::duration_cast<csp::Duration>(current * retry_.multiplier);
  return std::min(next, retry_.max_interval);
}

csp::Task<absl::Status> QueuedRetryExporter::send_with_retry(csp::Context ctx,
                                                             const pipeline::Batch& batch) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const csp::TimePoint started = csp::Clock::now();
  csp::Duration backoff = retry_.initial_interval;
  for (int attempt = 1;; ++attempt) {
    auto [attempt_ctx, cancel] = csp::with_timeout(ctx, timeout_);
    SendOutcome out = co_await send_(batch.signal, batch.bytes, attempt_ctx);
    cancel();
    if (out.status.ok()) {
      sent_items_ += batch.items;
      co_return absl::OkStatus();
    }
    auto give_up = [&](std::string_view why) {
      dropped_items_ += batch.items;
      host_.log(pipeline::LogLevel::kError, id_,
                absl::StrCat("dropping ", batch.items, " items after ", attempt,
                             " attempt(s): ", std::string(why), ": ", out.status.ToString()));
      return out.status;
    };
    if (!out.retryable) co_return give_up("not retryable");
    if (!retry_.enabled) co_return give_up("retries disabled");
    if (ctx.is_done()) co_return give_up("shutting down");
    // Wait the server's retry-after if it gave one, else the backoff with jitter.
    csp::Duration wait = backoff;
    if (out.retry_after) {
      wait = *out.retry_after;
    } else if (retry_.randomization_factor > 0) {
      std::uniform_real_distribution<double> jitter(1 - retry_.randomization_factor,
                                                    1 + retry_.randomization_factor);
      wait = std::chrono::duration_cast<csp::Duration>(wait * jitter(rng));
    }
    if (retry_.max_elapsed_time > csp::Duration::zero() &&
        csp::Clock::now() + wait - started > retry_.max_elapsed_time) {
      co_return give_up("retry time exhausted");
    }
    host_.log(
        pipeline::LogLevel::kDebug, id_,
        absl::StrCat("attempt ", attempt, " failed (", out.status.ToString(), "); retrying in ",
                     std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), "ms"));
    const std::size_t k = co_await csp::select(csp::recv(csp::after(wait)), csp::recv(ctx.done()));
    if (k == 1) co_return give_up("shutting down");
    backoff = next_backoff(backoff);
  }
}

csp::Task<void> QueuedRetryExporter::shutdown(csp::Context ctx) {
  shut_down_.store(true, std::memory_order_release);
  queue_.close();
  DeadlineStop deadline_stop(ctx, stop_);
  if (queue_config_.enabled) co_await senders_.wait();
  // Also joins the deadline watcher (a named Task: docs/csp.md, g++ 12).
  csp::Task<void> finished = deadline_stop.finish();
  co_await std::move(finished);
  stop_();
}

}  // namespace components
