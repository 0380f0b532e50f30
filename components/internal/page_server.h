#pragma once
// The collector's own small HTTP endpoints (health_check, the status page): an HttpServer that
// serves only its pages (no OTLP), over TLS when configured, reported to the host as
// "<id> http|https <address>" once it listens.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pipeline/host.h"
#include "transport/http_server.h"

namespace components::internal {

struct PageServerOptions {
  std::string id;        // the component, for messages and the endpoint report
  std::string endpoint;  // host:port
  std::shared_ptr<transport::ServerTls> tls;
  std::map<std::string, std::function<transport::HttpServerOptions::Page()>> pages;
  std::size_t max_connections = 64;
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
};

// Starts the server; UNAVAILABLE naming the component and endpoint if it cannot listen.
absl::StatusOr<std::unique_ptr<transport::HttpServer>> start_page_server(PageServerOptions options,
                                                                         pipeline::Host& host);

}  // namespace components::internal
