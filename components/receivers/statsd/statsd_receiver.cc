#include "components/receivers/statsd/statsd_receiver.h"

#include "absl/strings/str_cat.h"
#include "components/internal/listen_address.h"
#include "csp/csp.h"
#include "csp/select.h"
#include "csp/timer.h"

namespace components {

namespace {

constexpr std::size_t kMaxDatagram = 65507;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* outcome_name(StatsdReceiver::Outcome o) {
  static constexpr const char* kNames[] = {"accepted", "malformed", "dropped", "too_large"};
  return kNames[o];
}

}  // namespace

StatsdReceiver::StatsdReceiver(std::string id, StatsdReceiverConfig config, pipeline::Host& host)
    : id_(std::move(id)),
      config_(std::move(config)),
      host_(host),
      aggregator_(config_.aggregation),
      interval_start_ns_(now_ns()) {}

StatsdReceiver::~StatsdReceiver() {
  if (socket_ != nullptr) socket_->abort();
}

void StatsdReceiver::connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) {
  if (signal == otlp::Signal::kMetrics) next_ = std::move(next);
}

void StatsdReceiver::note(Outcome outcome) {
  counts_[outcome].fetch_add(1, std::memory_order_relaxed);
  if (metrics_[outcome] != nullptr) metrics_[outcome]->add();
}

void StatsdReceiver::take(std::string_view datagram) {
  std::lock_guard lock(mu_);
  while (!datagram.empty()) {
    const std::size_t end = datagram.find('\n');
    const std::string_view line = datagram.substr(0, end);
    datagram = end == std::string_view::npos ? std::string_view() : datagram.substr(end + 1);
    if (line.empty() || line == "\r") continue;
    absl::StatusOr<StatsdSample> sample = parse_statsd_line(line);
    if (!sample.ok()) {
      note(kMalformed);
      continue;
    }
    note(aggregator_.add(*sample) ? kAccepted : kDropped);
  }
}

csp::Task<absl::Status> StatsdReceiver::start() {
  telemetry::Registry& registry = host_.telemetry();
  if (registry.enabled()) {
    for (std::size_t o = 0; o < kOutcomes; ++o) {
      metrics_[o] = &registry.counter(
          "otlpd_receiver_statsd_lines",
          "StatsD lines by outcome: accepted, malformed, dropped (a limit of the interval), "
          "too_large (in a datagram over 64 KiB).",
          {{"receiver", id_}, {"outcome", outcome_name(static_cast<Outcome>(o))}});
    }
    refused_metric_ =
        &registry.counter("otlpd_receiver_statsd_refused_points",
                          "Aggregated data points the pipeline refused.", {{"receiver", id_}});
  }
  absl::StatusOr<transport::internal::BoundUdp> bound =
      transport::internal::open_udp(config_.endpoint, id_, 4u << 20);
  if (!bound.ok()) co_return bound.status();
  socket_ = bound->socket;
  host_.report_endpoint(id_, "udp", internal::listen_address(config_.endpoint, bound->port));
  {
    std::lock_guard lock(mu_);
    interval_start_ns_ = now_ns();
  }
  goroutines_.add(2);
  csp::go([](StatsdReceiver* self) -> csp::Task<void> {
    csp::Task<void> read = transport::internal::read_datagrams(
        self->socket_, kMaxDatagram,
        [self](std::string_view data, bool truncated, const sockaddr_storage&) {
          if (truncated) {
            self->note(kTooLarge);
            return;
          }
          self->take(data);
        });
    co_await std::move(read);
    self->goroutines_.done();
  }(this));
  csp::go([](StatsdReceiver* self) -> csp::Task<void> {
    co_await self->flusher();
    self->goroutines_.done();
  }(this));
  co_return absl::OkStatus();
}

csp::Task<void> StatsdReceiver::flusher() {
  for (;;) {
    csp::Chan<csp::TimePoint> tick = csp::after(config_.aggregation_interval);
    const std::size_t k = co_await csp::select(csp::recv(tick), csp::recv(stop_));
    co_await flush();
    if (k == 1) break;  // stopped: that was the last flush
  }
}

csp::Task<void> StatsdReceiver::flush() {
  otlp::MetricsRequest request;
  std::int64_t points = 0;
  {
    std::lock_guard lock(mu_);
    const std::int64_t now = now_ns();
    points = aggregator_.data_points();
    request = aggregator_.flush(interval_start_ns_, now);
    interval_start_ns_ = now;
  }
  if (points == 0 || next_ == nullptr) co_return;
  pipeline::Batch batch{otlp::Signal::kMetrics, request.SerializeAsString(), points};
  batch.received = csp::Clock::now();
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), config_.request_timeout);
  absl::Status s = co_await next_->consume(ctx, std::move(batch));
  cancel();
  if (!s.ok()) {
    refused_points_ += points;
    if (refused_metric_ != nullptr) refused_metric_->add(points);
    host_.log(pipeline::LogLevel::kWarn, id_,
              absl::StrCat("the pipeline refused ", points,
                           " aggregated data points (UDP keeps nothing to retry): ", s.ToString()));
  }
}

csp::Task<void> StatsdReceiver::shutdown(csp::Context ctx) {
  (void)ctx;
  if (socket_ == nullptr) co_return;
  socket_->abort();
  stop_.close();
  co_await goroutines_.wait();
}

}  // namespace components
