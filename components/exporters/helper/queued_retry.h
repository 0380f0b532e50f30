#pragma once
// QueuedRetryExporter: what every network exporter is wrapped in — a bounded sending queue, a
// pool of sender goroutines, a per-attempt timeout, and retry with exponential backoff and
// jitter (the Collector's exporterhelper, on channels).
//
// Contract:
//  - With the queue enabled, consume() accepts a batch once it is in the queue; while the queue
//    is full it waits for room until the caller's context is done, then refuses with
//    UNAVAILABLE ("sending queue is full"). Senders deliver queued batches in the background;
//    a queued batch holds its bytes against the memory budget (Batch::memory) until it is sent
//    or dropped. With the queue disabled, consume() sends (with retries) and answers with
//    the outcome.
//  - A failed attempt is retried only if it is retryable (send_fn's outcome says so); the wait
//    is the server's retry-after when given, else the backoff; a batch is dropped (and logged)
//    when its retries would exceed max_elapsed_time, or when it is rejected as bad data.
//  - shutdown(ctx) stops accepting and lets the senders drain the queue until ctx's deadline;
//    then pending retries stop and what is left is dropped, counted, and reported in one log
//    line ("N items in M batches could not be delivered before the shutdown deadline").
//  - Conservation: every item accepted is, at any time, exactly one of sent, queued or in a
//    sender's hands, or dropped for a counted reason (counts()): accepted = sent + pending +
//    dropped_permanent + dropped_retries_exhausted + dropped_shutdown.
//  - Durable queue (QueueConfig::storage): consume() answers OK once the batch is in the
//    storage::DurableLog and synced; a full log (queue_size requests or bytes) is an immediate
//    UNAVAILABLE, never a drop. Senders take records from the log and acknowledge them only
//    after the backend accepted them (or rejected them as bad data, or an explicit
//    max_elapsed_time passed: counted drops). Retry goes on until delivered unless
//    max_elapsed_time is set. At shutdown, senders stop taking records; an attempt still
//    running at the deadline is abandoned and its record stays in the log, as does everything
//    not delivered: the next start delivers it (at least once; a batch whose delivery was cut
//    short may arrive twice).
//  - Reroute (a batch from a failover connector, pipeline::Reroute): when an attempt fails and
//    the backend certainly kept none of it (SendOutcome::not_received) — retryably, or for
//    good for any reason but bad data (INVALID_ARGUMENT) — the batch is handed to its reroute
//    instead of being retried or dropped here; once taken it counts as `rerouted`. A batch whose
//    outcome is unknown (a timeout, a connection lost mid-request) stays and is retried here, so no
//    batch reaches two levels unless the first definitely failed. A durable queue remembers
//    reroutes for the records appended in this run only: after a restart its records are retried
//    where they are.
//  - Sizer kItems: the queue holds at most queue_size items; a batch waits (or, without
//    block_on_overflow, is refused) until its items fit, in arrival order. A batch larger than
//    the whole queue is taken only into an empty queue. A durable queue counts the items of
//    the batches appended since it opened; what it recovered at start counts against the
//    disk bound only (its items are known only as they are read), and so, until the next
//    start, do records of this run that the log skips as corrupt or dead-letters.
//  - Time: waits between attempts and max_elapsed_time follow a RetryClock (retry_clock.h),
//    the real one unless set_retry_clock() gave another before start(); the per-attempt
//    timeout is always real time.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "components/exporters/helper/retry_clock.h"
#include "components/internal/self_metrics.h"
#include "csp/chan.h"
#include "csp/context.h"
#include "csp/wait_group.h"
#include "csp/weighted_semaphore.h"
#include "pipeline/component.h"
#include "pipeline/host.h"
#include "storage/durable_log.h"

