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
    : id_(std::move(id)),
      config_(config),
      signal_(signal),
      next_(std::move(next)),
      host_(host),
      input_(kInputCapacity) {
  input_.set_name("processor " + id_ + " " + std::string(otlp::signal_name(signal_)) + " input");
  std::tie(stop_ctx_, stop_) = csp::with_cancel(csp::Context::background());
}

csp::Task<absl::Status> BatchProcessor::start() {
  // Whatever is behind has started (the graph starts consumers first), so it can answer now;
  // asking once keeps the question off the per-batch path.
  durable_next_ = next_->durable();
  telemetry::Registry& registry = host_.telemetry();
  const telemetry::Labels labels = {{"processor", id_}};
  if (registry.enabled()) register_metrics(registry, labels);
  running_.add(1);
  csp::go(run());
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
  batch.memory = host_.admission().hold(static_cast<std::int64_t>(batch.bytes.size()));
  // With a durable queue behind, OK must mean persisted: wait for the hand-on's answer.
  Input in{std::move(batch),
           durable_next_ ? csp::Chan<absl::Status>(1) : csp::Chan<absl::Status>()};
  csp::Chan<absl::Status> answer = in.answer;
  absl::Status s = co_await csp::send_ctx(ctx, input_, std::move(in));
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

csp::Task<void> BatchProcessor::run() {
  if (durable_next_) {
    co_await run_durable();
    running_.done();
    co_return;
  }
  csp::Chan<csp::TimePoint> timer;  // nil while nothing is pending: never fires
  for (;;) {
    std::optional<Input> in;
    const std::size_t k = co_await csp::select(csp::recv(input_, &in), csp::recv(timer));
    if (k == 1) {
      timer = csp::Chan<csp::TimePoint>();
      if (!pending_.empty() && timeout_trigger_ != nullptr) timeout_trigger_->add();
      co_await flush();
      continue;
    }
    if (!in) break;  // closed: shutting down
    if (pending_.empty()) timer = csp::after(config_.timeout);
    add_pending(std::move(*in));
    if (static_cast<std::uint64_t>(pending_items_) >= config_.send_batch_size) {
      timer = csp::Chan<csp::TimePoint>();
      if (size_trigger_ != nullptr) size_trigger_->add();
      co_await flush();
    }
  }
  co_await flush();
  running_.done();
}

csp::Task<void> BatchProcessor::run_durable() {
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
                      static_cast<std::uint64_t>(pending_items_) >= config_.send_batch_size;
    csp::Chan<Input> input = open && !full ? input_ : csp::Chan<Input>();
    const std::size_t k = co_await csp::select(csp::recv(input, &in), csp::recv(finished));
    if (k == 1) {
      --in_flight;
    } else if (!in) {
      open = false;
    } else {
      add_pending(std::move(*in));
      // Take everything already waiting, up to a full batch.
      while (static_cast<std::uint64_t>(pending_items_) < config_.send_batch_size) {
        std::optional<Input> more = input_.try_recv();
        if (!more) break;
        add_pending(std::move(*more));
      }
    }
    if (!pending_.empty() && in_flight < kMaxHandOnsInFlight) {
      ++in_flight;
      // Group commit has no timer: a batch goes when the disk is free, full or not.
      if (static_cast<std::uint64_t>(pending_items_) >= config_.send_batch_size) {
        if (size_trigger_ != nullptr) size_trigger_->add();
      }
      csp::go(hand_on_and_answer(std::move(pending_), std::exchange(pending_items_, 0),
                                 std::move(waiting_), finished));
      pending_.clear();
      waiting_.clear();
    }
  }
}

csp::Task<void> BatchProcessor::hand_on_and_answer(std::vector<pipeline::Batch> parts,
                                                   std::int64_t items,
                                                   std::vector<csp::Chan<absl::Status>> waiting,
                                                   csp::Chan<csp::Unit> finished) {
  absl::Status outcome = co_await hand_on(std::move(parts), items);
  for (auto& answer : waiting) answer.try_send(outcome);
  // Last: run_durable() returns (and the processor may go) once every hand-on has said so.
  finished.try_send(csp::Unit{});  // room for every hand-on in flight
}

void BatchProcessor::add_pending(Input in) {
  pending_items_ += in.batch.items;
  pending_.push_back(std::move(in.batch));
  if (!in.answer.is_nil()) waiting_.push_back(std::move(in.answer));
}

csp::Task<void> BatchProcessor::flush() {
  if (pending_.empty()) co_return;
  std::vector<csp::Chan<absl::Status>> waiting = std::move(waiting_);
  waiting_.clear();
  std::vector<pipeline::Batch> parts = std::move(pending_);
  pending_.clear();
  const std::int64_t items = std::exchange(pending_items_, 0);
  absl::Status outcome = co_await hand_on(std::move(parts), items);
  for (auto& answer : waiting) answer.try_send(outcome);
}

csp::Task<absl::Status> BatchProcessor::hand_on(std::vector<pipeline::Batch> parts,
                                                std::int64_t items) {
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
  input_.close();
  // Retries may go on until the deadline; then they stop.
  DeadlineStop deadline_stop(ctx, stop_);
  co_await running_.wait();
  // Also joins the deadline watcher (a named Task: docs/csp.md, g++ 12).
  csp::Task<void> finished = deadline_stop.finish();
  co_await std::move(finished);
  stop_();
}

}  // namespace components
