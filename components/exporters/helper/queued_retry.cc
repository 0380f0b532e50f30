#include "components/exporters/helper/queued_retry.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "absl/strings/str_cat.h"
#include "components/exporters/helper/queue_record.h"
#include "components/extensions/file_storage/file_storage.h"
#include "components/internal/drain.h"
#include "csp/scheduler.h"
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
      queue_(!queue.enabled ? 1
             : queue.sizer == QueueSizer::kItems
                 ? std::clamp<std::size_t>(queue.queue_size, 1, QueueConfig::kMaxQueuedBatches)
                 : std::max<std::size_t>(queue.queue_size, 1)) {
  if (queue.enabled && queue.storage.empty() && queue.sizer == QueueSizer::kItems) {
    queued_items_ =
        std::make_unique<csp::WeightedSemaphore>(static_cast<std::int64_t>(queue.queue_size));
  }
  if (queue.enabled && queue.storage.empty()) queue_.set_name("exporter " + id_ + " sending queue");
  std::tie(stop_ctx_, stop_) = csp::with_cancel(csp::Context::background());
  std::tie(take_ctx_, stop_taking_) = csp::with_cancel(csp::Context::background());
  // With a durable queue, time-based loss is something the user asks for, not a default.
  if (!queue_config_.storage.empty() && !retry_.max_elapsed_time_set) {
    retry_.max_elapsed_time = csp::Duration::zero();
  }
}

QueuedRetryExporter::~QueuedRetryExporter() {
  host_.telemetry().remove_gauges(this);
  stop_taking_();
  stop_();
}

namespace {

// "otlp/backup" -> "exporter_otlp_backup": one directory per exporter id.
std::string log_name(const std::string& id) {
  std::string name = "exporter_";
  for (char c : id) name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return name;
}

}  // namespace

absl::Status QueuedRetryExporter::open_log() {
  auto extension = std::dynamic_pointer_cast<FileStorage>(host_.extension(queue_config_.storage));
  if (extension == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("sending_queue::storage: \"",
                                                      queue_config_.storage,
                                                      "\" is not a file_storage extension "
                                                      "listed in service::extensions"));
  }
  storage::DurableLogOptions options;
  if (queue_config_.sizer == QueueSizer::kBytes) {
    options.max_total_bytes = queue_config_.queue_size;
    options.max_segment_bytes =
        std::min<std::uint64_t>(storage::kDefaultMaxSegmentBytes, options.max_total_bytes / 4);
  }
  auto log = extension->open_log(log_name(id_), options);
  if (!log.ok()) {
    return absl::Status(log.status().code(),
                        absl::StrCat("sending_queue::storage: ", log.status().message()));
  }
  log_ = *std::move(log);
  const storage::DurableLogStats stats = log_->stats();
  first_seq_this_run_ = stats.next_seq;
  recovered_batches_ = static_cast<std::int64_t>(stats.recovered);
  if (stats.recovered > 0) {
    host_.log(pipeline::LogLevel::kInfo, id_,
              absl::StrCat("durable queue: ", stats.recovered,
                           " batches from before the restart will be delivered (",
                           stats.recovery.corrupt_records_skipped, " corrupt records skipped, ",
                           stats.recovery.torn_bytes_truncated, " torn bytes truncated)"));
  }
  if (stats.recovery.crash_limit_reached > 0) {
    // The operator's cue that otlpd was crash-looping on these batches; they are kept in
    // dead_letter.log beside the queue, not sent.
    host_.log(pipeline::LogLevel::kWarn, id_,
              absl::StrCat("durable queue: ", stats.recovery.crash_limit_reached,
                           " batches were being exported at ", options.max_crashes_in_flight,
                           " crashes of otlpd; they go to dead_letter.log instead of being sent"));
  }
  return absl::OkStatus();
}

absl::Status QueuedRetryExporter::set_retry_clock(std::shared_ptr<RetryClock> clock) {
  if (started_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError(
        absl::StrCat("exporter ", id_, ": the retry clock can only be set before start()"));
  }
  clock_ = clock != nullptr ? std::move(clock) : real_retry_clock();
  return absl::OkStatus();
}