namespace components {

// What queue_size counts: batches, items (spans, data points, log records, profile samples),
// or, with a storage only, bytes on disk.
enum class QueueSizer { kRequests, kItems, kBytes };

struct QueueConfig {
  bool enabled = true;
  std::size_t num_consumers = 10;
  std::size_t queue_size = 1000;  // in units of `sizer`
  // With sizer kItems, the memory queue also holds at most this many batches (its channel).
  static constexpr std::size_t kMaxQueuedBatches = 65536;
  QueueSizer sizer = QueueSizer::kRequests;
  // While the queue is full: true, the caller waits until its deadline; false, it is refused at
  // once. (A durable queue that is full refuses at once either way.)
  bool block_on_overflow = true;
  // The id of a file_storage extension: the queue is a storage::DurableLog there, and a batch is
  // accepted once it is on disk (fsync'd unless the extension says otherwise). Empty: memory.
  std::string storage;
};

struct RetryConfig {
  bool enabled = true;
  csp::Duration initial_interval = std::chrono::seconds(5);
  csp::Duration max_interval = std::chrono::seconds(30);
  csp::Duration max_elapsed_time = std::chrono::minutes(5);  // 0 = retry forever
  // Whether the config set max_elapsed_time: with a durable queue the default is to retry
  // until delivered, so data is dropped by time only when the user asked for it.
  bool max_elapsed_time_set = false;
  double multiplier = 1.5;
  double randomization_factor = 0.5;
};

// What happened to the items an exporter accepted (see the conservation rule above).
struct ExportCounts {
  std::int64_t recovered = 0;                  // batches found in a durable queue at start
  std::int64_t accepted = 0;                   // items consume() answered OK for
  std::int64_t sent = 0;                       // delivered (the backend answered OK)
  std::int64_t dropped_permanent = 0;          // rejected by the backend as bad data
  std::int64_t dropped_retries_exhausted = 0;  // max_elapsed_time passed, or retries disabled
  std::int64_t dropped_shutdown = 0;           // the shutdown deadline passed first (memory)
  std::int64_t rerouted = 0;                   // handed to another route (a failover level)
  // Memory queue: items queued or being sent. A durable queue counts batches it recovered in
  // `recovered` (their items are known only once read), so there pending() is not in items.
  std::int64_t pending() const {
    return accepted - sent - dropped_permanent - dropped_retries_exhausted - dropped_shutdown -
           rerouted;
  }
};

// The outcome of one attempt to send.
struct SendOutcome {
  absl::Status status;
  bool retryable = false;
  std::optional<std::chrono::milliseconds> retry_after;
  // The backend certainly holds none of the data (transport::ExportResult::not_received).
  bool not_received = false;
};

// One attempt to send a batch. The batch stays alive and unchanged until the attempt's task
// completes, so a sender may lend its bytes to the transport instead of copying them.
using SendFn = std::function<csp::Task<SendOutcome>(const pipeline::Batch& batch, csp::Context)>;

class QueuedRetryExporter : public pipeline::Exporter {
 public:
  QueuedRetryExporter(std::string id, QueueConfig queue, RetryConfig retry, csp::Duration timeout,
                      SendFn send, pipeline::Host& host);
  ~QueuedRetryExporter() override;

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  // Replaces the clock that retry waits and max_elapsed_time follow (null: the real clock).
  // Only before start(): afterwards senders may be reading it, so it is FAILED_PRECONDITION.
  absl::Status set_retry_clock(std::shared_ptr<RetryClock> clock);

  std::int64_t sent_items() const { return sent_items_.load(); }
  std::int64_t dropped_items() const {
    return dropped_permanent_.load() + dropped_exhausted_.load() + dropped_shutdown_.load();
  }
  ExportCounts counts() const;
  // False from a retryable failed attempt until the next successful one (the backend is down
  // or throttling); see pipeline::Consumer::delivering.
  bool delivering() const override { return delivering_.load(std::memory_order_relaxed); }
  // Accepting means persisted: a batch processor in front waits for the hand-on before it
  // answers its callers.
  bool durable() const override { return !queue_config_.storage.empty(); }
  // The durable queue's log (null with a memory queue or before start).
  const storage::DurableLog* log() const { return log_.get(); }
  std::size_t queue_length() const { return queue_.size(); }

