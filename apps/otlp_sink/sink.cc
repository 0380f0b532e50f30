#include "apps/otlp_sink/sink.h"

#include <chrono>

#include "otlp/wire.h"
#include "transport/grpc_server.h"
#include "transport/http_server.h"

namespace sink {

struct Sink::Counters {
  std::array<std::atomic<std::uint64_t>, 4> requests{};
  std::array<std::atomic<std::uint64_t>, 4> items{};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> uncountable{0};
  std::atomic<std::int64_t> first_item_unix_ns{0};
  std::atomic<std::int64_t> last_item_unix_ns{0};
};

namespace {

std::int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::uint64_t SinkCounts::requests() const {
  std::uint64_t n = 0;
  for (const SignalCounts& c : by_signal) n += c.requests;
  return n;
}

std::uint64_t SinkCounts::items() const {
  std::uint64_t n = 0;
  for (const SignalCounts& c : by_signal) n += c.items;
  return n;
}

Sink::Sink(SinkOptions options)
    : options_(std::move(options)), counters_(std::make_unique<Counters>()) {}

Sink::~Sink() { shutdown(); }

transport::ExportHandler Sink::handler() {
  Counters* c = counters_.get();
  const bool count_items = options_.count_items;
  return [c, count_items](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
    const auto s = static_cast<std::size_t>(r.signal);
    c->requests[s].fetch_add(1, std::memory_order_relaxed);
    c->bytes.fetch_add(r.body.size(), std::memory_order_relaxed);
    if (count_items) {
      absl::StatusOr<std::uint64_t> n = otlp::wire_count_items(r.signal, r.body);
      if (!n.ok()) {
        c->uncountable.fetch_add(1, std::memory_order_relaxed);
      } else if (*n > 0) {
        c->items[s].fetch_add(*n, std::memory_order_relaxed);
        const std::int64_t now = unix_ns();
        std::int64_t unset = 0;
        c->first_item_unix_ns.compare_exchange_strong(unset, now);
        // The latest wins; requests finishing out of order may store a slightly earlier time.
        std::int64_t last = c->last_item_unix_ns.load();
        while (last < now && !c->last_item_unix_ns.compare_exchange_weak(last, now)) {
        }
      }
    }
    co_return transport::ExportResult{};
  };
}

absl::Status Sink::start() {
  if (!options_.grpc_endpoint.empty()) {
    transport::GrpcServerOptions o;
    o.endpoint = options_.grpc_endpoint;
    o.max_recv_msg_size_mib = options_.max_request_mib;
    grpc_ = std::make_unique<transport::GrpcServer>(std::move(o), handler());
    absl::StatusOr<int> port = grpc_->start();
    if (!port.ok()) return port.status();
    grpc_port_ = *port;
  }
  if (!options_.http_endpoint.empty()) {
    transport::HttpServerOptions o;
    o.endpoint = options_.http_endpoint;
    o.max_request_body_bytes = static_cast<std::size_t>(options_.max_request_mib) << 20;
    http_ = std::make_unique<transport::HttpServer>(std::move(o), handler());
    absl::StatusOr<int> port = http_->start();
    if (!port.ok()) return port.status();
    http_port_ = *port;
  }
  return absl::OkStatus();
}

SinkCounts Sink::counts() const {
  SinkCounts out;
  for (std::size_t i = 0; i < out.by_signal.size(); ++i) {
    out.by_signal[i].requests = counters_->requests[i].load();
    out.by_signal[i].items = counters_->items[i].load();
  }
  out.bytes = counters_->bytes.load();
  out.uncountable = counters_->uncountable.load();
  out.first_item_unix_ns = counters_->first_item_unix_ns.load();
  out.last_item_unix_ns = counters_->last_item_unix_ns.load();
  return out;
}

void Sink::shutdown() {
  const csp::TimePoint deadline = csp::Clock::now() + std::chrono::seconds(5);
  if (grpc_) grpc_->shutdown(deadline);
  if (http_) http_->shutdown(deadline);
}

}  // namespace sink
