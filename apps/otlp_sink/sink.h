#pragma once
// Sink: an OTLP backend that accepts everything and counts it — the far end of load tests and
// of end-to-end delivery checks (docs/performance.md).
//
// Contract:
//  - Serves OTLP/gRPC and OTLP/HTTP (protobuf and JSON) with the project's own servers, which
//    inflate, validate and (for JSON) re-encode every request before the handler sees it; the
//    handler answers OK to every request.
//  - Counting on (the default): per signal, requests and items (spans, metric data points, log
//    records, profile samples) exactly, with otlp::wire_count_items, the count the collector's
//    batching uses. A body whose framing does not count (never seen after the server's
//    validation) is still answered OK and counted in `uncountable`.
//  - Counting off: requests and bytes only — the ceiling of what the servers take.
//  - Thread-safe counters; counts() is a consistent-enough snapshot (each number is exact, they
//    may be read a request apart).
//  - first_/last_item_unix_ns: when the first and the latest request with items arrived (wall
//    clock), so a script can compute a delivery rate without sharing a clock with the sender.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "otlp/signal_enum.h"
#include "transport/export.h"

namespace transport {
class GrpcServer;
class HttpServer;
}  // namespace transport

namespace sink {

struct SinkOptions {
  // host:port; port 0 picks a free one. Empty: that protocol is off.
  std::string grpc_endpoint = "127.0.0.1:0";
  std::string http_endpoint = "127.0.0.1:0";
  bool count_items = true;
  // Largest request accepted (after decompression). Collectors send big batches.
  int max_request_mib = 256;
};

struct SignalCounts {
  std::uint64_t requests = 0;
  std::uint64_t items = 0;
};

struct SinkCounts {
  std::array<SignalCounts, 4> by_signal{};  // indexed by otlp::Signal
  std::uint64_t bytes = 0;                  // uncompressed protobuf
  std::uint64_t uncountable = 0;
  std::int64_t first_item_unix_ns = 0;
  std::int64_t last_item_unix_ns = 0;

  const SignalCounts& of(otlp::Signal s) const { return by_signal[static_cast<std::size_t>(s)]; }
  std::uint64_t requests() const;
  std::uint64_t items() const;
};

class Sink {
 public:
  explicit Sink(SinkOptions options);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Binds and starts serving. Any thread.
  absl::Status start();
  int grpc_port() const { return grpc_port_; }  // 0 when off
  int http_port() const { return http_port_; }
  SinkCounts counts() const;
  // Stops both servers, letting requests in progress finish. Plain threads only.
  void shutdown();

 private:
  struct Counters;
  transport::ExportHandler handler();

  SinkOptions options_;
  std::unique_ptr<Counters> counters_;
  std::unique_ptr<transport::GrpcServer> grpc_;
  std::unique_ptr<transport::HttpServer> http_;
  int grpc_port_ = 0;
  int http_port_ = 0;
};

}  // namespace sink
