#pragma once
// WebSocketExporterClient: sends serialized Export*ServiceRequests over OTLP/WebSocket (the
// wire contract is in docs/transport.md) — what the `otlp_websocket` exporter uses.
//
// Contract:
//  - One long-lived connection per signal (ws://host:port/v1/traces, ...), dialed on first use.
//    Requests from any number of goroutines are pipelined on it, up to `window` unanswered; a
//    request beyond waits for an answer (or its deadline). Answers come in order, so each
//    request's answer is the one at its place.
//  - A dropped connection fails every unanswered request with UNAVAILABLE and not_received
//    false (the server may hold it): the caller retries it, so delivery is at least once. The
//    next request dials again; failed dials back off (reconnect_backoff doubling to
//    max_reconnect_backoff) and a request that arrives while backing off fails at once with
//    UNAVAILABLE, not_received true.
//  - Result: the Export*ServiceResponse is OK with its partial success; a google.rpc.Status is
//    its code and message, with retry_after from RetryInfo, not_received true. A refused
//    upgrade (401, 403, 404, ...) maps its HTTP status as OTLP/HTTP does.
//  - The body is binary protobuf; with encoding kJson it is re-encoded and sent as a text
//    message. permessage-deflate is offered when `compression` is set and used when accepted.
//  - Goroutines only; never blocks a worker. Sockets are driven on the poller thread
//    (internal/poller_object.h); a reader goroutine per connection takes the answers.
//  - Lifetime: the client must outlive every export it started. Destroying it (on a plain
//    thread: it blocks) closes its connections, with a close frame, and waits for their
//    goroutines to end.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "csp/context.h"
#include "csp/task.h"
#include "transport/export.h"
#include "transport/http_client.h"
#include "transport/tls.h"

namespace transport {

inline constexpr std::size_t kDefaultWebSocketClientWindow = 32;
inline constexpr std::chrono::milliseconds kDefaultReconnectBackoff{100};
inline constexpr std::chrono::milliseconds kDefaultMaxReconnectBackoff{5000};
inline constexpr std::size_t kMaxWebSocketAnswerBytes = 4u << 20;

struct WebSocketClientOptions {
  // Base URL, "ws://host:port" or "wss://host:port" (a path prefix allowed); each signal's path
  // is appended: /v1/traces, /v1/metrics, /v1/logs, /v1development/profiles.
  std::string endpoint;
  HttpEncoding encoding = HttpEncoding::kProto;
  // Offer permessage-deflate, and compress every request when the server accepts.
  bool compression = true;
  // Sent with every upgrade request.
  std::map<std::string, std::string> headers;
  // The Authorization header of each upgrade, asked anew each time; empty = none.
  std::function<std::string()> authorization;
  // One export, from the wait for a place in the window (or a connection) to its answer.
  std::chrono::milliseconds timeout = kDefaultHttpClientTimeout;
  // Unanswered requests per connection, 1 to 4096. Keep it at most the server's window.
  std::size_t window = kDefaultWebSocketClientWindow;
  std::chrono::milliseconds reconnect_backoff = kDefaultReconnectBackoff;
  std::chrono::milliseconds max_reconnect_backoff = kDefaultMaxReconnectBackoff;
  // For wss:// (files are read at construction).
  TlsClientOptions tls;

  absl::Status validate() const;
};

class WebSocketExporterClient {
 public:
  explicit WebSocketExporterClient(WebSocketClientOptions options);
  ~WebSocketExporterClient();
  WebSocketExporterClient(const WebSocketExporterClient&) = delete;
  WebSocketExporterClient& operator=(const WebSocketExporterClient&) = delete;

  // `body` must stay alive and unchanged until the task completes.
  csp::Task<ExportResult> export_borrowed(otlp::Signal signal, std::string_view body,
                                          csp::Context ctx);

  // Connections dialed so far (one per signal while they last).
  std::uint64_t connections_dialed() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace transport
