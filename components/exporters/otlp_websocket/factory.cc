#include "components/exporters/otlp_websocket/factory.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "components/exporters/helper/client_auth.h"
#include "components/exporters/helper/config.h"
#include "components/internal/config_util.h"
#include "components/internal/tls_config.h"

namespace components {

absl::StatusOr<OtlpWebSocketExporterConfig> parse_otlp_websocket_exporter_config(
    const pipeline::ConfigNode& node) {
  OtlpWebSocketExporterConfig c;
  transport::WebSocketClientOptions& o = c.client;
  OTLPD_RETURN_IF_ERROR(node.require("endpoint"));
  OTLPD_ASSIGN_OR_RETURN(o.endpoint, node.string("endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(std::string encoding, node.string("encoding", "proto"));
  if (encoding == "proto") {
    o.encoding = transport::HttpEncoding::kProto;
  } else if (encoding == "json") {
    o.encoding = transport::HttpEncoding::kJson;
  } else {
    return node.error_at("encoding", "must be proto or json, got \"" + encoding + "\"");
  }
  OTLPD_ASSIGN_OR_RETURN(std::string compression, node.string("compression", "deflate"));
  if (compression == "deflate") {
    o.compression = true;
  } else if (compression == "none" || compression.empty()) {
    o.compression = false;
  } else {
    return node.error_at("compression",
                         "unsupported compression \"" + compression + "\" (deflate, none)");
  }
  OTLPD_RETURN_IF_ERROR(parse_client_tls(node, nullptr, &o.tls));
  OTLPD_ASSIGN_OR_RETURN(o.headers, node.string_map("headers"));
  OTLPD_ASSIGN_OR_RETURN(auto timeout, node.duration("timeout", to_ns(o.timeout)));
  if (timeout <= std::chrono::nanoseconds::zero()) {
    return node.error_at("timeout", "must be greater than zero");
  }
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  OTLPD_ASSIGN_OR_RETURN(std::int64_t window,
                         node.int64("window", static_cast<std::int64_t>(o.window)));
  if (window < 1 || window > 4096) {
    return node.error_at("window", absl::StrCat("must be 1 to 4096, got ", window));
  }
  o.window = static_cast<std::size_t>(window);
  OTLPD_ASSIGN_OR_RETURN(auto initial,
                         node.duration("reconnect_initial_interval", to_ns(o.reconnect_backoff)));
  OTLPD_ASSIGN_OR_RETURN(auto max,
                         node.duration("reconnect_max_interval", to_ns(o.max_reconnect_backoff)));
  if (initial <= std::chrono::nanoseconds::zero()) {
    return node.error_at("reconnect_initial_interval", "must be greater than zero");
  }
  if (max < initial) {
    return node.error_at("reconnect_max_interval", "must be at least reconnect_initial_interval");
  }
  o.reconnect_backoff = std::chrono::duration_cast<std::chrono::milliseconds>(initial);
  o.max_reconnect_backoff = std::chrono::duration_cast<std::chrono::milliseconds>(max);
  OTLPD_ASSIGN_OR_RETURN(c.queue, parse_queue_config(node));
  OTLPD_ASSIGN_OR_RETURN(c.retry, parse_retry_config(node));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (auto s = o.validate(); !s.ok()) return node.error(std::string(s.message()));
  return c;
}

namespace {

class OtlpWebSocketFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "otlp_websocket"; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kAlpha; }
  // One client (a connection per signal), queue and set of senders per id.
  bool shared_across_signals() const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host& host) const override {
    // Read before the rest, so the config check sees `auth` as known.
    OTLPD_ASSIGN_OR_RETURN(ClientAuth auth, find_client_auth(config, host));
    if (auth.headers != nullptr) {
      return config.error_at("auth",
                             "headers_setter needs headers per request; otlp_websocket "
                             "sends headers only when it connects");
    }
    auto c = parse_otlp_websocket_exporter_config(config);
    if (!c.ok()) return c.status();
    if (auth.bearer != nullptr) {
      c->client.authorization = [bearer = auth.bearer] { return bearer->header(); };
    }
    OTLPD_RETURN_IF_ERROR(check_queue_storage(config, c->queue, host));
    return make_otlp_websocket_exporter(id.str(), *std::move(c), host);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> make_otlp_websocket_exporter_factory() {
  return std::make_unique<OtlpWebSocketFactory>();
}

}  // namespace components
