#include "components/receivers/otlp/otlp_receiver.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "components/internal/listen_address.h"
#include "otlp/wire.h"

namespace components {

namespace {
constexpr std::chrono::milliseconds kRetryAfter = transport::kMemoryRefusalRetryAfter;
}  // namespace

OtlpReceiver::OtlpReceiver(std::string id, OtlpReceiverConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {}

void OtlpReceiver::connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) {
  next_[static_cast<std::size_t>(signal)] = std::move(next);
}

csp::Task<transport::ExportResult> OtlpReceiver::handle(transport::ExportRequest request,
                                                        std::int64_t* counted,
                                                        bool include_metadata) {
  transport::ExportResult result;
  const auto& next = next_[static_cast<std::size_t>(request.signal)];
  if (!next) {
    result.status = absl::UnimplementedError(absl::StrCat(
        "no pipeline receives ", std::string(otlp::signal_name(request.signal)), " from ", id_));
    co_return result;
  }
  // The server claimed the request's bytes before it buffered, inflated and decoded them
  // (reserve_memory, set in start()). The claim stays alive until this request is answered:
  // the batch is accounted as claimed while the pipelines handle it, then as held by whatever
  // buffers it. A server that took no claim gets one here, on the body's size.
  transport::MemoryClaim memory = std::move(request.memory);
  if (memory == nullptr) {
    memory = host_.admission().claim(static_cast<std::int64_t>(request.body.size()));
    if (memory == nullptr) {
      result.status = absl::ResourceExhaustedError("data refused due to high memory usage");
      result.retry_after = kRetryAfter;
      co_return result;
    }
  }
  auto items = otlp::wire_count_items(request.signal, request.body);
  if (!items.ok()) {
    result.status = absl::InvalidArgumentError(std::string(items.status().message()));
    co_return result;
  }
  if (counted != nullptr) *counted = static_cast<std::int64_t>(*items);
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), config_.request_timeout);
  // A named batch, not a temporary in the co_await operand (g++ 12 pitfall, docs/csp.md).
  pipeline::Batch batch{request.signal, std::move(request.body), static_cast<std::int64_t>(*items)};
  batch.received = csp::Clock::now();
  if (include_metadata) {
    batch.client = std::make_shared<const pipeline::ClientMetadata>(
        pipeline::ClientMetadata{std::move(request.peer), std::move(request.metadata)});
  }
  absl::Status s = co_await next->consume(ctx, std::move(batch));
  cancel();
  if (s.code() == absl::StatusCode::kDeadlineExceeded || s.code() == absl::StatusCode::kCancelled) {
    s = absl::UnavailableError(
        absl::StrCat("pipeline did not answer in time: ", std::string(s.message())));
  }
  if (pipeline::is_retryable(s)) result.retry_after = kRetryAfter;
  result.status = std::move(s);
  co_return result;
}

csp::Task<transport::ExportResult> OtlpReceiver::handle_counted(Transport transport,
                                                                transport::ExportRequest request) {
  const otlp::Signal signal = request.signal;
  std::int64_t items = 0;
  // UDP datagrams carry no headers: their batches never have client metadata.
  const bool include_metadata =
      (transport == kGrpc && config_.grpc && config_.grpc->include_metadata) ||
      (transport == kHttp && config_.http && config_.http->include_metadata);
  transport::ExportResult result = co_await handle(std::move(request), &items, include_metadata);
  // The Collector counts what the pipeline took or refused; requests the server turned away
  // before decoding (malformed, over a limit) never reach here. A partial success counts its
  // rejected items as refused.
  if (items > 0) {
    if (!result.status.ok()) {
      refused_metric_[transport].add(signal, items);
    } else {
      const std::int64_t rejected = std::clamp<std::int64_t>(result.rejected_items, 0, items);
      accepted_metric_[transport].add(signal, items - rejected);
      if (rejected > 0) refused_metric_[transport].add(signal, rejected);
    }
  }
  co_return result;
}

void OtlpReceiver::log_tls(const char* protocol, const transport::ServerTls* tls) {
  if (tls == nullptr) return;
  const transport::TlsServerOptions& o = tls->options();
  host_.log(pipeline::LogLevel::kInfo, id_,
            absl::StrCat(protocol, " speaks TLS (", o.min_version.empty() ? "1.2" : o.min_version,
                         " and up) with ", o.cert_file,
                         o.client_ca_file.empty() ? ""
                                                  : absl::StrCat("; client certificates from ",
                                                                 o.client_ca_file, " required")));
}

