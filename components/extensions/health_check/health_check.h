#pragma once
// The `health_check` extension: an HTTP endpoint that load balancers and orchestrators probe
// (Kubernetes liveness/readiness), in the Collector's config shape.
//
//   extensions:
//     health_check:
//       endpoint: localhost:13133     # the default
//       path: /                       # the default
//       check_collector_pipeline:     # off by default, as in the Collector
//         enabled: true
//         interval: 5m                # an exporter failing for longer than this is unhealthy
//   service:
//     extensions: [health_check]
//
// Contract:
//  - GET <path> answers 200 with {"status":"Server available",...} while the collector runs
//    (every pipeline started) and, with check_collector_pipeline enabled, no exporter has been
//    failing to deliver for longer than `interval`; otherwise 503 with
//    {"status":"Server not available",...} and the reason: still starting, stopping, or which
//    exporters have been failing since when. Any other method is 405; any other path 404.
//  - The endpoint is started before the pipelines and stopped after them (it is an extension),
//    so a probe sees 503 through the whole start and the whole drain.
//  - The answer is computed from the host's state on each request; nothing runs in between.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pipeline/component.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"

namespace transport {
class HttpServer;
class ServerTls;
}  // namespace transport

namespace components {

inline constexpr char kDefaultHealthCheckEndpoint[] = "localhost:13133";

struct HealthCheckConfig {
  std::string endpoint = kDefaultHealthCheckEndpoint;
  std::string path = "/";
  bool check_pipeline = false;
  std::chrono::nanoseconds failing_longer_than = std::chrono::minutes(5);
  std::shared_ptr<transport::ServerTls> tls;  // `tls:` (docs/security.md); null = plaintext
};

absl::StatusOr<HealthCheckConfig> parse_health_check_config(const pipeline::ConfigNode& node);

class HealthCheck final : public pipeline::Component {
 public:
  HealthCheck(std::string id, HealthCheckConfig config, pipeline::Host& host);
  ~HealthCheck() override;

  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  struct Answer {
    bool healthy = false;
    std::string json;
  };
  // What a probe gets now (public for tests).
  Answer answer() const;

 private:
  const std::string id_;
  const HealthCheckConfig config_;
  pipeline::Host& host_;
  const std::chrono::system_clock::time_point up_since_ = std::chrono::system_clock::now();
  const csp::TimePoint started_ = csp::Clock::now();
  std::unique_ptr<transport::HttpServer> server_;
};

}  // namespace components
