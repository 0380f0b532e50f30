#pragma once
// GrpcServer: the OTLP/gRPC receiver's server, our own HTTP/2 server (nghttp2 for framing, HPACK
// and flow control; Asio sockets on the poller; goroutines for the rest). Serves the four OTLP
// Export methods
//   /opentelemetry.proto.collector.trace.v1.TraceService/Export
//   /opentelemetry.proto.collector.metrics.v1.MetricsService/Export
//   /opentelemetry.proto.collector.logs.v1.LogsService/Export
//   /opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export
// as unary calls of raw bytes. docs/transport.md has the full table of answers and limits.
//
// Contract:
//  - Goroutines: one accept loop; one goroutine per connection owns its HTTP/2 session (reads,
//    frames, answers); one goroutine per complete request inflates and validates it
//    (otlp::validate_binary on the wire bytes, no decode: size, AnyValue depth, protobuf
//    validity, id lengths), awaits the handler and hands the
//    result back to its connection. No thread ever blocks on the pipeline.
//  - Hostile input: every limit is enforced before bytes are buffered — connections
//    (max_connections: the accept loop waits at the limit), concurrent streams per connection
//    (advertised in SETTINGS; more are refused), header list size (advertised; larger header
//    blocks reset the stream), CONTINUATION floods and a reset-rate limit (GOAWAY
//    ENHANCE_YOUR_CALM), the message size from its 5-byte prefix (RESOURCE_EXHAUSTED before the
//    body is read), the inflated size while inflating (RESOURCE_EXHAUSTED the moment it passes),
//    and reserve_memory before buffering, inflating and validating (for the pipeline's later
//    decode). gRPC's rules: compressed flag
//    0 or 1 (INTERNAL), grpc-encoding identity/gzip/deflate/zstd (else UNIMPLEMENTED),
//    exactly one message per call (else UNIMPLEMENTED), content-type application/grpc[+...]
//    (else HTTP 415), POST (else 405). Nothing throws out of a goroutine; a broken connection is
//    closed with GOAWAY and the rest go on.
//  - Answers: OK carries an Export*ServiceResponse whose partial_success is set when the
//    handler rejected items or gave a message; any other status is sent as is (code, message),
//    with a google.rpc.RetryInfo detail in grpc-status-details-bin when retry_after is set.
//  - Lifetime: start() once; shutdown() (plain threads) or co_await shutdown_async()
//    (goroutines) stops accepting, sends GOAWAY so clients open no new calls, lets in-flight
//    calls finish until `deadline` (then closes their connections), and returns once every
//    goroutine it started has ended — handlers still running are awaited. The destructor shuts
//    down with an immediate deadline if still running. The handler must outlive shutdown.
//  - Misuse (start twice, start after shutdown) is a FAILED_PRECONDITION error, not a crash.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "otlp/binary_codec.h"
#include "transport/export.h"
#include "transport/tls.h"

