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

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "csp/chan.h"
#include "csp/context.h"
#include "csp/wait_group.h"
#include "pipeline/component.h"
#include "pipeline/host.h"

namespace components {

struct QueueConfig {
  bool enabled = true;
  std::size_t num_consumers = 10;
  std::size_t queue_size = 1000;  // batches
};

struct RetryConfig {
  bool enabled = true;
  csp::Duration initial_interval = std::chrono::seconds(5);
  csp::Duration max_interval = std::chrono::seconds(30);
  csp::Duration max_elapsed_time = std::chrono::minutes(5);  // 0 = retry forever
  double multiplier = 1.5;
  double randomization_factor = 0.5;
};

// What happened to the items an exporter accepted (see the conservation rule above).
struct ExportCounts {
  std::int64_t accepted = 0;                   // items consume() answered OK for
  std::int64_t sent = 0;                       // delivered (the backend answered OK)
  std::int64_t dropped_permanent = 0;          // rejected by the backend as bad data
  std::int64_t dropped_retries_exhausted = 0;  // max_elapsed_time passed, or retries disabled
  std::int64_t dropped_shutdown = 0;           // the shutdown deadline passed first
  std::int64_t pending() const {
    return accepted - sent - dropped_permanent - dropped_retries_exhausted - dropped_shutdown;
  }
};

// The outcome of one attempt to send.
struct SendOutcome {
  absl::Status status;
  bool retryable = false;
  std::optional<std::chrono::milliseconds> retry_after;
};

using SendFn =
    std::function<csp::Task<SendOutcome>(otlp::Signal, const std::string& bytes, csp::Context)>;

class QueuedRetryExporter : public pipeline::Exporter {
 public:
  QueuedRetryExporter(std::string id, QueueConfig queue, RetryConfig retry, csp::Duration timeout,
                      SendFn send, pipeline::Host& host);

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  std::int64_t sent_items() const { return sent_items_.load(); }
  std::int64_t dropped_items() const {
    return dropped_permanent_.load() + dropped_exhausted_.load() + dropped_shutdown_.load();
  }
  ExportCounts counts() const;
  // False from a retryable failed attempt until the next successful one (the backend is down
  // or throttling); see pipeline::Consumer::delivering.
  bool delivering() const override { return delivering_.load(std::memory_order_relaxed); }
  std::size_t queue_length() const { return queue_.size(); }

 private:
  csp::Task<void> sender();
  // Sends with retries under ctx. OK, or the final error (the batch is then dropped).
  csp::Task<absl::Status> send_with_retry(csp::Context ctx, const pipeline::Batch& batch);
  csp::Duration next_backoff(csp::Duration current) const;

  std::string id_;
  QueueConfig queue_config_;
  RetryConfig retry_;
  csp::Duration timeout_;
  SendFn send_;
  pipeline::Host& host_;

  csp::Chan<pipeline::Batch> queue_;
  csp::WaitGroup senders_;
  csp::Context stop_ctx_;  // cancelled when the shutdown deadline passes
  csp::CancelFunc stop_;

  std::atomic<bool> delivering_{true};
  std::atomic<std::int64_t> accepted_items_{0};
  std::atomic<std::int64_t> sent_items_{0};
  std::atomic<std::int64_t> dropped_permanent_{0};
  std::atomic<std::int64_t> dropped_exhausted_{0};
  std::atomic<std::int64_t> dropped_shutdown_{0};
  std::atomic<std::int64_t> dropped_shutdown_batches_{0};
  // Set by shutdown(): consume() refuses from then on (also with the queue disabled, which
  // would otherwise send on the caller's goroutine after shutdown).
  std::atomic<bool> shut_down_{false};
};

}  // namespace components
