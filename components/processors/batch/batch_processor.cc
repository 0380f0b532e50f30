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
// With a durable queue behind, a gathered batch goes out once this many callers wait for it.
constexpr std::size_t kMaxWaitingCallers = 32;

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
  std::tie(stop_ctx_, stop_) = csp::with_cancel(csp::Context::background());
}

csp::Task<absl::Status> BatchProcessor::start() {
  // Whatever is behind has started (the graph starts consumers first), so it can answer now;
  // asking once keeps the question off the per-batch path.
  durable_next_ = next_->durable();
  running_.add(1);
  csp::go(run());
  co_return absl::OkStatus();
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
  csp::Chan<csp::TimePoint> timer;  // nil while nothing is pending: never fires
  for (;;) {
    std::optional<Input> in;
    const std::size_t k = co_await csp::select(csp::recv(input_, &in), csp::recv(timer));
    if (k == 1) {
      timer = csp::Chan<csp::TimePoint>();
      co_await flush();
      continue;
    }
    if (!in) break;  // closed: shutting down
    if (pending_.empty()) timer = csp::after(config_.timeout);
    pending_items_ += in->batch.items;
    pending_.push_back(std::move(in->batch));
    if (!in->answer.is_nil()) waiting_.push_back(std::move(in->answer));
    // Callers waiting for persistence are bounded too: they hold a pipeline slot each.
    if (static_cast<std::uint64_t>(pending_items_) >= config_.send_batch_size ||
        waiting_.size() >= kMaxWaitingCallers) {
      timer = csp::Chan<csp::TimePoint>();
      co_await flush();
    }
  }
  co_await flush();
  running_.done();
}

csp::Task<void> BatchProcessor::flush() {
  if (pending_.empty()) co_return;
  std::vector<csp::Chan<absl::Status>> waiting = std::move(waiting_);
  waiting_.clear();
  absl::Status outcome = co_await hand_on();
  for (auto& answer : waiting) answer.try_send(outcome);
}

csp::Task<absl::Status> BatchProcessor::hand_on() {
  std::vector<std::string_view> views;
  views.reserve(pending_.size());
  for (const pipeline::Batch& b : pending_) views.push_back(b.bytes);
  absl::StatusOr<std::string> merged = otlp::wire_concat(signal_, views);
  const std::int64_t items = pending_items_;
  // The parts' tickets go with the parts; the merged bytes get one of their own (held, with its
  // pieces, until the next consumer has taken them).
  pending_.clear();
  pending_items_ = 0;
  if (!merged.ok()) {
    dropped_items_ += items;
    host_.log(pipeline::LogLevel::kError, id_,
              absl::StrCat("dropping ", items, " items: ", merged.status().message()));
    co_return merged.status();
  }
  pipeline::MemoryTicket held = host_.admission().hold(static_cast<std::int64_t>(merged->size()));
  if (config_.send_batch_max_size == 0 ||
      static_cast<std::uint64_t>(items) <= config_.send_batch_max_size) {
    // A named batch, not a temporary in the co_await operand (g++ 12 pitfall, docs/csp.md).
    pipeline::Batch batch{signal_, *std::move(merged), items, std::move(held)};
    co_return co_await deliver(std::move(batch));
  }
  auto parts = split_request(signal_, *merged, config_.send_batch_max_size);
  if (!parts.ok()) {
    dropped_items_ += items;
    host_.log(pipeline::LogLevel::kError, id_,
              absl::StrCat("dropping ", items, " items: ", parts.status().message()));
    co_return parts.status();
  }
  absl::Status first_error;
  for (std::string& part : *parts) {
    auto n = otlp::wire_count_items(signal_, part);
    pipeline::MemoryTicket part_held =
        host_.admission().hold(static_cast<std::int64_t>(part.size()));
    pipeline::Batch batch{signal_, std::move(part), n.ok() ? static_cast<std::int64_t>(*n) : 0,
                          std::move(part_held)};
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
