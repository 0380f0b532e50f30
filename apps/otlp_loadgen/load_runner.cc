#include "apps/otlp_loadgen/load_runner.h"

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/timer.h"
#include "transport/grpc_client.h"
#include "transport/http_client.h"

namespace loadgen {

using Clock = std::chrono::steady_clock;

std::optional<Protocol> parse_protocol(std::string_view name) {
  if (name == "grpc") return Protocol::kGrpc;
  if (name == "http/protobuf" || name == "http") return Protocol::kHttpProtobuf;
  if (name == "http/json") return Protocol::kHttpJson;
  return std::nullopt;
}

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
  }
  return "unknown";
}

absl::Status LoadOptions::validate() const {
  if (endpoint.empty()) return absl::InvalidArgumentError("endpoint is empty");
  if (rate < 0) return absl::InvalidArgumentError("rate must be >= 0");
  if (concurrency < 1) return absl::InvalidArgumentError("concurrency must be >= 1");
  if (max_in_flight < 1) return absl::InvalidArgumentError("max in flight must be >= 1");
  if (timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  if (protocol == Protocol::kGrpc && compression == otlp::Compression::kZstd) {
    // The gRPC client (grpc++ 1.51) has no zstd.
    return absl::InvalidArgumentError("zstd is for HTTP only; gRPC takes none, gzip or deflate");
  }
  return absl::OkStatus();
}

Counters Counters::minus(const Counters& e) const {
  Counters d;
  d.requests_sent = requests_sent - e.requests_sent;
  d.requests_ok = requests_ok - e.requests_ok;
  d.requests_refused = requests_refused - e.requests_refused;
  d.requests_failed = requests_failed - e.requests_failed;
  d.requests_skipped = requests_skipped - e.requests_skipped;
  d.items_sent = items_sent - e.items_sent;
  d.items_accepted = items_accepted - e.items_accepted;
  d.items_refused = items_refused - e.items_refused;
  d.items_failed = items_failed - e.items_failed;
  d.bytes_sent = bytes_sent - e.bytes_sent;
  return d;
}

struct LoadRunner::Shared {
  std::atomic<std::uint64_t> requests_sent{0}, requests_ok{0}, requests_refused{0},
      requests_failed{0}, requests_skipped{0};
  std::atomic<std::uint64_t> items_sent{0}, items_accepted{0}, items_refused{0}, items_failed{0};
  std::atomic<std::uint64_t> bytes_sent{0};
};

namespace {

// A "no" from the server, as opposed to no usable answer at all (see the header).
bool is_refusal(const transport::ExportResult& r) {
  if (r.retry_after.has_value()) return true;
  switch (r.status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
      return false;
    default:
      return true;
  }
}

}  // namespace

LoadRunner::LoadRunner(otlp::Signal signal, LoadOptions options,
                       std::vector<GeneratedRequest> requests)
    : signal_(signal),
      options_(std::move(options)),
      requests_(std::move(requests)),
      shared_(std::make_unique<Shared>()) {
  if (options_.protocol == Protocol::kGrpc) {
    transport::GrpcClientOptions o;
    o.endpoint = options_.endpoint;
    o.insecure = true;
    o.compression = options_.compression;
    o.timeout = options_.timeout;
    o.headers = options_.headers;
    grpc_ = std::make_unique<transport::GrpcExporterClient>(std::move(o));
  } else {
    transport::HttpClientOptions o;
    o.endpoint = absl::StartsWith(options_.endpoint, "http://") ? options_.endpoint
                                                                : "http://" + options_.endpoint;
    o.encoding = options_.protocol == Protocol::kHttpJson ? transport::HttpEncoding::kJson
                                                          : transport::HttpEncoding::kProto;
    o.compression = options_.compression;
    o.timeout = options_.timeout;
    o.headers = options_.headers;
    // Keep a connection per request in flight, so the load does not re-dial.
    o.max_idle_connections = static_cast<std::size_t>(
        std::max(options_.concurrency, options_.rate > 0 ? options_.max_in_flight : 1));
    http_ = std::make_unique<transport::HttpExporterClient>(std::move(o));
  }
}

LoadRunner::~LoadRunner() = default;

bool LoadRunner::should_stop() const {
  return stopping_.load(std::memory_order_relaxed) || Clock::now() >= deadline_;
}

Counters LoadRunner::snapshot() const {
  Counters c;
  c.requests_sent = shared_->requests_sent.load();
  c.requests_ok = shared_->requests_ok.load();
  c.requests_refused = shared_->requests_refused.load();
  c.requests_failed = shared_->requests_failed.load();
  c.requests_skipped = shared_->requests_skipped.load();
  c.items_sent = shared_->items_sent.load();
  c.items_accepted = shared_->items_accepted.load();
  c.items_refused = shared_->items_refused.load();
  c.items_failed = shared_->items_failed.load();
  c.bytes_sent = shared_->bytes_sent.load();
  return c;
}

csp::Task<transport::ExportResult> LoadRunner::export_body(std::string body) {
  csp::Context ctx = csp::Context::background();
  if (grpc_) {
    csp::Task<transport::ExportResult> call = grpc_->export_request(signal_, std::move(body), ctx);
    transport::ExportResult r = co_await std::move(call);
    co_return r;
  }
  csp::Task<transport::ExportResult> call = http_->export_request(signal_, std::move(body), ctx);
  transport::ExportResult r = co_await std::move(call);
  co_return r;
}

csp::Task<void> LoadRunner::send_one(std::uint64_t index, Clock::time_point due) {
  const GeneratedRequest& g = requests_[index % requests_.size()];
  shared_->requests_sent.fetch_add(1);
  shared_->items_sent.fetch_add(g.items);
  shared_->bytes_sent.fetch_add(g.body.size());
  std::string body = g.body;
  transport::ExportResult r = co_await export_body(std::move(body));
  const auto latency = Clock::now() - due;
  if (r.status.ok()) {
    const std::uint64_t rejected = std::min<std::uint64_t>(
        g.items, static_cast<std::uint64_t>(std::max<std::int64_t>(r.rejected_items, 0)));
    shared_->requests_ok.fetch_add(1);
    shared_->items_accepted.fetch_add(g.items - rejected);
    shared_->items_refused.fetch_add(rejected);
    latencies_.record(std::chrono::duration_cast<std::chrono::nanoseconds>(latency));
  } else {
    if (is_refusal(r)) {
      shared_->requests_refused.fetch_add(1);
      shared_->items_refused.fetch_add(g.items);
    } else {
      shared_->requests_failed.fetch_add(1);
      shared_->items_failed.fetch_add(g.items);
    }
    std::lock_guard lock(errors_mu_);
    ++errors_[absl::StatusCodeToString(r.status.code())];
    if (first_error_.empty()) first_error_ = r.status.ToString();
  }
}

csp::Task<void> LoadRunner::closed_loop_worker() {
  while (!should_stop()) {
    const std::uint64_t index = issued_.fetch_add(1);
    if (options_.count > 0 && index >= options_.count) break;
    in_flight_.fetch_add(1);
    co_await send_one(index, Clock::now());
    in_flight_.fetch_sub(1);
  }
  running_.done();
}

csp::Task<void> LoadRunner::pacer() {
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / options_.rate));
  const Clock::time_point start = Clock::now();
  for (std::uint64_t i = 0;; ++i) {
    if (options_.count > 0 && i >= options_.count) break;
    // Due times are fixed from the start, so a late wake-up does not shift the ones after it.
    const Clock::time_point due = start + interval * static_cast<std::int64_t>(i);
    const auto wait = due - Clock::now();
    if (wait > Clock::duration::zero()) co_await csp::sleep(wait);
    if (should_stop()) break;
    if (in_flight_.load() >= options_.max_in_flight) {
      shared_->requests_skipped.fetch_add(1);
      continue;
    }
    in_flight_.fetch_add(1);
    running_.add(1);
    csp::go([this, i, due]() -> csp::Task<void> {
      co_await send_one(i, due);
      in_flight_.fetch_sub(1);
      running_.done();
    });
  }
  running_.done();
}