 private:
  csp::Task<absl::Status> enqueue(csp::Context ctx, pipeline::Batch batch);
  void register_metrics();
  void set_delivering(bool delivering);
  csp::Task<void> sender();
  csp::Task<void> durable_sender();
  absl::Status open_log();
  // Why send_with_retry gave up (kNone: delivered).
  enum class GaveUp { kNone, kPermanent, kExhausted, kShutdown, kRerouted };
  // Sends with retries under ctx. OK (delivered, or taken by the batch's reroute), or the
  // final error; *why says why it stopped. durable_seq: the durable queue's record being sent;
  // its reroute is looked up by it, and it is paused in the log while the sender waits between
  // attempts, so a crash then (a kill -9 during a backend outage) does not count against it as
  // a poison record (storage::DurableLogOptions::max_crashes_in_flight).
  csp::Task<absl::Status> send_with_retry(csp::Context ctx, const pipeline::Batch& batch,
                                          GaveUp* why = nullptr,
                                          std::optional<std::uint64_t> durable_seq = {});
  // Keeps a durable record's reroute until the record is settled.
  void remember_reroute(std::uint64_t seq, std::shared_ptr<pipeline::Reroute> reroute);
  static constexpr std::size_t kPruneReroutesAbove = 4096;
  // The batch's reroute; for a durable record, the one its consume() call brought.
  std::shared_ptr<pipeline::Reroute> reroute_of(const pipeline::Batch& batch,
                                                std::optional<std::uint64_t> durable_seq);
  // Tries to hand a batch whose attempt definitely failed to its reroute; true if taken.
  csp::Task<bool> try_reroute(const csp::Context& ctx, const pipeline::Batch& batch,
                              const std::shared_ptr<pipeline::Reroute>& reroute);
  csp::Duration next_backoff(csp::Duration current) const;

  std::string id_;
  QueueConfig queue_config_;
  RetryConfig retry_;
  csp::Duration timeout_;
  SendFn send_;
  pipeline::Host& host_;
  // Set before start() only (set_retry_clock), read by senders after it.
  std::shared_ptr<RetryClock> clock_ = real_retry_clock();
  std::atomic<bool> started_{false};

  csp::Chan<pipeline::Batch> queue_;
  // Sizer kItems: the memory queue's items (held from acceptance until sent or dropped).
  std::unique_ptr<csp::WeightedSemaphore> queued_items_;
  // Sizer kItems with a durable queue: items of records appended in this run and not settled,
  // and the first sequence number of this run (older records are not counted).
  std::atomic<std::int64_t> durable_items_{0};
  std::uint64_t first_seq_this_run_ = 0;
  std::unique_ptr<storage::DurableLog> log_;  // the durable queue, between start and shutdown
  csp::WaitGroup senders_;
  csp::Context stop_ctx_;  // cancelled when the shutdown deadline passes
  csp::CancelFunc stop_;
  csp::Context take_ctx_;  // cancelled when shutdown begins: durable senders stop taking records
  csp::CancelFunc stop_taking_;

  std::atomic<bool> delivering_{true};  // changed only by set_delivering, under delivering_mu_
  std::mutex delivering_mu_;
  // otelcol_exporter_* (registered in start()).
  internal::SignalCounters sent_metric_;
  internal::SignalCounters send_failed_metric_;
  internal::SignalCounters enqueue_failed_metric_;
  telemetry::Histogram* latency_ = nullptr;  // otlpd_exporter_latency_seconds
  std::atomic<std::int64_t> recovered_batches_{0};
  std::atomic<std::int64_t> accepted_items_{0};
  std::atomic<std::int64_t> sent_items_{0};
  std::atomic<std::int64_t> dropped_permanent_{0};
  std::atomic<std::int64_t> dropped_exhausted_{0};
  std::atomic<std::int64_t> dropped_shutdown_{0};
  std::atomic<std::int64_t> dropped_shutdown_batches_{0};
  std::atomic<std::int64_t> rerouted_items_{0};
  // Durable queue: the reroutes of records appended in this run, by sequence number, until
  // the record is settled.
  std::mutex reroutes_mu_;
  std::map<std::uint64_t, std::shared_ptr<pipeline::Reroute>> reroutes_
      ABSL_GUARDED_BY(reroutes_mu_);
  // Set by shutdown(): consume() refuses from then on (also with the queue disabled, which
  // would otherwise send on the caller's goroutine after shutdown).
  std::atomic<bool> shut_down_{false};
};

}  // namespace components
