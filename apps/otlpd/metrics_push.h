#pragma once
// Pushing otlpd's own metrics as OTLP: the `periodic` reader of service::telemetry::metrics.
// Every `interval` the registry (the same values /metrics shows) is turned into one
// ExportMetricsServiceRequest and sent with otlpd's own exporter clients (transport/), over
// gRPC or HTTP (protobuf or JSON), with TLS and headers as configured. One last push is made at
// shutdown, so the final counts are not lost.
//
// Configuration, in the OpenTelemetry configuration schema the Collector uses:
//   service:
//     telemetry:
//       metrics:
//         readers:
//           - periodic:
//               interval: 10000          # ms (default 60000)
//               timeout: 5000            # ms per push (default 30000)
//               exporter:
//                 otlp:
//                   protocol: grpc       # grpc | http/protobuf (default) | http/json
//                   endpoint: https://backend:4317
//                   headers: [{name: api-key, value: "${env:KEY}"}]   # or a map
//                   compression: gzip    # gzip | none
//                   timeout: 5000        # ms
//                   insecure: false      # gRPC: plaintext
//                   certificate: ca.pem  # client_certificate, client_key for mutual TLS
//
// Values: counters are cumulative monotonic sums, gauges are gauges, histograms are cumulative
// explicit-bucket histograms, all with start time = when otlpd started, and the resource
// service.name=otlpd, service.version, service.instance.id (random per process).
//
// Failures are logged once per run of failures (and once when pushing works again); a push
// never blocks the pipelines.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "csp/chan.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"
#include "telemetry/registry.h"
#include "transport/grpc_client.h"
#include "transport/http_client.h"

namespace otlpd {

struct MetricsPushConfig {
  enum class Protocol { kGrpc, kHttpProtobuf, kHttpJson };
  Protocol protocol = Protocol::kHttpProtobuf;
  std::string endpoint;  // http: the full URL (/v1/metrics added when it has no path)
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds timeout{30000};
  std::map<std::string, std::string> headers;
  bool gzip = true;
  bool insecure = false;  // gRPC only
  transport::TlsClientOptions tls;
};

// Reads one `periodic:` reader block. Errors name the key and its line.
absl::StatusOr<MetricsPushConfig> decode_periodic_reader(const pipeline::ConfigNode& periodic);

// The registry as one OTLP request.
struct PushResource {
  std::string service_version;
  std::string instance_id;
};
opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest to_otlp(
    const std::vector<telemetry::Registry::FamilySnapshot>& families, const PushResource& resource,
    std::uint64_t start_unix_nano, std::uint64_t now_unix_nano);

class MetricsPusher {
 public:
  MetricsPusher(pipeline::Host& host, MetricsPushConfig config, std::string service_version);
  ~MetricsPusher();
  MetricsPusher(const MetricsPusher&) = delete;
  MetricsPusher& operator=(const MetricsPusher&) = delete;

  // Starts the goroutine. Plain threads.
  void start();
  // Pushes once more and stops; returns when the goroutine has ended. Plain threads.
  void shutdown();
  // Pushes made so far, and how many of them failed (for tests).
  std::uint64_t pushes() const { return pushes_.load(); }

 private:
  csp::Task<void> run();
  csp::Task<void> push_once();
  std::string describe() const;

  pipeline::Host& host_;
  const MetricsPushConfig config_;
  const PushResource resource_;
  const std::uint64_t start_unix_nano_;
  std::unique_ptr<transport::GrpcExporterClient> grpc_;
  std::unique_ptr<transport::HttpExporterClient> http_;
  csp::Chan<csp::Unit> stop_{0};
  csp::Chan<csp::Unit> done_{0};
  bool started_ = false;
  bool failing_ = false;  // the goroutine's own
  std::atomic<std::uint64_t> pushes_{0};
};

}  // namespace otlpd