namespace transport {

inline constexpr char kDefaultGrpcEndpoint[] = "localhost:4317";
inline constexpr int kDefaultGrpcMaxRecvMsgSizeMiB = 4;
inline constexpr int kDefaultGrpcMaxConcurrentStreams = 100;
inline constexpr std::size_t kDefaultGrpcMaxHeaderListBytes = 16u << 10;  // 16 KiB
inline constexpr int kDefaultStreamResetBurst = 200;
inline constexpr int kDefaultStreamResetsPerSecond = 100;
inline constexpr int kDefaultGrpcMaxStreamsTotal = 16384;
inline constexpr std::chrono::milliseconds kDefaultGrpcRequestReadTimeout{60000};

// keepalive.server_parameters of the Collector's gRPC server settings. Unset = gRPC's default.
struct GrpcKeepaliveServerParameters {
  std::optional<std::chrono::milliseconds> time;     // ping an idle client after this long
  std::optional<std::chrono::milliseconds> timeout;  // and close if no ack within this
  std::optional<std::chrono::milliseconds> max_connection_idle;
  std::optional<std::chrono::milliseconds> max_connection_age;
  std::optional<std::chrono::milliseconds> max_connection_age_grace;
};

// keepalive.enforcement_policy: how often clients may ping. Unset = gRPC's default (5 min).
struct GrpcKeepaliveEnforcementPolicy {
  std::optional<std::chrono::milliseconds> min_time;
  bool permit_without_stream = false;
};

struct GrpcServerOptions {
  // "host:port"; port 0 picks a free port (start() returns it).
  std::string endpoint = kDefaultGrpcEndpoint;
  // Largest accepted request after decompression, in MiB (the Collector's
  // max_recv_msg_size_mib). Must be positive.
  int max_recv_msg_size_mib = kDefaultGrpcMaxRecvMsgSizeMiB;
  GrpcKeepaliveServerParameters keepalive;
  GrpcKeepaliveEnforcementPolicy keepalive_enforcement;
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection; unset = 100. Also bounds the
  // requests of one connection being handled at once (reading pauses at the limit).
  std::optional<int> max_concurrent_streams;
  // Connections served at once; at the limit the server stops accepting until one ends.
  int max_connections = kDefaultMaxConnections;
  // HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE: a request whose header list is larger (names and
  // values plus 32 bytes each, as RFC 9113 counts) is reset before it is handled.
  std::size_t max_header_list_bytes = kDefaultGrpcMaxHeaderListBytes;
  // Rapid reset: streams a client may reset (RST_STREAM) in a burst, and per second after it;
  // beyond, GOAWAY ENHANCE_YOUR_CALM closes the connection.
  int stream_reset_burst = kDefaultStreamResetBurst;
  int stream_resets_per_second = kDefaultStreamResetsPerSecond;
  // Streams open at once across every connection (each connection is also held to
  // max_concurrent_streams): beyond, a new stream is refused with RST_STREAM REFUSED_STREAM,
  // which tells the client nothing of it was processed (gRPC clients retry it). 0 = no limit.
  int max_concurrent_streams_total = kDefaultGrpcMaxStreamsTotal;
  // A request must arrive whole (headers, message, end of stream) within this of its first
  // HEADERS frame; otherwise the stream is reset (CANCEL) and its memory given back, so a client
  // that trickles its request holds a stream, and its share of max_concurrent_streams_total, no
  // longer. 0 = no limit.
  std::chrono::milliseconds request_read_timeout = kDefaultGrpcRequestReadTimeout;
  // Deepest accepted AnyValue nesting (otlp::DecodeLimits).
  int max_any_value_depth = otlp::kDefaultMaxAnyValueDepth;
  // Asked before request bytes are buffered, inflated or validated (transport/export.h); empty =
  // no memory budget. A refusal is RESOURCE_EXHAUSTED with a retry delay.
  MemoryReserver reserve_memory;
  // Asked with each call's `authorization` metadata once its headers are in, before any of its
  // body is read (transport/export.h); empty = no check. A refusal is UNAUTHENTICATED.
  Authenticator authenticate;
  // True: each ExportRequest carries the request's metadata (without the pseudo-headers) in
  // `metadata` (the Collector's include_metadata).
  bool include_metadata = false;
  // Set: every connection speaks TLS (ALPN "h2"), with the certificate the context holds when
  // the connection starts; a failed handshake closes the connection and is logged (throttled).
  // The handshake shares the 20 s deadline of the HTTP/2 preface.
  std::shared_ptr<ServerTls> tls;

  // Checks fields against each other; the message names the offending field.
  absl::Status validate() const;
};

class GrpcServer {
 public:
  GrpcServer(GrpcServerOptions options, ExportHandler handler);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Binds and starts serving; returns the bound port. Any thread.
  absl::StatusOr<int> start();
  // The bound port (0 before start()).
  int port() const;

  // Plain threads only (it blocks the caller). Idempotent.
  void shutdown(csp::TimePoint deadline);
  // Goroutines: the same, parking instead of blocking.
  csp::Task<void> shutdown_async(csp::TimePoint deadline);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace transport
