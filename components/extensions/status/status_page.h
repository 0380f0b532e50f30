#pragma once
// The `status` extension: otlpd's live status page, for a person at a browser.
//
//   extensions:
//     status:
//       endpoint: localhost:55679   # the default (the Collector's zPages port)
//       tls: {...}                  # optional, docs/security.md
//   service:
//     extensions: [status]
//
// GET /             the page: plain HTML and a small script, no framework, nothing fetched
//                   from elsewhere (works offline). It polls /status.json every second and
//                   draws the pipelines (receivers -> processors -> exporters) with items/s and
//                   refusals per component, queue fill bars, end-to-end latency percentiles,
//                   memory against the limiter's limit, the scheduler's goroutines and the
//                   pipelines' channels.
// GET /status.json  everything the page shows, as one JSON object (docs/operations.md).
//
// Contract:
//  - Started with the other extensions (before the pipelines) and stopped after them.
//  - Rendering takes the registry's lock and reads the runtime's counters: cheap, and never
//    on the data path.

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

inline constexpr char kDefaultStatusEndpoint[] = "localhost:55679";

struct StatusPageConfig {
  std::string endpoint = kDefaultStatusEndpoint;
  std::shared_ptr<transport::ServerTls> tls;
};

absl::StatusOr<StatusPageConfig> parse_status_page_config(const pipeline::ConfigNode& node);

class StatusPage final : public pipeline::Component {
 public:
  StatusPage(std::string id, StatusPageConfig config, pipeline::Host& host);
  ~StatusPage() override;

  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  // What /status.json answers.
  std::string json() const;

 private:
  const std::string id_;
  const StatusPageConfig config_;
  pipeline::Host& host_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::unique_ptr<transport::HttpServer> server_;
};

// The page itself (status_page_html.cc).
extern const char kStatusPageHtml[];

}  // namespace components
