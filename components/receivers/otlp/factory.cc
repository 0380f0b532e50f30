#include "components/receivers/otlp/factory.h"

#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "components/extensions/bearertokenauth/factory.h"
#include "components/internal/config_util.h"
#include "components/internal/tls_config.h"

namespace components {

namespace {

using std::chrono::milliseconds;

// An optional duration key, as milliseconds.
absl::Status optional_ms(const pipeline::ConfigNode& node, std::string_view key,
                         std::optional<milliseconds>* out) {
  if (!node.has(key)) return absl::OkStatus();
  auto d = node.duration(key, std::chrono::nanoseconds(0));
  if (!d.ok()) return d.status();
  *out = std::chrono::duration_cast<milliseconds>(*d);
  return absl::OkStatus();
}

absl::StatusOr<transport::GrpcServerOptions> parse_grpc(const pipeline::ConfigNode& node) {
  transport::GrpcServerOptions o;
  OTLPD_ASSIGN_OR_RETURN(o.endpoint, node.string("endpoint", o.endpoint));
  OTLPD_ASSIGN_OR_RETURN(std::int64_t mib,
                         node.int64("max_recv_msg_size_mib", o.max_recv_msg_size_mib));
  o.max_recv_msg_size_mib = static_cast<int>(mib);
  if (node.has("max_concurrent_streams")) {
    OTLPD_ASSIGN_OR_RETURN(std::int64_t n, node.int64("max_concurrent_streams", 0));
    o.max_concurrent_streams = static_cast<int>(n);
  }
  OTLPD_ASSIGN_OR_RETURN(std::int64_t connections,
                         node.int64("max_connections", o.max_connections));
  o.max_connections = static_cast<int>(connections);
  OTLPD_ASSIGN_OR_RETURN(o.max_header_list_bytes,
                         node.bytes("max_header_list_size", o.max_header_list_bytes));
  OTLPD_ASSIGN_OR_RETURN(std::int64_t burst,
                         node.int64("stream_reset_burst", o.stream_reset_burst));
  o.stream_reset_burst = static_cast<int>(burst);
  OTLPD_ASSIGN_OR_RETURN(std::int64_t resets,
                         node.int64("stream_resets_per_second", o.stream_resets_per_second));
  o.stream_resets_per_second = static_cast<int>(resets);
  OTLPD_ASSIGN_OR_RETURN(std::int64_t total, node.int64("max_concurrent_streams_total",
                                                        o.max_concurrent_streams_total));
  if (total < 0 || total > std::numeric_limits<int>::max()) {
    return node.error_at("max_concurrent_streams_total", "must be 0 (no limit) or positive");
  }
  o.max_concurrent_streams_total = static_cast<int>(total);
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds read_timeout,
                         node.duration("request_read_timeout", o.request_read_timeout));
  o.request_read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(read_timeout);
  OTLPD_ASSIGN_OR_RETURN(std::string transport_name, node.string("transport", "tcp"));
  if (transport_name != "tcp") return node.error_at("transport", "only tcp is supported");
  OTLPD_ASSIGN_OR_RETURN(o.include_metadata, node.boolean("include_metadata", false));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t rbuf, node.bytes("read_buffer_size", 0));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t wbuf, node.bytes("write_buffer_size", 0));
  if (rbuf != 0) {
    return node.error_at("read_buffer_size",
                         "is not supported: the server reads in 16KiB chunks per connection");
  }
  if (wbuf != 0) {
    return node.error_at("write_buffer_size",
                         "is not supported: the server writes each HTTP/2 frame batch as it is "
                         "produced");
  }
  OTLPD_ASSIGN_OR_RETURN(o.tls, parse_server_tls(node));
  const pipeline::ConfigNode keepalive = node.child("keepalive");
  const pipeline::ConfigNode sp = keepalive.child("server_parameters");
  OTLPD_RETURN_IF_ERROR(optional_ms(sp, "time", &o.keepalive.time));
  OTLPD_RETURN_IF_ERROR(optional_ms(sp, "timeout", &o.keepalive.timeout));
  OTLPD_RETURN_IF_ERROR(optional_ms(sp, "max_connection_idle", &o.keepalive.max_connection_idle));
  OTLPD_RETURN_IF_ERROR(optional_ms(sp, "max_connection_age", &o.keepalive.max_connection_age));
  OTLPD_RETURN_IF_ERROR(
      optional_ms(sp, "max_connection_age_grace", &o.keepalive.max_connection_age_grace));
  OTLPD_RETURN_IF_ERROR(sp.check_no_unknown_keys());
  const pipeline::ConfigNode ep = keepalive.child("enforcement_policy");
  OTLPD_RETURN_IF_ERROR(optional_ms(ep, "min_time", &o.keepalive_enforcement.min_time));
  OTLPD_ASSIGN_OR_RETURN(o.keepalive_enforcement.permit_without_stream,
                         ep.boolean("permit_without_stream", false));
  OTLPD_RETURN_IF_ERROR(ep.check_no_unknown_keys());
  OTLPD_RETURN_IF_ERROR(keepalive.check_no_unknown_keys());
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (auto s = o.validate(); !s.ok()) return node.error(std::string(s.message()));
  return o;
}

