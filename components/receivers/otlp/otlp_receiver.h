#pragma once
// The `otlp` receiver: OTLP over gRPC and over HTTP (protobuf or JSON) for traces, metrics,
// logs and profiles.
//
// Contract:
//  - Both servers claim request bytes from the collector's memory budget (pipeline::Admission,
//    as their reserve_memory) before they buffer, inflate or decode them; refused requests get
//    the retryable answer (gRPC RESOURCE_EXHAUSTED + RetryInfo, HTTP 429 + Retry-After). The
//    claims are kept until the request is answered.
//  - A request is answered when every pipeline it feeds has accepted it (OK), or with the
//    first refusal: retryable ones become gRPC UNAVAILABLE / HTTP 503 with a retry delay.
//  - Transports validate what they receive (malformed input never reaches the pipelines).
//  - shutdown() stops accepting and waits for the requests in flight to be answered.

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "components/extensions/bearertokenauth/bearer_token_auth.h"
#include "components/internal/self_metrics.h"
#include "pipeline/component.h"
#include "pipeline/host.h"
#include "transport/grpc_server.h"
#include "transport/http_server.h"
#include "transport/udp_server.h"

namespace components {

struct OtlpReceiverConfig {
  std::optional<transport::GrpcServerOptions> grpc;
  std::optional<transport::HttpServerOptions> http;
  // OTLP over UDP (otlpd's own, transport/udp_server.h): datagrams, no answers, counted drops.
  std::optional<transport::UdpServerOptions> udp;
  // protocols::<p>::auth: the authenticator each server asks (null: none).
  std::shared_ptr<BearerTokenAuth> grpc_auth;
  std::shared_ptr<BearerTokenAuth> http_auth;
  // How long a request may wait for the pipelines' answer before the client is told to retry
  // (shorter than the usual client timeouts, so the client hears "retry" rather than giving up).
  csp::Duration request_timeout = std::chrono::seconds(5);
};

class OtlpReceiver final : public pipeline::Receiver {
 public:
  OtlpReceiver(std::string id, OtlpReceiverConfig config, pipeline::Host& host);

  void connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  // The handler both transports call; public for tests.
  // *items (if given) receives the request's item count once it is known. include_metadata:
  // the batch carries the client's address and request.metadata (Batch::client).
  csp::Task<transport::ExportResult> handle(transport::ExportRequest request,
                                            std::int64_t* items = nullptr,
                                            bool include_metadata = false);
  // The same, counting into the metrics of `transport` (kGrpc or kHttp).
  enum Transport { kGrpc = 0, kHttp = 1, kUdp = 2 };
  csp::Task<transport::ExportResult> handle_counted(Transport transport,
                                                    transport::ExportRequest request);

 private:
  // Says at start whether a protocol's server speaks TLS, and with which certificate.
  void log_tls(const char* protocol, const transport::ServerTls* tls);
  std::string id_;
  OtlpReceiverConfig config_;
  pipeline::Host& host_;
  std::array<std::shared_ptr<pipeline::Consumer>, 4> next_;  // by otlp::Signal
  // otelcol_receiver_{accepted,refused}_* by transport (registered in start()).
  std::array<internal::SignalCounters, 3> accepted_metric_;
  std::array<internal::SignalCounters, 3> refused_metric_;
  // otlpd_receiver_udp_dropped_datagrams by transport::UdpDrop (null without telemetry).
  std::array<telemetry::Counter*, transport::kUdpDropReasons> udp_dropped_{};
  std::unique_ptr<transport::GrpcServer> grpc_;
  std::unique_ptr<transport::HttpServer> http_;
  std::unique_ptr<transport::UdpServer> udp_;
};

}  // namespace components
