#pragma once
// LoadRunner: sends generated requests to an OTLP endpoint with the project's own exporter
// clients (GrpcExporterClient, HttpExporterClient) and counts what became of every item.
//
// Contract:
//  - Closed loop (rate == 0): `concurrency` goroutines each send one request, wait for its
//    answer and send the next, so exactly that many are in flight. Latency is from send to
//    answer.
//  - Open loop (rate > 0): a request is due every 1/rate seconds whatever the answers do. Its
//    latency is measured from when it was due, not from when it went out, so a stalled server
//    shows in the percentiles instead of silently slowing the load down (coordinated
//    omission). A due request that would pass max_in_flight is not sent and counted as skipped.
//  - The run ends when `duration` has passed, `count` requests have been sent, or stop() is
//    called, whichever comes first; requests in flight then are awaited (each is bounded by
//    `timeout`), so every sent item ends up accepted, refused or failed:
//      accepted: the answer was OK, minus the items it reported rejected (partial success);
//      refused:  the server answered no (any error carrying a retry delay, and errors other
//                than UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, UNKNOWN and INTERNAL), plus
//                the rejected items of partial successes;
//      failed:   no usable answer (connection refused or broken, timeout, UNAVAILABLE without
//                a retry delay).
//  - Latency percentiles are over the requests answered OK (the ack latency a client sees).
//  - run() blocks its caller, which must not be a csp worker thread; progress is reported from
//    the calling thread about once a second.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "apps/otlp_loadgen/generator.h"
#include "apps/otlp_loadgen/latency_recorder.h"
#include "csp/task.h"
#include "csp/wait_group.h"
#include "otlp/compression.h"
#include "otlp/signal.h"
#include "transport/export.h"

namespace transport {
class GrpcExporterClient;
class HttpExporterClient;
}  // namespace transport

namespace loadgen {

enum class Protocol { kGrpc, kHttpProtobuf, kHttpJson };

// "grpc", "http/protobuf", "http/json" (the names OTEL_EXPORTER_OTLP_PROTOCOL uses).
std::optional<Protocol> parse_protocol(std::string_view name);
std::string_view protocol_name(Protocol protocol);

struct LoadOptions {
  // host:port; for HTTP an http:// prefix is optional.
  std::string endpoint = "127.0.0.1:4317";
  Protocol protocol = Protocol::kGrpc;
  otlp::Compression compression = otlp::Compression::kNone;
  double rate = 0;  // requests per second; 0 = closed loop
  int concurrency = 1;
  int max_in_flight = 1000;               // open loop only
  std::chrono::milliseconds duration{0};  // 0 = no time limit
  std::uint64_t count = 0;                // requests; 0 = no count limit
  std::chrono::milliseconds timeout{10000};
  std::map<std::string, std::string> headers;

  absl::Status validate() const;
};

struct Counters {
  std::uint64_t requests_sent = 0, requests_ok = 0, requests_refused = 0, requests_failed = 0;
  std::uint64_t requests_skipped = 0;  // open loop: due but over max_in_flight
  std::uint64_t items_sent = 0, items_accepted = 0, items_refused = 0, items_failed = 0;
  std::uint64_t bytes_sent = 0;  // uncompressed protobuf bytes

  Counters minus(const Counters& earlier) const;
};

struct Progress {
  std::chrono::nanoseconds elapsed{0};
  std::chrono::nanoseconds interval{0};
  Counters total;
  Counters delta;             // since the last progress report
  Percentiles delta_latency;  // of the OK answers since the last report
  std::int64_t in_flight = 0;
};

struct Report {
  Counters counters;
  std::chrono::nanoseconds elapsed{0};          // start to the last answer
  Percentiles latency;                          // OK answers
  std::map<std::string, std::uint64_t> errors;  // status code name -> requests
  std::string first_error;
};

class LoadRunner {
 public:
  LoadRunner(otlp::Signal signal, LoadOptions options, std::vector<GeneratedRequest> requests);
  ~LoadRunner();
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;

  using ProgressFn = std::function<void(const Progress&)>;
  Report run(const ProgressFn& on_progress = nullptr);
  // Ends the run early (any thread): nothing new is sent; in-flight requests are awaited.
  void stop() { stopping_.store(true); }

 private:
  struct Shared;  // counters updated by the goroutines

  csp::Task<void> closed_loop_worker();
  csp::Task<void> pacer();
  csp::Task<void> send_one(std::uint64_t index, std::chrono::steady_clock::time_point due);
  csp::Task<transport::ExportResult> export_body(std::string body);
  bool should_stop() const;
  Counters snapshot() const;

  otlp::Signal signal_;
  LoadOptions options_;
  std::vector<GeneratedRequest> requests_;
  std::unique_ptr<transport::GrpcExporterClient> grpc_;
  std::unique_ptr<transport::HttpExporterClient> http_;

  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::atomic<std::uint64_t> issued_{0};
  std::atomic<std::int64_t> in_flight_{0};
  csp::WaitGroup running_;
  std::unique_ptr<Shared> shared_;
  LatencyRecorder latencies_;
  std::mutex errors_mu_;
  std::map<std::string, std::uint64_t> errors_;  // guarded by errors_mu_
  std::string first_error_;                      // guarded by errors_mu_
};

}  // namespace loadgen