void QueuedRetryExporter::register_metrics() {
  telemetry::Registry& registry = host_.telemetry();
  const telemetry::Labels labels = {{"exporter", id_}};
  sent_metric_ = internal::SignalCounters(registry, "otelcol_exporter_sent_",
                                          "Items the backend accepted: ", labels);
  send_failed_metric_ = internal::SignalCounters(
      registry, "otelcol_exporter_send_failed_",
      "Items given up on (refused as bad, retries exhausted, or dropped at shutdown): ", labels);
  enqueue_failed_metric_ = internal::SignalCounters(
      registry, "otelcol_exporter_enqueue_failed_",
      "Items refused because the sending queue was full or unavailable: ", labels);
  latency_ = &registry.histogram(
      "otlpd_exporter_latency_seconds",
      "From the receipt of a batch's oldest item to the backend's acknowledgement, in seconds.",
      telemetry::latency_buckets_seconds(), labels);
  if (!queue_config_.enabled) return;
  // In the queue's sizer: batches, or items with sizer: items.
  registry.gauge(
      "otelcol_exporter_queue_size", "Batches (or items, with sizer: items) in the sending queue.",
      labels,
      [this] {
        if (log_ != nullptr) {
          return static_cast<double>(queue_config_.sizer == QueueSizer::kItems
                                         ? durable_items_.load(std::memory_order_relaxed)
                                         : static_cast<std::int64_t>(log_->pending()));
        }
        if (queued_items_ != nullptr) return static_cast<double>(queued_items_->held());
        return static_cast<double>(queue_.size());
      },
      this);
  registry.gauge(
      "otelcol_exporter_queue_capacity", "Capacity of the sending queue, in its sizer.", labels,
      [size = queue_config_.queue_size] { return static_cast<double>(size); }, this);
}

void QueuedRetryExporter::set_delivering(bool delivering) {
  // The flag and what the host knows change together: senders run concurrently, and a success
  // reported between another sender's flag flip and its report would leave the host saying
  // "failing" (health_check 503) while every export succeeds.
  std::lock_guard lock(delivering_mu_);
  if (delivering_.load(std::memory_order_relaxed) == delivering) return;
  delivering_.store(delivering, std::memory_order_relaxed);
  if (delivering) {
    host_.exporter_delivering(id_);
  } else {
    host_.exporter_failing(id_, csp::Clock::now());
  }
}

csp::Task<absl::Status> QueuedRetryExporter::start() {
  started_.store(true, std::memory_order_release);
  if (!queue_config_.storage.empty()) {
    if (absl::Status s = open_log(); !s.ok()) co_return s;
    register_metrics();  // after open_log: the queue's gauge reads log_
    const std::size_t n = std::max<std::size_t>(queue_config_.num_consumers, 1);
    senders_.add(static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) csp::go(durable_sender());
    co_return absl::OkStatus();
  }
  register_metrics();
  if (queue_config_.enabled) {
    const std::size_t n = std::max<std::size_t>(queue_config_.num_consumers, 1);
    senders_.add(static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) csp::go(sender());
  }
  co_return absl::OkStatus();
}

csp::Task<absl::Status> QueuedRetryExporter::consume(csp::Context ctx, pipeline::Batch batch) {
  const otlp::Signal signal = batch.signal;
  const std::int64_t items = batch.items;
  absl::Status s = co_await enqueue(std::move(ctx), std::move(batch));
  // Without a queue a refusal is the send's failure, counted where the send gave up.
  if (!s.ok() && queue_config_.enabled) enqueue_failed_metric_.add(signal, items);
  co_return s;
}

