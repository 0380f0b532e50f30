#pragma once
// otlpd's own metrics endpoint (service::telemetry::metrics): the registry every component
// counts into (pipeline::Host::telemetry()), plus process and runtime gauges, served in the
// Prometheus text format at http://<endpoint>/metrics. docs/operations.md has the list.
//
// Configuration, as the Collector spells it:
//   service:
//     telemetry:
//       metrics:
//         level: normal            # none turns the endpoint off (basic | normal | detailed)
//         readers:
//           - pull: {exporter: {prometheus: {host: localhost, port: 8888}}}
//           - periodic: {interval: 10000, exporter: {otlp: {...}}}   # push: metrics_push.h
//         # or the older form: address: localhost:8888
// With readers given, only they run: a list of periodic readers alone serves no /metrics.
// Without any of it the endpoint is localhost:8888. When that default port is taken (another
// collector on the machine) otlpd warns and runs without it; a port the config names must be
// free, or otlpd does not start.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "apps/otlpd/metrics_push.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"
#include "transport/tls.h"

namespace transport {
class HttpServer;
}

namespace otlpd {

inline constexpr char kDefaultMetricsEndpoint[] = "localhost:8888";

struct MetricsEndpointConfig {
  bool enabled = true;
  std::string endpoint = kDefaultMetricsEndpoint;
  bool configured = false;  // the endpoint came from the config, not the default
  // The prometheus block's `tls:` (our addition to the Collector's keys); null = plaintext.
  std::shared_ptr<transport::ServerTls> tls;
  bool serve = true;                    // a /metrics endpoint (pull reader or the default)
  std::vector<MetricsPushConfig> push;  // periodic readers
};

// Reads service::telemetry::metrics (nullopt: not in the config). Errors name the key.
absl::StatusOr<MetricsEndpointConfig> decode_metrics_config(
    const std::optional<pipeline::ConfigNode>& metrics);

class SelfTelemetry {
 public:
  SelfTelemetry(pipeline::Host& host, MetricsEndpointConfig config);
  ~SelfTelemetry();
  SelfTelemetry(const SelfTelemetry&) = delete;
  SelfTelemetry& operator=(const SelfTelemetry&) = delete;

  // Registers the process and runtime gauges and starts the endpoint (reported to the host as
  // "service metrics <address>"). Plain threads.
  absl::Status start();
  // The endpoint's URL ("http://127.0.0.1:8888/metrics"), empty when it is off.
  const std::string& url() const { return url_; }
  void shutdown();

 private:
  pipeline::Host& host_;
  const MetricsEndpointConfig config_;
  std::unique_ptr<transport::HttpServer> server_;
  std::vector<std::unique_ptr<MetricsPusher>> pushers_;
  std::string url_;
};

}  // namespace otlpd