csp::Task<absl::Status> OtlpReceiver::start() {
  for (Transport t : {kGrpc, kHttp, kUdp}) {
    const char* name = t == kGrpc ? "grpc" : t == kHttp ? "http" : "udp";
    const telemetry::Labels labels = {{"receiver", id_}, {"transport", name}};
    accepted_metric_[t] = internal::SignalCounters(host_.telemetry(), "otelcol_receiver_accepted_",
                                                   "Items the pipeline accepted: ", labels);
    refused_metric_[t] = internal::SignalCounters(host_.telemetry(), "otelcol_receiver_refused_",
                                                  "Items the pipeline refused: ", labels);
  }
  auto grpc_handler = [this](transport::ExportRequest r) {
    return handle_counted(kGrpc, std::move(r));
  };
  auto http_handler = [this](transport::ExportRequest r) {
    return handle_counted(kHttp, std::move(r));
  };
  // Servers ask the collector's memory budget before they buffer, inflate or decode bytes.
  transport::MemoryReserver reserve = [&admission = host_.admission()](std::int64_t bytes) {
    return admission.claim(bytes);
  };
  if (config_.grpc) config_.grpc->reserve_memory = reserve;
  if (config_.http) config_.http->reserve_memory = reserve;
  if (config_.udp) config_.udp->reserve_memory = reserve;
  // Requests without the right credentials are refused before their bodies are read, and
  // counted (the items they carried are unknown).
  auto authenticator = [this](const std::shared_ptr<BearerTokenAuth>& auth,
                              const char* transport) -> transport::Authenticator {
    if (auth == nullptr) return {};
    telemetry::Counter* refused = nullptr;
    if (host_.telemetry().enabled()) {
      refused = &host_.telemetry().counter(
          "otlpd_receiver_unauthenticated_requests",
          "Requests refused before their body was read: missing or wrong credentials.",
          {{"receiver", id_}, {"transport", transport}});
    }
    return [auth, refused](std::string_view authorization) {
      const bool ok = auth->check(authorization);
      if (!ok && refused != nullptr) refused->add();
      return ok;
    };
  };
  if (config_.grpc) config_.grpc->authenticate = authenticator(config_.grpc_auth, "grpc");
  if (config_.http) config_.http->authenticate = authenticator(config_.http_auth, "http");
  if (config_.grpc) {
    grpc_ = std::make_unique<transport::GrpcServer>(*config_.grpc, grpc_handler);
    auto port = grpc_->start();
    if (!port.ok()) co_return port.status();
    host_.report_endpoint(id_, "grpc", internal::listen_address(config_.grpc->endpoint, *port));
    log_tls("grpc", config_.grpc->tls.get());
  }
  if (config_.http) {
    http_ = std::make_unique<transport::HttpServer>(*config_.http, http_handler);
    auto port = http_->start();
    if (!port.ok()) co_return port.status();
    host_.report_endpoint(id_, "http", internal::listen_address(config_.http->endpoint, *port));
    log_tls("http", config_.http->tls.get());
  }
  if (config_.udp) {
    if (host_.telemetry().enabled()) {
      for (std::size_t r = 0; r < transport::kUdpDropReasons; ++r) {
        udp_dropped_[r] = &host_.telemetry().counter(
            "otlpd_receiver_udp_dropped_datagrams",
            "Datagrams the UDP receiver dropped, by reason: too_large, malformed, busy (no room "
            "in flight or in memory), refused (by the pipeline).",
            {{"receiver", id_},
             {"reason", transport::udp_drop_name(static_cast<transport::UdpDrop>(r))}});
      }
    }
    auto on_drop = [this](transport::UdpDrop why, otlp::Signal signal, std::int64_t items) {
      if (telemetry::Counter* c = udp_dropped_[static_cast<std::size_t>(why)]) c->add();
      // Refused items are counted by handle_counted; the others never reached the pipeline.
      if (why == transport::UdpDrop::kBusy && items > 0) refused_metric_[kUdp].add(signal, items);
    };
    udp_ = std::make_unique<transport::UdpServer>(
        *config_.udp,
        [this](transport::ExportRequest r) { return handle_counted(kUdp, std::move(r)); }, on_drop);
    auto port = udp_->start();
    if (!port.ok()) co_return port.status();
    host_.report_endpoint(id_, "udp", internal::listen_address(config_.udp->endpoint, *port));
    if (config_.udp->receive_buffer_size > 0 &&
        udp_->receive_buffer_size() < config_.udp->receive_buffer_size) {
      host_.log(
          pipeline::LogLevel::kWarn, id_,
          absl::StrCat("udp: asked for a receive buffer of ", config_.udp->receive_buffer_size,
                       " bytes, the kernel gave ", udp_->receive_buffer_size(),
                       " (raise net.core.rmem_max, or run with CAP_NET_ADMIN)"));
    }
  }
  co_return absl::OkStatus();
}

csp::Task<void> OtlpReceiver::shutdown(csp::Context ctx) {
  const csp::TimePoint deadline = ctx.deadline().value_or(csp::TimePoint::max());
  if (grpc_) co_await grpc_->shutdown_async(deadline);
  if (http_) co_await http_->shutdown_async(deadline);
  if (udp_) co_await udp_->shutdown_async(deadline);
}

}  // namespace components