csp::Task<absl::Status> QueuedRetryExporter::enqueue(csp::Context ctx, pipeline::Batch batch) {
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
  if (log_ != nullptr) {
    if (queue_config_.sizer == QueueSizer::kRequests &&
        log_->pending() >= queue_config_.queue_size) {
      co_return absl::UnavailableError(absl::StrCat("exporter ", id_, ": sending queue is full (",
                                                    queue_config_.queue_size, " batches on disk)"));
    }
    // Items are reserved before anything is written, so concurrent callers cannot overshoot.
    const bool count_items = queue_config_.sizer == QueueSizer::kItems;
    if (count_items) {
      const std::int64_t before = durable_items_.fetch_add(items);
      if (before > 0 && before + items > static_cast<std::int64_t>(queue_config_.queue_size)) {
        durable_items_ -= items;
        co_return absl::UnavailableError(absl::StrCat("exporter ", id_, ": sending queue is full (",
                                                      before, " of ", queue_config_.queue_size,
                                                      " items on disk)"));
      }
    }
    // OK only once the record is on disk (and synced, unless the storage says otherwise).
    // The batch's bytes become the record: nothing reads them here after this.
    std::shared_ptr<pipeline::Reroute> reroute = std::move(batch.reroute);
    // The bytes stay in the memory budget until they are on disk.
    pipeline::MemoryTicket held = std::move(batch.memory);
    std::string record = encode_queue_record(std::move(batch));
    absl::StatusOr<std::uint64_t> seq = co_await log_->append(std::move(record));
    if (!seq.ok() && count_items) durable_items_ -= items;
    if (seq.ok()) {
      if (reroute != nullptr) remember_reroute(*seq, std::move(reroute));
      accepted_items_ += items;
      co_return absl::OkStatus();
    }
    co_return absl::UnavailableError(
        absl::StrCat("exporter ", id_,
                     seq.status().code() == absl::StatusCode::kResourceExhausted
                         ? ": sending queue is full: "
                         : ": could not persist the batch: ",
                     seq.status().message()));
  }
  if (!queue_config_.block_on_overflow) {
    if (queued_items_ != nullptr && !queued_items_->try_acquire(items)) {
      co_return absl::UnavailableError(absl::StrCat("exporter ", id_, ": sending queue is full (",
                                                    queued_items_->held(), " of ",
                                                    queue_config_.queue_size, " items)"));
    }
    if (batch.memory.bytes() == 0) {
      batch.memory = host_.admission().hold(pipeline::held_bytes(batch));
    }
    if (queue_.try_send(std::move(batch))) {
      accepted_items_ += items;
      co_return absl::OkStatus();
    }
    if (queued_items_ != nullptr) queued_items_->release(items);
    co_return absl::UnavailableError(absl::StrCat("exporter ", id_, ": sending queue is full"));
  }
  // Sizer kItems: wait for room for the items first (in arrival order), then for a slot.
  if (queued_items_ != nullptr) {
    absl::Status room = co_await queued_items_->acquire(ctx, items);
    if (!room.ok()) {
      co_return absl::UnavailableError(absl::StrCat("exporter ", id_, ": sending queue is full (",
                                                    queue_config_.queue_size,
                                                    " items): ", room.message()));
    }
  }
  // Held until a sender has sent or dropped it. While the queue is full the caller waits for
  // room, until its own deadline (backpressure, not an unbounded buffer).
  if (batch.memory.bytes() == 0) {
    batch.memory = host_.admission().hold(pipeline::held_bytes(batch));
  }
  absl::Status s = co_await csp::send_ctx(ctx, queue_, std::move(batch));
  if (s.ok()) {
    accepted_items_ += items;
    co_return s;
  }
  if (queued_items_ != nullptr) queued_items_->release(items);
  if (s.code() == absl::StatusCode::kFailedPrecondition) {
    co_return absl::UnavailableError(absl::StrCat("exporter ", id_, " is shut down"));
  }
  co_return absl::UnavailableError(
      absl::StrCat("exporter ", id_, ": sending queue is full: ", s.message()));
}

csp::Task<void> QueuedRetryExporter::sender() {
  while (auto batch = co_await queue_.recv()) {
    (void)co_await send_with_retry(stop_ctx_, *batch);
    if (queued_items_ != nullptr) queued_items_->release(batch->items);
    // Leaving the loop body destroys the batch, and with it its memory ticket.
  }
  senders_.done();
}