// protocols.http.websocket (docs/collector.md).
absl::Status parse_websocket(const pipeline::ConfigNode& node, transport::WebSocketOptions& o) {
  OTLPD_ASSIGN_OR_RETURN(o.enabled, node.boolean("enabled", o.enabled));
  OTLPD_ASSIGN_OR_RETURN(std::int64_t window,
                         node.int64("window", static_cast<std::int64_t>(o.window)));
  if (window < 1 || window > static_cast<std::int64_t>(transport::kMaxWebSocketWindow)) {
    return node.error_at(
        "window", absl::StrCat("must be 1 to ", transport::kMaxWebSocketWindow, ", got ", window));
  }
  o.window = static_cast<std::size_t>(window);
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t max_message,
                         node.bytes("max_message_size", o.max_message_bytes));
  o.max_message_bytes = max_message;
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds ping,
                         node.duration("ping_interval", o.ping_interval));
  o.ping_interval = std::chrono::duration_cast<milliseconds>(ping);
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds idle,
                         node.duration("idle_timeout", o.idle_timeout));
  o.idle_timeout = std::chrono::duration_cast<milliseconds>(idle);
  OTLPD_ASSIGN_OR_RETURN(o.compression, node.boolean("compression", o.compression));
  return node.check_no_unknown_keys();
}

absl::StatusOr<transport::HttpServerOptions> parse_http(const pipeline::ConfigNode& node) {
  transport::HttpServerOptions o;
  OTLPD_ASSIGN_OR_RETURN(o.endpoint, node.string("endpoint", o.endpoint));
  OTLPD_ASSIGN_OR_RETURN(o.traces_path, node.string("traces_url_path", o.traces_path));
  OTLPD_ASSIGN_OR_RETURN(o.metrics_path, node.string("metrics_url_path", o.metrics_path));
  OTLPD_ASSIGN_OR_RETURN(o.logs_path, node.string("logs_url_path", o.logs_path));
  OTLPD_ASSIGN_OR_RETURN(o.profiles_path, node.string("profiles_url_path", o.profiles_path));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t body,
                         node.bytes("max_request_body_size", o.max_request_body_bytes));
  o.max_request_body_bytes = body;
  OTLPD_ASSIGN_OR_RETURN(o.max_header_bytes, node.bytes("max_header_size", o.max_header_bytes));
  OTLPD_ASSIGN_OR_RETURN(o.max_trailer_bytes, node.bytes("max_trailer_size", o.max_trailer_bytes));
  OTLPD_ASSIGN_OR_RETURN(o.max_chunk_extension_bytes,
                         node.bytes("max_chunk_extension_size", o.max_chunk_extension_bytes));
  OTLPD_ASSIGN_OR_RETURN(
      std::int64_t connections,
      node.int64("max_connections", static_cast<std::int64_t>(o.max_connections)));
  if (connections < 1) return node.error_at("max_connections", "must be positive");
  o.max_connections = static_cast<std::size_t>(connections);
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds read_timeout,
                         node.duration("read_timeout", o.read_timeout));
  o.read_timeout = std::chrono::duration_cast<milliseconds>(read_timeout);
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds idle_timeout,
                         node.duration("idle_timeout", o.idle_timeout));
  o.idle_timeout = std::chrono::duration_cast<milliseconds>(idle_timeout);
  OTLPD_ASSIGN_OR_RETURN(o.include_metadata, node.boolean("include_metadata", false));
  OTLPD_ASSIGN_OR_RETURN(o.tls, parse_server_tls(node));
  const pipeline::ConfigNode cors = node.child("cors");
  OTLPD_ASSIGN_OR_RETURN(o.cors.allowed_origins, cors.string_list("allowed_origins", {}));
  OTLPD_ASSIGN_OR_RETURN(o.cors.allowed_headers, cors.string_list("allowed_headers", {}));
  OTLPD_ASSIGN_OR_RETURN(std::int64_t max_age, cors.int64("max_age", 0));
  o.cors.max_age = std::chrono::seconds(max_age);
  OTLPD_RETURN_IF_ERROR(cors.check_no_unknown_keys());
  OTLPD_RETURN_IF_ERROR(parse_websocket(node.child("websocket"), o.websocket));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (auto s = o.validate(); !s.ok()) return node.error(std::string(s.message()));
  return o;
}

}  // namespace

