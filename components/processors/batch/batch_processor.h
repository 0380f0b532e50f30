#pragma once
// The `batch` processor: gathers batches of one signal into larger ones, which compress and
// export far better than many small ones.
//
// Contract:
//  - A batch is accepted (consume() answers OK) once it is in the processor's bounded input
//    channel; while that channel is full consume() waits, up to the caller's deadline, then
//    refuses with UNAVAILABLE — backpressure, never an unbounded buffer.
//  - A gathered batch is sent on when it reaches send_batch_size items, or `timeout` after its
//    first item arrived, whichever comes first. With send_batch_max_size > 0 no batch sent on
//    holds more items than that (large inputs are split, keeping resource/scope grouping).
//  - Gathering works on wire bytes (concatenated requests are a valid request); only a split
//    below one resource decodes.
//  - A gathered batch is handed on with one call: while the next consumer cannot take it, that
//    call blocks (a context-aware channel send in the exporter's queue) until it can or the
//    shutdown deadline passes, and meanwhile this processor's input fills and its callers wait
//    in turn. What the next consumer refuses is dropped and logged; retrying is the exporter's
//    job (QueuedRetryExporter), not this processor's.
//  - Memory: accepted batches are held (Batch::memory) until the gathered batch is handed on.
//  - With a durable queue behind (next->durable()), consume() answers only once the gathered
//    batch holding the caller's data was handed on, with that outcome: a client's OK then means
//    persisted. There the timeout does not apply: batches are gathered the way a log commits
//    groups. Up to two gathered batches are handed on at once; whatever arrives meanwhile (up to
//    send_batch_size items) goes out together as soon as one of them is persisted, so a lone
//    client waits for one fdatasync, not for the timeout, and a busy pipeline gets large
//    batches.
//  - shutdown() stops accepting, flushes everything gathered, and returns when it is handed
//    on or the deadline passed (what is left then is counted as dropped and logged).
//  - metadata_keys: batches are gathered per distinct combination of those client metadata
//    values (pipeline::ClientMetadata; a batch without metadata has the empty combination),
//    each by its own goroutine with the rules above, and what is handed on carries exactly
//    those keys. Batchers live until shutdown; a batch that would need one more than
//    metadata_cardinality_limit is refused (FAILED_PRECONDITION). Without metadata_keys one
//    batcher gathers everything, and batches handed on carry no client metadata.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "components/processors/batch/config.h"
#include "csp/chan.h"
#include "csp/context.h"
#include "csp/wait_group.h"
#include "pipeline/component.h"
#include "pipeline/host.h"

namespace components {

class BatchProcessor final : public pipeline::Processor {
 public:
  BatchProcessor(std::string id, BatchConfig config, otlp::Signal signal,
                 std::shared_ptr<pipeline::Consumer> next, pipeline::Host& host);

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;
  bool delivering() const override { return next_->delivering(); }
  bool durable() const override { return next_->durable(); }

  std::int64_t dropped_items() const { return dropped_items_.load(); }
  // Batchers running (1 without metadata_keys).
  std::size_t batchers() const;

 private:
  // What goes through the input channel: a batch, and where to answer it once handed on (nil
  // unless a durable queue is behind: then a caller's OK waits for persistence).
  struct Input {
    pipeline::Batch batch;
    csp::Chan<absl::Status> answer;
  };
  // One batcher: an input channel and what its goroutine has gathered (owned by that
  // goroutine), for one combination of metadata_keys values.
  struct Shard {
    explicit Shard(std::size_t capacity) : input(capacity) {}
    csp::Chan<Input> input;
    // What its batches carry on: the metadata_keys values (null without metadata_keys).
    pipeline::ClientMetadataPtr metadata;
    std::vector<pipeline::Batch> pending;
    std::vector<csp::Chan<absl::Status>> waiting;  // answers owed for pending
    std::int64_t pending_items = 0;
  };
  // The shard for a batch's metadata, made (and its goroutine started) on first use.
  absl::StatusOr<Shard*> shard_for(const pipeline::Batch& batch);
  Shard* add_shard(std::string key, pipeline::ClientMetadataPtr metadata)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shards_mu_);
  csp::Task<void> run(Shard& shard);
  csp::Task<void> run_durable(Shard& shard);
  static void add_pending(Shard& shard, Input in);
  csp::Task<void> flush(Shard& shard);
  // Concatenates parts (splitting by send_batch_max_size) and delivers the result.
  csp::Task<absl::Status> hand_on(std::vector<pipeline::Batch> parts, std::int64_t items,
                                  pipeline::ClientMetadataPtr metadata);
  // A goroutine of run_durable(): hands parts on, answers the callers, then signals `finished`.
  csp::Task<void> hand_on_and_answer(std::vector<pipeline::Batch> parts, std::int64_t items,
                                     pipeline::ClientMetadataPtr metadata,
                                     std::vector<csp::Chan<absl::Status>> waiting,
                                     csp::Chan<csp::Unit> finished);
  csp::Task<absl::Status> deliver(pipeline::Batch batch);
  void register_metrics(telemetry::Registry& registry, const telemetry::Labels& labels);

  std::string id_;
  BatchConfig config_;
  otlp::Signal signal_;
  std::shared_ptr<pipeline::Consumer> next_;
  pipeline::Host& host_;

  bool durable_next_ = false;  // next_->durable(), asked once at start()
  csp::WaitGroup running_;     // shard goroutines
  // Cancelled when the shutdown deadline passes: ends a hand-on that is still blocked.
  csp::Context stop_ctx_;
  csp::CancelFunc stop_;

  mutable std::mutex shards_mu_;
  // By the metadata_keys values ("" without metadata_keys); a shard lives until shutdown.
  std::unordered_map<std::string, std::unique_ptr<Shard>> shards_ ABSL_GUARDED_BY(shards_mu_);
  bool closed_ ABSL_GUARDED_BY(shards_mu_) = false;
  // Without metadata_keys: the one shard, made at start().
  std::atomic<Shard*> only_shard_{nullptr};

  std::atomic<std::int64_t> dropped_items_{0};
  // otelcol_processor_batch_* (registered in start()).
  telemetry::Counter* size_trigger_ = nullptr;
  telemetry::Counter* timeout_trigger_ = nullptr;
  telemetry::Histogram* send_size_ = nullptr;
};

// Splits a serialized request into requests of at most max_items items (0: no limit), on the
// wire where resources allow and by decoding otherwise. Shared with the exporters' queue.
absl::StatusOr<std::vector<std::string>> split_request(otlp::Signal signal, std::string_view bytes,
                                                       std::uint64_t max_items);

}  // namespace components