csp::Task<void> QueuedRetryExporter::durable_sender() {
  for (;;) {
    absl::StatusOr<storage::Record> record = co_await log_->next(take_ctx_);
    if (!record.ok()) break;  // shutting down (or closed)
    const std::uint64_t seq = record->seq;
    if (take_ctx_.is_done()) {
      // Handed out as the shutdown began: it stays for the next start, not an attempt.
      (void)log_->nack(seq);
      break;
    }
    std::optional<pipeline::Batch> batch = decode_queue_record(std::move(record->payload));
    if (!batch) {
      ++dropped_permanent_;
      host_.log(pipeline::LogLevel::kError, id_,
                absl::StrCat("durable queue: record ", seq, " is not a batch; dropped"));
      (void)log_->ack(seq);
      std::lock_guard lock(reroutes_mu_);
      reroutes_.erase(seq);
      continue;
    }
    GaveUp why = GaveUp::kNone;
    (void)co_await send_with_retry(stop_ctx_, *batch, &why, seq);
    // Settled when the backend took it or a counted policy dropped it; an attempt cut off by
    // the shutdown deadline leaves the record in the log for the next start.
    if (why == GaveUp::kShutdown) {
      (void)log_->nack(seq);
      break;
    }
    (void)log_->ack(seq);
    if (queue_config_.sizer == QueueSizer::kItems && seq >= first_seq_this_run_) {
      durable_items_ -= batch->items;
    }
    std::lock_guard lock(reroutes_mu_);
    reroutes_.erase(seq);
  }
  senders_.done();
}

void QueuedRetryExporter::remember_reroute(std::uint64_t seq,
                                           std::shared_ptr<pipeline::Reroute> reroute) {
  std::size_t size = 0;
  {
    std::lock_guard lock(reroutes_mu_);
    reroutes_.emplace(seq, std::move(reroute));
    size = reroutes_.size();
  }
  // A sender may have settled the record before this entry was made (it is readable once
  // synced, before append's caller resumes); nobody erases such an entry. Records before the
  // log's persisted cursor are all settled, so their entries can go.
  if (size > kPruneReroutesAbove) {
    const std::uint64_t settled_below = log_->persisted_cursor();
    std::lock_guard lock(reroutes_mu_);
    reroutes_.erase(reroutes_.begin(), reroutes_.lower_bound(settled_below));
  }
}

std::shared_ptr<pipeline::Reroute> QueuedRetryExporter::reroute_of(
    const pipeline::Batch& batch, std::optional<std::uint64_t> durable_seq) {
  if (batch.reroute != nullptr || !durable_seq) return batch.reroute;
  std::lock_guard lock(reroutes_mu_);
  auto it = reroutes_.find(*durable_seq);
  return it != reroutes_.end() ? it->second : nullptr;
}

csp::Task<bool> QueuedRetryExporter::try_reroute(
    const csp::Context& ctx, const pipeline::Batch& batch,
    const std::shared_ptr<pipeline::Reroute>& reroute) {
  // Bounded like an attempt, so a lower level that is full only delays the retry here.
  auto [take_ctx, cancel] = csp::with_timeout(ctx, timeout_);
  pipeline::Batch copy = batch;
  copy.reroute = nullptr;  // the other route sets its own
  absl::Status taken = co_await reroute->take(take_ctx, std::move(copy));
  cancel();
  if (!taken.ok()) {
    host_.log(pipeline::LogLevel::kDebug, id_,
              absl::StrCat("could not reroute ", batch.items, " items: ", taken.ToString()));
    co_return false;
  }
  rerouted_items_ += batch.items;
  co_return true;
}

csp::Duration QueuedRetryExporter::next_backoff(csp::Duration current) const {
  auto next = std::chrono::duration_cast<csp::Duration>(current * retry_.multiplier);
  return std::min(next, retry_.max_interval);
}

