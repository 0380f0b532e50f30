#pragma once
// The `otlp_websocket` exporter: OTLP over WebSocket (transport/websocket_client.h; the wire
// contract is in docs/transport.md) to an otlpd `otlp` receiver's HTTP port, behind the usual
// sending queue, retry and timeout (QueuedRetryExporter).
//
//   exporters:
//     otlp_websocket:
//       endpoint: "ws://collector.example:4318"   # wss:// with tls: settings
//       window: 32
//
// Contract: one long-lived connection per signal carries every batch, pipelined up to
// `window`. A batch whose answer is lost with its connection fails as retryable, so the retry
// sends it again (at least once). Refusals are retried as OTLP says (UNAVAILABLE and friends,
// RESOURCE_EXHAUSTED with RetryInfo); the rest are permanent.

#include <memory>
#include <string>

#include "components/exporters/helper/queued_retry.h"
#include "transport/websocket_client.h"

namespace components {

struct OtlpWebSocketExporterConfig {
  transport::WebSocketClientOptions client;
  QueueConfig queue;
  RetryConfig retry;
};

std::shared_ptr<pipeline::Exporter> make_otlp_websocket_exporter(std::string id,
                                                                 OtlpWebSocketExporterConfig config,
                                                                 pipeline::Host& host);

}  // namespace components
