#pragma once
// HttpServer: the OTLP/HTTP receiver's server (HTTP/1.1 on Boost.Beast). POST
// application/x-protobuf or application/json to a signal's path; the handler always receives the
// request as uncompressed binary protobuf (JSON is decoded with otlp's codec and re-encoded), and
// the answer goes back in the request's encoding. docs/transport.md has the status table.
//
// Contract:
//  - Goroutines: one accept loop, and one goroutine per connection that reads a request, awaits
//    the handler, writes the answer, and loops while the connection is kept alive (requests on a
//    connection are sequential, as HTTP/1.1 wants). Sockets are touched only by the poller thread
//    (csp::io_context(); see transport/internal/poller_object.h); no goroutine blocks a worker.
//  - Untrusted input is answered, never crashes: unknown path 404; method other than POST 405
//    with Allow: POST; Content-Type other than application/x-protobuf or application/json (any
//    parameters allowed) 415; unknown Content-Encoding 400; a body over max_request_body_bytes,
//    before or after decompression (a compression bomb), 413; corrupt compression, malformed
//    protobuf or JSON, or a truncated body 400 with a google.rpc.Status body in the request's
//    encoding. An empty body is a valid, empty request.
//  - Errors found before the body is read (404, 405, 415, 400 for the encoding, 413 from
//    Content-Length) and broken framing close the connection after the answer; errors in a body
//    that was read completely keep it alive.
//  - Framing follows RFC 9112 strictly (no request smuggling): HTTP/1.1 needs exactly one Host;
//    Transfer-Encoding must be exactly "chunked" (400; 501 for another coding before it), never
//    with Content-Length or on HTTP/1.0; obs-fold is refused. Every part of a request has a
//    bound checked before more bytes are read (head, trailer, chunk-size line and extensions,
//    body, inflated body), and Beast runs on the connection's goroutine inside try, never on
//    the poller: a hostile request gets 400/431/413/501 and only its connection closes.
//  - Expect: 100-continue is honoured. Timeouts: read_timeout bounds reading one request (from
//    its first byte) and writing its answer; idle_timeout bounds the wait for the next request
//    on a kept-alive connection. Neither includes the handler's time.
//  - Lifetime: start() once; shutdown() (plain threads) or co_await shutdown_async()
//    (goroutines) closes the listener, closes idle connections, lets every request already
//    being read or handled finish and be answered (with Connection: close), and returns when
//    every connection goroutine has ended. At `deadline`, connections still reading or writing
//    are closed; a handler that is running is still awaited. The destructor shuts down with an
//    immediate deadline if still running.
//  - Misuse (start twice, start after shutdown) is a FAILED_PRECONDITION error, not a crash.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "otlp/binary_codec.h"
#include "transport/export.h"
#include "transport/tls.h"