csp::Task<absl::Status> QueuedRetryExporter::send_with_retry(
    csp::Context ctx, const pipeline::Batch& batch, GaveUp* gave_up,
    std::optional<std::uint64_t> durable_seq) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const csp::TimePoint started = clock_->now();
  csp::Duration backoff = retry_.initial_interval;
  for (int attempt = 1;; ++attempt) {
    auto [attempt_ctx, cancel] = csp::with_timeout(ctx, timeout_);
    SendOutcome out = co_await send_(batch, attempt_ctx);
    cancel();
    if (out.status.ok()) {
      if (!delivering_.load(std::memory_order_relaxed)) set_delivering(true);
      sent_items_ += batch.items;
      sent_metric_.add(batch.signal, batch.items);
      if (latency_ != nullptr && batch.received != csp::TimePoint{}) {
        latency_->record(std::chrono::duration<double>(csp::Clock::now() - batch.received).count());
      }
      co_return absl::OkStatus();
    }
    // Why a batch is dropped decides which count it goes to. Drops at shutdown are reported
    // together when the shutdown ends (one line), the others one by one.
    auto give_up = [&](GaveUp why, std::string_view text) {
      const bool queued = queue_config_.enabled || log_ != nullptr;
      if (gave_up != nullptr) *gave_up = why;
      if (why == GaveUp::kShutdown && log_ != nullptr) return out.status;  // kept in the log
      if (why != GaveUp::kNone && why != GaveUp::kRerouted) {
        send_failed_metric_.add(batch.signal, batch.items);
      }
      switch (why) {
        case GaveUp::kNone:
        case GaveUp::kRerouted:
          break;
        case GaveUp::kPermanent:
          if (queued) dropped_permanent_ += batch.items;
          break;
        case GaveUp::kExhausted:
          if (queued) dropped_exhausted_ += batch.items;
          break;
        case GaveUp::kShutdown:
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
    if (out.retryable && delivering_.load(std::memory_order_relaxed)) set_delivering(false);
    // Definitely not delivered here: another route may take it (a failover's next level),
    // whether this backend may take it later or refuses it for good (say, unauthorized). Data
    // refused as bad (INVALID_ARGUMENT) would be refused there too: dropped below.
    if (out.not_received && out.status.code() != absl::StatusCode::kInvalidArgument) {
      const std::shared_ptr<pipeline::Reroute> reroute = reroute_of(batch, durable_seq);
      if (reroute != nullptr) {
        const bool taken = co_await try_reroute(ctx, batch, reroute);
        if (taken) {
          if (gave_up != nullptr) *gave_up = GaveUp::kRerouted;
          co_return absl::OkStatus();
        }
      }
    }
    if (!out.retryable) co_return give_up(GaveUp::kPermanent, "not retryable");
    if (!retry_.enabled) co_return give_up(GaveUp::kExhausted, "retries disabled");
    if (ctx.is_done()) co_return give_up(GaveUp::kShutdown, "shutting down");
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
        clock_->now() + wait - started > retry_.max_elapsed_time) {
      co_return give_up(GaveUp::kExhausted, "retry time exhausted");
    }
    host_.log(
        pipeline::LogLevel::kDebug, id_,
        absl::StrCat("attempt ", attempt, " failed (", out.status.ToString(), "); retrying in ",
                     std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), "ms"));
    // A durable queue keeps the batch across the restart, so its backoff ends with the
    // shutdown's start (take_ctx_); a memory queue retries until the deadline, its last chance.
    // Only the attempt itself counts as "in flight" for the log's poison-record rule: a
    // process death during the wait is not the record's doing.
    if (durable_seq) (void)log_->pause(*durable_seq);
    const bool waited = co_await clock_->sleep(wait, log_ != nullptr ? take_ctx_ : ctx);
    if (durable_seq) (void)log_->resume(*durable_seq);
    if (!waited) co_return give_up(GaveUp::kShutdown, "shutting down");
    backoff = next_backoff(backoff);
  }
}

csp::Task<void> QueuedRetryExporter::shutdown(csp::Context ctx) {
  shut_down_.store(true, std::memory_order_release);
  host_.telemetry().remove_gauges(this);
  queue_.close();
  stop_taking_();  // durable senders take no new records; the log keeps them
  DeadlineStop deadline_stop(ctx, stop_);
  if (queue_config_.enabled || log_ != nullptr) co_await senders_.wait();
  // Also joins the deadline watcher (a named Task: docs/csp.md, g++ 12).
  csp::Task<void> finished = deadline_stop.finish();
  co_await std::move(finished);
  stop_();
  if (log_ != nullptr) {
    const storage::DurableLogStats stats = log_->stats();
    if (absl::Status s = log_->close(); !s.ok()) {
      host_.log(pipeline::LogLevel::kError, id_,
                absl::StrCat("durable queue: closing the log: ", s.message()));
    }
    if (stats.pending > 0) {
      host_.log(
          pipeline::LogLevel::kInfo, id_,
          absl::StrCat(stats.pending, " batches stay in the durable queue for the next start"));
    }
  }
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
  c.rerouted = rerouted_items_.load();
  c.accepted = accepted_items_.load();
  c.recovered = recovered_batches_.load();
  return c;
}

}  // namespace components