Report LoadRunner::run(const ProgressFn& on_progress) {
  const Clock::time_point start = Clock::now();
  if (options_.duration > std::chrono::milliseconds::zero()) deadline_ = start + options_.duration;
  if (options_.rate > 0) {
    running_.add(1);
    csp::go(pacer());
  } else {
    running_.add(options_.concurrency);
    for (int i = 0; i < options_.concurrency; ++i) csp::go(closed_loop_worker());
  }

  // Report progress on whole seconds from the start until every goroutine has ended.
  Counters last = {};
  std::size_t last_mark = 0;
  Clock::time_point last_tick = start;
  Clock::time_point next_tick = start + std::chrono::seconds(1);
  while (running_.count() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const Clock::time_point now = Clock::now();
    if (now < next_tick) continue;
    next_tick += std::chrono::seconds(1);
    if (!on_progress) continue;
    Progress p;
    p.elapsed = now - start;
    p.interval = now - last_tick;
    p.total = snapshot();
    p.delta = p.total.minus(last);
    p.delta_latency = latencies_.since(last_mark);
    p.in_flight = in_flight_.load();
    last = p.total;
    last_mark += p.delta_latency.count;
    last_tick = now;
    on_progress(p);
  }

  Report report;
  report.elapsed = Clock::now() - start;
  report.counters = snapshot();
  report.latency = latencies_.percentiles();
  std::lock_guard lock(errors_mu_);
  report.errors = errors_;
  report.first_error = first_error_;
  return report;
}

}  // namespace loadgen
