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
  if (!queue_config_.enabled) {
    // Without a queue the caller learns the outcome: only a delivered batch counts as accepted.
    absl::Status s = co_await send_with_retry(ctx, batch);
    if (s.ok()) accepted_items_ += batch.items;
    co_return s;
  }
  const std::int64_t items = batch.items;
  // Held until a sender has sent or dropped it. While the queue is full the caller waits for
  // room, until its own deadline (backpressure, not an unbounded buffer).
  if (batch.memory.bytes() == 0) {
    batch.memory = host_.admission().hold(static_cast<std::int64_t>(batch.bytes.size()));
  }
  absl::Status s = co_await csp::send_ctx(ctx, queue_, std::move(batch));
  if (s.ok()) {
    accepted_items_ += items;
    co_return s;
  }
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
      delivering_.store(true, std::memory_order_relaxed);
      sent_items_ += batch.items;
      co_return absl::OkStatus();
    }
    // Why a batch is dropped decides which count it goes to. Drops at shutdown are reported
    // together when the shutdown ends (one line), the others one by one.
    enum class Why { kPermanent, kExhausted, kShutdown };
    auto give_up = [&](Why why, std::string_view text) {
      const bool queued = queue_config_.enabled;
      switch (why) {
        case Why::kPermanent:
          if (queued) dropped_permanent_ += batch.items;
          break;
        case Why::kExhausted:
          if (queued) dropped_exhausted_ += batch.items;
          break;
        case Why::kShutdown:
          if (queued) {
            dropped_shutdown_ += batch.items;
            ++dropped_shutdown_batches_;
            return out.status;
          }
          break;
      }
      host_.log(pipeline::LogLevel::kError, id_,
                absl::StrCat("dropping ", batch.items, " items after ", attempt,
                             " attempt(s): ", std::string(text), ": ", out.status.ToString()));
      return out.status;
    };
    if (!out.retryable) co_return give_up(Why::kPermanent, "not retryable");
    delivering_.store(false, std::memory_order_relaxed);
    if (!retry_.enabled) co_return give_up(Why::kExhausted, "retries disabled");
    if (ctx.is_done()) co_return give_up(Why::kShutdown, "shutting down");
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
      co_return give_up(Why::kExhausted, "retry time exhausted");
    }
    host_.log(
        pipeline::LogLevel::kDebug, id_,
        absl::StrCat("attempt ", attempt, " failed (", out.status.ToString(), "); retrying in ",
                     std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), "ms"));
    const std::size_t k = co_await csp::select(csp::recv(csp::after(wait)), csp::recv(ctx.done()));
    if (k == 1) co_return give_up(Why::kShutdown, "shutting down");
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
  if (const std::int64_t lost = dropped_shutdown_.load(); lost > 0) {
    host_.log(pipeline::LogLevel::kError, id_,
              absl::StrCat(lost, " items in ", dropped_shutdown_batches_.load(),
                           " batches could not be delivered before the shutdown deadline and "
                           "were dropped (the sending queue is in memory)"));
  }
}

ExportCounts QueuedRetryExporter::counts() const {
  ExportCounts c;
  // Read the outcomes before `accepted`, so a batch finishing meanwhile never makes pending
  // negative.
  c.sent = sent_items_.load();
  c.dropped_permanent = dropped_permanent_.load();
  c.dropped_retries_exhausted = dropped_exhausted_.load();
  c.dropped_shutdown = dropped_shutdown_.load();
  c.accepted = accepted_items_.load();
  return c;
}

}  // namespace components