namespace transport {

inline constexpr char kDefaultHttpEndpoint[] = "localhost:4318";
inline constexpr std::size_t kDefaultMaxRequestBodyBytes = 20u << 20;  // 20 MiB
inline constexpr std::chrono::milliseconds kDefaultHttpReadTimeout{60000};
inline constexpr std::chrono::milliseconds kDefaultHttpIdleTimeout{60000};
inline constexpr std::size_t kDefaultMaxHeaderBytes = 64u << 10;         // 64 KiB
inline constexpr std::size_t kDefaultMaxTrailerBytes = 16u << 10;        // 16 KiB
inline constexpr std::size_t kDefaultMaxChunkExtensionBytes = 1u << 10;  // 1 KiB
// Upper bounds that validate() enforces. A trailer field is stored by Beast with a 16-bit
// length, so trailers stay well below 64 KiB; the connection slots are preallocated.
inline constexpr std::size_t kMaxTrailerBytesLimit = 60u << 10;
inline constexpr std::size_t kMaxChunkExtensionBytesLimit = 64u << 10;
inline constexpr std::size_t kMaxConnectionsLimit = 1u << 20;

struct CorsOptions {
  // Origins allowed to send cross-origin requests; '*' matches any run of characters
  // ("*", "https://*.example.com"). Empty: CORS is off (no CORS headers; OPTIONS is 405).
  std::vector<std::string> allowed_origins;
  // Request headers a preflight may ask for beyond the always-safe ones (Accept,
  // Accept-Language, Content-Language, Content-Type, Origin, X-Requested-With); "*" allows any.
  std::vector<std::string> allowed_headers;
  // Access-Control-Max-Age of preflight answers; 0 = not sent.
  std::chrono::seconds max_age{0};
};

// OTLP over WebSocket on the signal paths (docs/transport.md has the wire contract).
inline constexpr std::size_t kDefaultWebSocketWindow = 32;
inline constexpr std::size_t kMaxWebSocketWindow = 4096;
inline constexpr std::chrono::milliseconds kDefaultWebSocketPingInterval{30000};
inline constexpr std::chrono::milliseconds kDefaultWebSocketIdleTimeout{300000};

struct WebSocketOptions {
  // A GET with "Upgrade: websocket" on a signal's path opens a session; false: such a GET gets
  // 405 as any other.
  bool enabled = true;
  // Requests a connection may have unanswered; at this many the server reads nothing more
  // until one is answered. 1 to kMaxWebSocketWindow.
  std::size_t window = kDefaultWebSocketWindow;
  // Largest message, as sent and after inflating (close 1009 above); 0 = max_request_body_bytes.
  std::size_t max_message_bytes = 0;
  // The server pings a client it has heard nothing from for this long, and drops it after as
  // long again without a frame; 0 = no pings.
  std::chrono::milliseconds ping_interval = kDefaultWebSocketPingInterval;
  // A session without a request for this long (none unanswered) is closed with 1000; 0 = never.
  std::chrono::milliseconds idle_timeout = kDefaultWebSocketIdleTimeout;
  // permessage-deflate is accepted when a client offers it (every message then inflated on its
  // own: no context takeover in either direction).
  bool compression = true;
};

struct HttpServerOptions {
  // "host:port"; port 0 picks a free port (start() returns it); ":port" = every interface.
  std::string endpoint = kDefaultHttpEndpoint;
  std::string traces_path = "/v1/traces";
  std::string metrics_path = "/v1/metrics";
  std::string logs_path = "/v1/logs";
  std::string profiles_path = "/v1development/profiles";
  // Largest accepted body, both as sent and after decompression. Must be positive.
  std::size_t max_request_body_bytes = kDefaultMaxRequestBodyBytes;
  // Largest accepted request line plus headers (431 above).
  std::size_t max_header_bytes = kDefaultMaxHeaderBytes;
  // Largest trailer section of a chunked request (431 above); 256 to kMaxTrailerBytesLimit.
  std::size_t max_trailer_bytes = kDefaultMaxTrailerBytes;
  // Largest chunk extensions on one chunk-size line (400 above); at most
  // kMaxChunkExtensionBytesLimit (0: no extensions accepted).
  std::size_t max_chunk_extension_bytes = kDefaultMaxChunkExtensionBytes;
  // Open connections at most. At the limit the server stops accepting until one closes (the
  // kernel's listen backlog holds the rest), as Go's netutil.LimitListener. 1 to
  // kMaxConnectionsLimit.
  std::size_t max_connections = kDefaultMaxConnections;
  CorsOptions cors;
  // Reading one request and writing its answer; 0 = no limit.
  std::chrono::milliseconds read_timeout = kDefaultHttpReadTimeout;
  // Waiting for the next request on a kept-alive connection; 0 = no limit.
  std::chrono::milliseconds idle_timeout = kDefaultHttpIdleTimeout;
  // false: every answer closes its connection.
  bool keep_alive = true;
  // Deepest accepted AnyValue nesting (otlp::DecodeLimits).
  int max_any_value_depth = otlp::kDefaultMaxAnyValueDepth;
  // Asked before request bytes are buffered or inflated (transport/export.h); empty = no memory
  // budget. A Content-Length body is reserved in full before it is read; a chunked body in
  // doubling steps (64 KiB first) as it grows; inflated output before it is produced
  // (internal/inflate.h).
  // A refusal is answered 429 with Retry-After (kMemoryRefusalRetryAfter) and the Status
  // "data refused due to high memory usage"; the connection is closed if the body was not read.
  // The claims travel to the handler in ExportRequest::memory.
  MemoryReserver reserve_memory;
  // Asked with each OTLP request's Authorization header once its head is read, before its body
  // (transport/export.h); empty = no check. A refusal is 401 with the request's Status body,
  // and the connection closes (the body was not read). Pages and CORS preflights are not
  // checked.
  Authenticator authenticate;
  // True: each ExportRequest carries the request's header fields in `metadata` (the
  // Collector's include_metadata).
  bool include_metadata = false;

  // Plain pages beside the OTLP paths, for the collector's own endpoints (/metrics, health,
  // status): a GET of one of these paths (the query string ignored) is answered with what its
  // function returns; any other method gets 405 with Allow: GET. The function runs on the
  // connection's goroutine and must be quick, non-blocking and thread-safe.
  struct Page {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  std::map<std::string, std::function<Page()>> pages;
  // false: only `pages` are served (a metrics or health endpoint); OTLP paths answer 404, and
  // the server needs no ExportHandler (an empty one is fine).
  bool serve_otlp = true;
  // OTLP over WebSocket on the same port and paths. Its sessions take max_connections slots,
  // read_timeout (one message), cors.allowed_origins (a browser's Origin must be allowed),
  // authenticate (on the upgrade), include_metadata (the upgrade's headers) and reserve_memory
  // from the options above.
  WebSocketOptions websocket;
  // Set: every connection speaks TLS (ALPN "http/1.1"), with the certificate the context holds
  // when the connection starts. A client has 20 s from connecting to finish its handshake; a
  // failed handshake closes the connection and is logged (throttled).
  std::shared_ptr<ServerTls> tls;

  // Checks fields against each other; the message names the offending field.
  absl::Status validate() const;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, ExportHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; returns the bound port. Any thread.
  absl::StatusOr<int> start();
  // The bound port (0 before start()).
  int port() const;

  // Plain threads only (it blocks the caller). Idempotent; concurrent callers all wait.
  void shutdown(csp::TimePoint deadline = csp::TimePoint::max());
  // Goroutines: the same, parking instead of blocking.
  csp::Task<void> shutdown_async(csp::TimePoint deadline = csp::TimePoint::max());

  struct State;

 private:
  std::shared_ptr<State> state_;
};

namespace internal {
// For the fuzz target (transport/fuzz/http_request_fuzz.cc) and tests: serves one connection
// whose client sends `input` in reads of at most `read_size` bytes and then closes its side;
// returns every byte the server wrote. The same parse, route, answer and close code as a
// connection of a running HttpServer, without a socket. Goroutines only.
csp::Task<std::string> serve_bytes(HttpServerOptions options, ExportHandler handler,
                                   std::string input, std::size_t read_size);
}  // namespace internal

}  // namespace transport