absl::StatusOr<transport::UdpServerOptions> parse_udp(const pipeline::ConfigNode& node) {
  transport::UdpServerOptions o;
  OTLPD_ASSIGN_OR_RETURN(o.endpoint, node.string("endpoint", o.endpoint));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t size, node.bytes("max_datagram_size", o.max_datagram_size));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t buffer,
                         node.bytes("receive_buffer_size", o.receive_buffer_size));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t in_flight,
                         node.uint64("max_requests_in_flight", o.max_requests_in_flight));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (size < 1 || size > transport::kMaxUdpPayload) {
    return node.error_at("max_datagram_size",
                         absl::StrCat("must be in [1, ", transport::kMaxUdpPayload, "] bytes"));
  }
  if (buffer > (1u << 30)) return node.error_at("receive_buffer_size", "must be at most 1GiB");
  if (in_flight == 0 || in_flight > 1'000'000) {
    return node.error_at("max_requests_in_flight", "must be in [1, 1000000]");
  }
  o.max_datagram_size = size;
  o.receive_buffer_size = buffer;
  o.max_requests_in_flight = in_flight;
  if (absl::Status s = o.validate(); !s.ok()) return node.error(std::string(s.message()));
  return o;
}

absl::StatusOr<OtlpReceiverConfig> parse_otlp_receiver_config(const pipeline::ConfigNode& node) {
  OtlpReceiverConfig c;
  const pipeline::ConfigNode protocols = node.child("protocols");
  if (protocols.has("grpc")) {
    OTLPD_ASSIGN_OR_RETURN(c.grpc, parse_grpc(protocols.child("grpc")));
  }
  if (protocols.has("http")) {
    OTLPD_ASSIGN_OR_RETURN(c.http, parse_http(protocols.child("http")));
  }
  if (protocols.has("udp")) {
    OTLPD_ASSIGN_OR_RETURN(c.udp, parse_udp(protocols.child("udp")));
  }
  OTLPD_RETURN_IF_ERROR(protocols.check_no_unknown_keys());
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (!c.grpc && !c.http && !c.udp) {
    return node.error("must specify at least one protocol under protocols (grpc, http or udp)");
  }
  return c;
}

namespace {

class OtlpReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "otlp"; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kStable; }
  absl::StatusOr<std::shared_ptr<pipeline::Receiver>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             pipeline::Host& host) const override {
    // Read before the rest, so the config check sees `auth` as known.
    const pipeline::ConfigNode protocols = config.child("protocols");
    std::shared_ptr<BearerTokenAuth> grpc_auth;
    std::shared_ptr<BearerTokenAuth> http_auth;
    if (protocols.has("grpc")) {
      OTLPD_ASSIGN_OR_RETURN(grpc_auth, find_authenticator(protocols.child("grpc"), host));
    }
    if (protocols.has("http")) {
      OTLPD_ASSIGN_OR_RETURN(http_auth, find_authenticator(protocols.child("http"), host));
    }
    auto c = parse_otlp_receiver_config(config);
    if (!c.ok()) return c.status();
    c->grpc_auth = std::move(grpc_auth);
    c->http_auth = std::move(http_auth);
    return std::make_shared<OtlpReceiver>(id.str(), *std::move(c), host);
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> make_otlp_receiver_factory() {
  return std::make_unique<OtlpReceiverFactory>();
}

}  // namespace components
