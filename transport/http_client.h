#pragma once
// HttpExporterClient: sends serialized Export*ServiceRequests over OTLP/HTTP (HTTP/1.1 on
// Boost.Beast) — what the `otlp_http` exporter uses.
//
// Contract:
//  - export_request() is a goroutine-only coroutine and never blocks its worker: sockets are
//    driven on the poller thread (transport/internal/poller_object.h) and the goroutine parks.
//    Any number of exports may run at once from any goroutines; each uses its own connection,
//    taken from a keep-alive pool (per host and port) or newly dialed.
//  - The body is binary protobuf; with encoding kJson it is decoded and re-encoded as OTLP/JSON
//    (a body that does not decode is INVALID_ARGUMENT, nothing is sent). It is compressed as
//    configured and POSTed to the signal's URL.
//  - Result (docs/transport.md has the table): 2xx is OK with the partial success of the body;
//    429 RESOURCE_EXHAUSTED and 502/503/504 UNAVAILABLE are the retryable answers, with
//    retry_after from Retry-After (delay-seconds); 400 INVALID_ARGUMENT with the message of the
//    google.rpc.Status body; other statuses map to permanent codes. Connection failures are
//    UNAVAILABLE, the timeout DEADLINE_EXCEEDED.
//  - A pooled connection that the server closed while idle fails before any answer byte; such a
//    request is sent once more on a new connection (as Go's net/http does).
//  - Cancellation: the deadline is the earlier of now + timeout and ctx's deadline; cancelling
//    ctx closes the connection in use and export_request() returns ctx.err().
//  - https:// URLs speak TLS as `tls` says: the server's certificate is verified against
//    ca_file (or the system's roots) for the URL's host (or server_name_override), and a client
//    certificate is offered when cert_file is set. A failed handshake is UNAVAILABLE, naming
//    the step and OpenSSL's reason.
//  - Configuration errors (options.validate()) are reported by every export_request() as
//    INVALID_ARGUMENT; construction never fails.
//  - Lifetime: the client must outlive every export_request() it started; destroying it closes
//    its idle connections.

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
#include "otlp/compression.h"
#include "transport/export.h"
#include "transport/tls.h"

namespace transport {

inline constexpr std::chrono::milliseconds kDefaultHttpClientTimeout{30000};
inline constexpr std::size_t kDefaultMaxIdleConnections = 100;
inline constexpr std::chrono::milliseconds kDefaultIdleConnectionTimeout{90000};
inline constexpr std::size_t kDefaultMaxResponseBodyBytes = 4u << 20;

enum class HttpEncoding { kProto, kJson };

struct HttpClientOptions {
  // Base URL, e.g. "http://localhost:4318"; each signal's path is appended: /v1/traces,
  // /v1/metrics, /v1/logs, /v1development/profiles.
  std::string endpoint;
  // Full URLs that override `endpoint` for one signal; empty = derived from `endpoint`.
  std::string traces_endpoint;
  std::string metrics_endpoint;
  std::string logs_endpoint;
  std::string profiles_endpoint;
  HttpEncoding encoding = HttpEncoding::kProto;
  // kNone, kGzip, kDeflate or kZstd (Content-Encoding).
  otlp::Compression compression = otlp::Compression::kGzip;
  // Added to every request (after ours, so they may override User-Agent).
  std::map<std::string, std::string> headers;
  // The Authorization header of each request, asked anew every time (a rotated token is sent
  // from then on); empty = none. Thread-safe.
  std::function<std::string()> authorization;
  // Deadline of each export, from connect to the last byte of the answer; must be positive.
  std::chrono::milliseconds timeout = kDefaultHttpClientTimeout;
  // Reuse connections between requests; false: one connection per request.
  bool keep_alive = true;
  // Idle connections kept per host:port; 0 = none.
  std::size_t max_idle_connections = kDefaultMaxIdleConnections;
  // An idle connection older than this is closed instead of reused; 0 = no limit.
  std::chrono::milliseconds idle_connection_timeout = kDefaultIdleConnectionTimeout;
  // Answers with a larger body are refused (UNAVAILABLE); must be positive.
  std::size_t max_response_body_bytes = kDefaultMaxResponseBodyBytes;
  // For https:// URLs (files are read at construction).
  TlsClientOptions tls;

  absl::Status validate() const;
};

class HttpExporterClient {
 public:
  explicit HttpExporterClient(HttpClientOptions options);
  ~HttpExporterClient();
  HttpExporterClient(const HttpExporterClient&) = delete;
  HttpExporterClient& operator=(const HttpExporterClient&) = delete;

  csp::Task<ExportResult> export_request(otlp::Signal signal, std::string body, csp::Context ctx);
  // The same without taking the body: it is the caller's again once the task completes, and
  // must stay alive and unchanged until then. No copy of it is made. `headers` (if given,
  // alive until the task completes): sent with this request instead of the options' headers
  // (a headers_setter's result); the options' authorization is still added.
  csp::Task<ExportResult> export_borrowed(otlp::Signal signal, std::string_view body,
                                          csp::Context ctx, const Headers* headers = nullptr);

  // Connections waiting in the pool now (for tests and self-metrics).
  std::size_t idle_connections() const;
  // Connections dialed so far (keep-alive reuse shows as fewer dials than requests).
  std::uint64_t connections_dialed() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace transport
