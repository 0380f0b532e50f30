#pragma once
// GrpcServer: the OTLP/gRPC receiver's server. Serves the four OTLP Export methods
//   /opentelemetry.proto.collector.trace.v1.TraceService/Export
//   /opentelemetry.proto.collector.metrics.v1.MetricsService/Export
//   /opentelemetry.proto.collector.logs.v1.LogsService/Export
//   /opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export
// through gRPC's callback generic service, so the payload arrives as raw bytes and is decoded
// only once, to validate it (otlp::decode_binary on an Arena: size, AnyValue depth, protobuf
// validity). A request that fails is answered INVALID_ARGUMENT with otlp's precise message and
// never reaches the handler. Any other method is UNIMPLEMENTED.
//
// Contract:
//  - Threads: gRPC's callback threads only receive the message and start one goroutine per
//    request (csp::go); validation, the handler and the answer run on that goroutine, which
//    finishes the RPC from its completion. No gRPC thread ever blocks on the pipeline.
//  - Compression: gzip and deflate request bodies are inflated by gRPC itself; the message size
//    limit (max_recv_msg_size_mib) applies to the inflated message, so a compression bomb is
//    refused (RESOURCE_EXHAUSTED) before we see it. zstd: gRPC 1.51's C core has a closed set of
//    algorithms (identity, deflate, gzip) and no way to register another, so a zstd request is
//    refused by gRPC (UNIMPLEMENTED) — see docs/transport.md.
//  - Answers (docs/transport.md has the table): OK carries an Export*ServiceResponse whose
//    partial_success is set when the handler rejected items or gave a message; any other status
//    is sent as is (code and message), with a google.rpc.RetryInfo detail in
//    grpc-status-details-bin when retry_after is set.
//  - Lifetime: start() once; shutdown() (plain threads) or co_await shutdown_async()
//    (goroutines) stops accepting calls, lets in-flight calls finish until `deadline` (then gRPC
//    cancels them on the wire), and returns once every handler started has completed and every
//    RPC is done. The destructor shuts down with an immediate deadline if still running. The
//    handler must outlive the server's shutdown.
//  - Misuse (start twice, start after shutdown) is a FAILED_PRECONDITION error, not a crash.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "otlp/binary_codec.h"
#include "transport/export.h"

namespace transport {

inline constexpr char kDefaultGrpcEndpoint[] = "localhost:4317";
inline constexpr int kDefaultGrpcMaxRecvMsgSizeMiB = 4;

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
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection; unset = gRPC's default (no limit).
  std::optional<int> max_concurrent_streams;
  // Deepest accepted AnyValue nesting (otlp::DecodeLimits).
  int max_any_value_depth = otlp::kDefaultMaxAnyValueDepth;
  // Asked before request bytes are buffered, inflated or decoded (transport/export.h); empty =
  // no memory budget. A refusal is RESOURCE_EXHAUSTED with a retry delay.
  MemoryReserver reserve_memory;

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
  // Goroutines: the same without blocking a worker (gRPC's blocking shutdown runs on a helper
  // thread while the goroutine parks).
  csp::Task<void> shutdown_async(csp::TimePoint deadline);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace transport
