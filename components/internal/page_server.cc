#include "components/internal/page_server.h"

#include "absl/strings/str_cat.h"
#include "components/internal/listen_address.h"

namespace components::internal {

absl::StatusOr<std::unique_ptr<transport::HttpServer>> start_page_server(PageServerOptions options,
                                                                         pipeline::Host& host) {
  transport::HttpServerOptions http;
  http.endpoint = options.endpoint;
  http.serve_otlp = false;
  http.tls = options.tls;
  http.max_connections = options.max_connections;
  http.read_timeout = options.read_timeout;
  http.idle_timeout = options.idle_timeout;
  http.pages = std::move(options.pages);
  auto server = std::make_unique<transport::HttpServer>(http, transport::ExportHandler());
  absl::StatusOr<int> port = server->start();
  if (!port.ok()) {
    return absl::UnavailableError(absl::StrCat(options.id, ": cannot listen on ", options.endpoint,
                                               ": ", port.status().message()));
  }
  host.report_endpoint(options.id, options.tls != nullptr ? "https" : "http",
                       listen_address(options.endpoint, *port));
  return server;
}

}  // namespace components::internal
