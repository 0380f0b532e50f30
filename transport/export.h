#pragma once
// What crosses the line between the transports (OTLP/gRPC and OTLP/HTTP servers and clients)
// and the pipeline.
//
// Contract:
//  - A server hands the pipeline one ExportRequest per accepted export call: the body is always
//    an uncompressed, binary-protobuf Export*ServiceRequest of `signal` that the server has
//    already decoded once (size and AnyValue depth checked), so the handler never sees bytes a
//    decode would refuse. JSON requests arrive re-encoded as binary protobuf. An empty body is a
//    valid request with no items.
//  - The handler runs as a goroutine per request (gRPC) or on the connection's goroutine (HTTP,
//    where requests on one connection are sequential anyway). It must eventually complete: a
//    server's shutdown waits for every handler it started.
//  - The handler's ExportResult becomes the protocol's answer; docs/transport.md has the tables.
//    OK (optionally with rejected_items / partial_message) is success or partial success;
//    UNAVAILABLE and RESOURCE_EXHAUSTED are retryable refusals and carry retry_after as gRPC
//    RetryInfo / HTTP Retry-After; INVALID_ARGUMENT and the rest are permanent.
//  - A client reports the server's answer in the same shape: the gRPC status as received, or the
//    HTTP status mapped to a canonical code (docs/transport.md), retry_after parsed from
//    RetryInfo / Retry-After, and the partial success of the response, and whether the
//    failure means the backend certainly has none of the data (not_received).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "csp/task.h"
#include "otlp/signal.h"

namespace transport {

// A claim on the process's memory budget for bytes a server is about to hold (a request body,
// its inflated form, the decode of it). The bytes count as used while any copy of the claim
// lives; dropping the last copy gives them back. nullptr means "refused".
using MemoryClaim = std::shared_ptr<void>;

// Asked by a server before it buffers, inflates or decodes request bytes, with the number of
// bytes it is about to hold; a null claim refuses the request (RESOURCE_EXHAUSTED / HTTP 429
// with a retry delay) before those bytes are read or allocated. Thread-safe; must not block.
// Empty function: no budget (every reservation succeeds).
using MemoryReserver = std::function<MemoryClaim(std::int64_t bytes)>;

// Checks a request's credentials before its body is read, given its `authorization` header
// (empty when it has none): true lets it in. A refusal is answered UNAUTHENTICATED (gRPC) or
// 401 (HTTP) with a fixed message; the header never appears in an answer or a log. Called on
// the connection's goroutine: thread-safe, quick, non-blocking. Empty function: no check.
using Authenticator = std::function<bool(std::string_view authorization)>;

// The message of every refusal by an Authenticator.
inline constexpr char kUnauthenticatedMessage[] = "missing or invalid credentials";

// Connections a server serves at once by default (both servers' max_connections).
inline constexpr int kDefaultMaxConnections = 4096;

// The retry delay servers send with a refusal from the MemoryReserver.
inline constexpr std::chrono::milliseconds kMemoryRefusalRetryAfter{1000};

// Header fields or gRPC metadata: names in lower case, in the order they arrived; a name may
// repeat.
using Headers = std::vector<std::pair<std::string, std::string>>;

// What a receiver hands to the pipeline: one uncompressed, binary-protobuf
// Export*ServiceRequest.
struct ExportRequest {
  otlp::Signal signal;
  std::string body;
  std::string peer;  // the client's address, "ip:port" ("[v6]:port" for IPv6)
  // The claims the server took for this request's bytes (null without a MemoryReserver). The
  // handler keeps it alive for as long as it holds the body (e.g. until the batch is answered).
  MemoryClaim memory;
  // With the server's include_metadata: the request's header fields (HTTP) or metadata (gRPC,
  // without the pseudo-headers), `authorization` included. Empty otherwise. Bounded by the
  // server's header size limit.
  Headers metadata;
};

// The pipeline's answer, turned into the protocol's status by the server (and a client's report
// of the server's answer).
struct ExportResult {
  // OK; UNAVAILABLE or RESOURCE_EXHAUSTED = retryable refusal; INVALID_ARGUMENT etc.
  absl::Status status;
  // Sent as gRPC RetryInfo / HTTP Retry-After (whole seconds, rounded up).
  std::optional<std::chrono::milliseconds> retry_after;
  // Partial success (0 = full success): spans, data points, log records or profiles rejected.
  std::int64_t rejected_items = 0;
  std::string partial_message;
  // Client side, on failure: true when the backend certainly kept none of the request — it
  // answered with a refusal (not a gateway's 502/504), or the request never reached it (no
  // attempt got a connection).
  // False when that is unknown: a timeout or a connection lost after the request was written
  // (the backend may have kept it). A failover may send a batch elsewhere only when true.
  bool not_received = false;
};

// Run as a goroutine per request.
using ExportHandler = std::function<csp::Task<ExportResult>(ExportRequest)>;

}  // namespace transport
