#include "components/processors/batch/batch_processor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "components/internal/drain.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "otlp/binary_codec.h"
#include "otlp/signals.h"
#include "otlp/wire.h"

namespace components {

namespace {

constexpr std::size_t kInputCapacity = 64;
// With a durable queue behind: gathered batches being persisted at once. Two let the next one be
// written while the previous one's fdatasync runs (the log commits them as one group).
constexpr std::size_t kMaxHandOnsInFlight = 2;

template <class Request>
absl::StatusOr<std::vector<std::string>> split_decoded(std::string_view bytes,
                                                       std::uint64_t max_items) {
  Request request;
  if (auto s = otlp::decode_binary(bytes, request); !s.ok()) return s;
  std::vector<std::string> out;
  for (Request& part : otlp::split(std::move(request), max_items)) {
    auto encoded = otlp::encode_binary(part);
    if (!encoded.ok()) return encoded.status();
    out.push_back(*std::move(encoded));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> split_request(otlp::Signal signal, std::string_view bytes,
                                                       std::uint64_t max_items) {
  auto parts = otlp::wire_split(signal, bytes, max_items);
  if (!parts.ok() || max_items == 0) return parts;
  std::vector<std::string> out;
  for (std::string& part : *parts) {
    auto n = otlp::wire_count_items(signal, part);
    if (!n.ok()) return n.status();
    if (*n <= max_items) {
      out.push_back(std::move(part));
      continue;
    }
    // One resource holds more than max_items: cut inside it.
    absl::StatusOr<std::vector<std::string>> pieces;
    switch (signal) {
      case otlp::Signal::kTraces:
        pieces = split_decoded<otlp::TracesRequest>(part, max_items);
        break;
      case otlp::Signal::kMetrics:
        pieces = split_decoded<otlp::MetricsRequest>(part, max_items);
        break;
      case otlp::Signal::kLogs:
        pieces = split_decoded<otlp::LogsRequest>(part, max_items);
        break;
      case otlp::Signal::kProfiles:
        pieces = split_decoded<otlp::ProfilesRequest>(part, max_items);
        break;
    }
    if (!pieces.ok()) return pieces.status();
    for (std::string& p : *pieces) out.push_back(std::move(p));
  }
  return out;
}

BatchProcessor::BatchProcessor(std::string id, BatchConfig config, otlp::Signal signal,
                               std::shared_ptr<pipeline::Consumer> next, pipeline::Host& host)
    : id_(std::move(id)), config_(config), signal_(signal), next_(std::move(next)), host_(host) {
  std::tie(stop_ctx_, stop_) = csp::with_cancel(csp::Context::background());
}

BatchProcessor::Shard* BatchProcessor::add_shard(std::string key,
                                                 pipeline::ClientMetadataPtr metadata) {
  auto shard = std::make_unique<Shard>(kInputCapacity);
  std::string name =
      absl::StrCat("processor ", id_, " ", std::string(otlp::signal_name(signal_)), " input");
  // Numbered, not named by their values: a metadata key may be a credential, and the status
  // page shows channel names.
  if (metadata != nullptr) absl::StrAppend(&name, " #", shards_.size() + 1);
  shard->input.set_name(std::move(name));
  shard->metadata = std::move(metadata);
  Shard* raw = shard.get();
  shards_.emplace(std::move(key), std::move(shard));
  running_.add(1);
  csp::go(run(*raw));
  return raw;
}

absl::StatusOr<BatchProcessor::Shard*> BatchProcessor::shard_for(const pipeline::Batch& batch) {
  if (Shard* only = only_shard_.load(std::memory_order_acquire)) return only;
  if (config_.metadata_keys.empty()) {
    return absl::UnavailableError(absl::StrCat("processor ", id_, " has not started"));
  }
  // The key spells every value with its length, so no two combinations share one.
  std::string key;
  auto metadata = std::make_shared<pipeline::ClientMetadata>();
  for (const std::string& name : config_.metadata_keys) {
    std::vector<std::string_view> values;
    if (batch.client != nullptr) values = batch.client->values(name);
    absl::StrAppend(&key, values.size(), ":");
    for (std::string_view v : values) {
      absl::StrAppend(&key, v.size(), ":");
      key.append(v);
      metadata->entries.emplace_back(name, std::string(v));
    }
  }
  std::lock_guard lock(shards_mu_);
  if (closed_) {
    return absl::UnavailableError(absl::StrCat("processor ", id_, " is shutting down"));
  }
  if (auto it = shards_.find(key); it != shards_.end()) return it->second.get();
  if (config_.metadata_cardinality_limit > 0 &&
      shards_.size() >= config_.metadata_cardinality_limit) {
    return absl::FailedPreconditionError(absl::StrCat(
        "processor ", id_, ": too many distinct combinations of metadata_keys values (",
        "metadata_cardinality_limit is ", config_.metadata_cardinality_limit, ")"));
  }
  return add_shard(std::move(key), std::move(metadata));
}

std::size_t BatchProcessor::batchers() const {
  std::lock_guard lock(shards_mu_);
  return shards_.size();
}

csp::Task<absl::Status> BatchProcessor::start() {
  // Whatever is behind has started (the graph starts consumers first), so it can answer now;
  // asking once keeps the question off the per-batch path.
  durable_next_ = next_->durable();
  telemetry::Registry& registry = host_.telemetry();
  const telemetry::Labels labels = {{"processor", id_}};
  if (registry.enabled()) register_metrics(registry, labels);
  if (config_.metadata_keys.empty()) {
    std::lock_guard lock(shards_mu_);
    only_shard_.store(add_shard("", nullptr), std::memory_order_release);
  }
  co_return absl::OkStatus();
}

void BatchProcessor::register_metrics(telemetry::Registry& registry,
                                      const telemetry::Labels& labels) {
  size_trigger_ = &registry.counter("otelcol_processor_batch_batch_size_trigger_send",
                                    "Batches sent because they reached send_batch_size.", labels);
  timeout_trigger_ = &registry.counter("otelcol_processor_batch_timeout_trigger_send",
                                       "Batches sent because their timeout passed.", labels);
  send_size_ =
      &registry.histogram("otelcol_processor_batch_batch_send_size", "Items in each batch sent.",
                          {10,   25,   50,   75,   100,  250,  500,   750,   1000,  2000,  3000,
                           4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000},
                          labels);
}

csp::Task<absl::Status> BatchProcessor::consume(csp::Context ctx, pipeline::Batch batch) {
  if (batch.items == 0 && batch.bytes.empty()) co_return absl::OkStatus();
  // Held from the moment it is accepted until the gathered batch it joins is handed on.
  absl::StatusOr<Shard*> shard = shard_for(batch);
  if (!shard.ok()) co_return shard.status();
  batch.memory = host_.admission().hold(pipeline::held_bytes(batch));
  // With a durable queue behind, OK must mean persisted: wait for the hand-on's answer.
  Input in{std::move(batch),
           durable_next_ ? csp::Chan<absl::Status>(1) : csp::Chan<absl::Status>()};
  csp::Chan<absl::Status> answer = in.answer;
  absl::Status s = co_await csp::send_ctx(ctx, (*shard)->input, std::move(in));
  if (s.ok() && !answer.is_nil()) {
    auto got = co_await csp::recv_ctx(ctx, answer);
    if (!got.ok()) {
      co_return absl::UnavailableError(absl::StrCat(
          "processor ", id_, ": the batch was not persisted in time: ", got.status().message()));
    }
    if (!got->has_value()) co_return absl::UnavailableError("processor " + id_ + " shut down");
    co_return std::move(**got);
  }
  if (s.ok()) co_return s;
  if (s.code() == absl::StatusCode::kFailedPrecondition) {
    co_return absl::UnavailableError(absl::StrCat("processor ", id_, " is shutting down"));
  }
  co_return absl::UnavailableError(absl::StrCat("processor ", id_, " is busy: ", s.message()));
}

csp::Task<void> BatchProcessor::run(Shard& shard) {
  if (durable_next_) {
    co_await run_durable(shard);
    running_.done();
    co_return;
  }
  csp::Chan<csp::TimePoint> timer;  // nil while nothing is pending: never fires
  for (;;) {
    std::optional<Input> in;
    const std::size_t k = co_await csp::select(csp::recv(shard.input, &in), csp::recv(timer));
    if (k == 1) {
      timer = csp::Chan<csp::TimePoint>();
      if (!shard.pending.empty() && timeout_trigger_ != nullptr) timeout_trigger_->add();
      co_await flush(shard);
      continue;
    }
    if (!in) break;  // closed: shutting down
    if (shard.pending.empty()) timer = csp::after(config_.timeout);
    add_pending(shard, std::move(*in));
    if (static_cast<std::uint64_t>(shard.pending_items) >= config_.send_batch_size) {
      timer = csp::Chan<csp::TimePoint>();
      if (size_trigger_ != nullptr) size_trigger_->add();
      co_await flush(shard);
    }
  }
  co_await flush(shard);
  running_.done();
}

csp::Task<void> BatchProcessor::run_durable(Shard& shard) {
  // Group commit one level up: what arrived while the previous hand-ons were persisting goes
  // out together as soon as one of them finishes, so the disk is kept busy without a timer.
  csp::Chan<csp::Unit> finished(kMaxHandOnsInFlight);
  std::size_t in_flight = 0;  // hand-ons running; each ends by sending on `finished`
  bool open = true;
  while (open || in_flight > 0) {
    std::optional<Input> in;
    // Nil once closed, and while a full batch waits for a hand-on to finish: callers then wait
    // in the input channel (backpressure) instead of growing the batch past send_batch_size.
    const bool full = in_flight == kMaxHandOnsInFlight &&
                      static_cast<std::uint64_t>(shard.pending_items) >= config_.send_batch_size;
    csp::Chan<Input> input = open && !full ? shard.input : csp::Chan<Input>();
    const std::size_t k = co_await csp::select(csp::recv(input, &in), csp::recv(finished));
    if (k == 1) {
      --in_flight;
    } else if (!in) {
      open = false;
    } else {
      add_pending(shard, std::move(*in));
      // Take everything already waiting, up to a full batch.
      while (static_cast<std::uint64_t>(shard.pending_items) < config_.send_batch_size) {
        std::optional<Input> more = shard.input.try_recv();
        if (!more) break;
        add_pending(shard, std::move(*more));
      }
    }
    if (!shard.pending.empty() && in_flight < kMaxHandOnsInFlight) {
      ++in_flight;
      // Group commit has no timer: a batch goes when the disk is free, full or not.
      if (static_cast<std::uint64_t>(shard.pending_items) >= config_.send_batch_size) {
        if (size_trigger_ != nullptr) size_trigger_->add();
      }
      csp::go(hand_on_and_answer(std::move(shard.pending), std::exchange(shard.pending_items, 0),
                                 shard.metadata, std::move(shard.waiting), finished));
      shard.pending.clear();
      shard.waiting.clear();
    }
  }
}

csp::Task<void> BatchProcessor::hand_on_and_answer(std::vector<pipeline::Batch> parts,
                                                   std::int64_t items,
                                                   pipeline::ClientMetadataPtr metadata,
                                                   std::vector<csp::Chan<absl::Status>> waiting,
                                                   csp::Chan<csp::Unit> finished) {
  absl::Status outcome = co_await hand_on(std::move(parts), items, std::move(metadata));
  for (auto& answer : waiting) answer.try_send(outcome);
  // Last: run_durable() returns (and the processor may go) once every hand-on has said so.
  finished.try_send(csp::Unit{});  // room for every hand-on in flight
}

void BatchProcessor::add_pending(Shard& shard, Input in) {
  shard.pending_items += in.batch.items;
  shard.pending.push_back(std::move(in.batch));
  if (!in.answer.is_nil()) shard.waiting.push_back(std::move(in.answer));
}

csp::Task<void> BatchProcessor::flush(Shard& shard) {
  if (shard.pending.empty()) co_return;
  std::vector<csp::Chan<absl::Status>> waiting = std::move(shard.waiting);
  shard.waiting.clear();
  std::vector<pipeline::Batch> parts = std::move(shard.pending);
  shard.pending.clear();
  const std::int64_t items = std::exchange(shard.pending_items, 0);
  absl::Status outcome = co_await hand_on(std::move(parts), items, shard.metadata);
  for (auto& answer : waiting) answer.try_send(outcome);
}

csp::Task<absl::Status> BatchProcessor::hand_on(std::vector<pipeline::Batch> parts,
                                                std::int64_t items,
                                                pipeline::ClientMetadataPtr metadata) {
  std::vector<std::string_view> views;
  views.reserve(parts.size());
  csp::TimePoint received{};  // the oldest part's, kept for the latency measure
  for (const pipeline::Batch& b : parts) {
    views.push_back(b.bytes);
    if (b.received != csp::TimePoint{} && (received == csp::TimePoint{} || b.received < received)) {
      received = b.received;
    }
  }
  absl::StatusOr<std::string> merged = otlp::wire_concat(signal_, views);
  // The parts' tickets go with the parts; the merged bytes get one of their own (held, with its
  // pieces, until the next consumer has taken them).
  parts.clear();
  if (!merged.ok()) {
    dropped_items_ += items;
    host_.log(pipeline::LogLevel::kError, id_,
              absl::StrCat("dropping ", items, " items: ", merged.status().message()));
    co_return merged.status();
  }
  if (send_size_ != nullptr) send_size_->record(static_cast<double>(items));
  pipeline::MemoryTicket held = host_.admission().hold(static_cast<std::int64_t>(merged->size()));
  if (config_.send_batch_max_size == 0 ||
      static_cast<std::uint64_t>(items) <= config_.send_batch_max_size) {
    // A named batch, not a temporary in the co_await operand (g++ 12 pitfall, docs/csp.md).
    pipeline::Batch batch{signal_, *std::move(merged), items, std::move(held)};
    batch.received = received;
    batch.client = std::move(metadata);
    co_return co_await deliver(std::move(batch));
  }
  auto pieces = split_request(signal_, *merged, config_.send_batch_max_size);
  if (!pieces.ok()) {
    dropped_items_ += items;
    host_.log(pipeline::LogLevel::kError, id_,
              absl::StrCat("dropping ", items, " items: ", pieces.status().message()));
    co_return pieces.status();
  }
  absl::Status first_error;
  for (std::string& part : *pieces) {
    auto n = otlp::wire_count_items(signal_, part);
    pipeline::MemoryTicket part_held =
        host_.admission().hold(static_cast<std::int64_t>(part.size()));
    pipeline::Batch batch{signal_, std::move(part), n.ok() ? static_cast<std::int64_t>(*n) : 0,
                          std::move(part_held)};
    batch.received = received;
    batch.client = metadata;
    absl::Status s = co_await deliver(std::move(batch));
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  }
  co_return first_error;
}

csp::Task<absl::Status> BatchProcessor::deliver(pipeline::Batch batch) {
  // One call: a consumer that cannot take the batch yet blocks until it can or the shutdown
  // deadline passes (backpressure is a blocking send, retries belong to the exporter). What it
  // refuses is dropped.
  const std::int64_t items = batch.items;
  absl::Status s = co_await next_->consume(stop_ctx_, std::move(batch));
  if (s.ok()) co_return s;
  dropped_items_ += items;
  host_.log(pipeline::LogLevel::kError, id_,
            absl::StrCat("dropping ", items, " items: ", s.ToString()));
  co_return s;
}

csp::Task<void> BatchProcessor::shutdown(csp::Context ctx) {
  {
    std::lock_guard lock(shards_mu_);
    closed_ = true;
    for (auto& [key, shard] : shards_) shard->input.close();
  }
  // Retries may go on until the deadline; then they stop.
  DeadlineStop deadline_stop(ctx, stop_);
  co_await running_.wait();
  // Also joins the deadline watcher (a named Task: docs/csp.md, g++ 12).
  csp::Task<void> finished = deadline_stop.finish();
  co_await std::move(finished);
  stop_();
}

}  // namespace components
