#include "components/exporters/otlp/factory.h"

#include <string>

#include "components/exporters/helper/client_auth.h"
#include "components/exporters/helper/config.h"
#include "components/internal/config_util.h"
#include "components/internal/tls_config.h"

namespace components {

namespace {

absl::StatusOr<otlp::Compression> parse_compression_key(const pipeline::ConfigNode& node,
                                                        std::string_view allowed) {
  OTLPD_ASSIGN_OR_RETURN(std::string name, node.string("compression", "gzip"));
  if (name.empty()) name = "none";
  std::optional<otlp::Compression> c = otlp::parse_compression(name);
  if (!c || std::string(allowed).find(name) == std::string::npos) {
    return node.error_at("compression",
                         "unsupported compression \"" + name + "\" (" + std::string(allowed) + ")");
  }
  return *c;
}

absl::StatusOr<std::chrono::milliseconds> parse_timeout(const pipeline::ConfigNode& node,
                                                        std::chrono::milliseconds def) {
  OTLPD_ASSIGN_OR_RETURN(auto t, node.duration("timeout", def));
  if (t <= std::chrono::nanoseconds::zero())
    return node.error_at("timeout", "must be greater than zero");
  return std::chrono::duration_cast<std::chrono::milliseconds>(t);
}

}  // namespace

absl::StatusOr<OtlpGrpcExporterConfig> parse_otlp_grpc_exporter_config(
    const pipeline::ConfigNode& node) {
  OtlpGrpcExporterConfig c;
  OTLPD_RETURN_IF_ERROR(node.require("endpoint"));
  OTLPD_ASSIGN_OR_RETURN(c.client.endpoint, node.string("endpoint", ""));
  OTLPD_RETURN_IF_ERROR(parse_client_tls(node, &c.client.insecure, &c.client.tls));
  OTLPD_ASSIGN_OR_RETURN(c.client.headers, node.string_map("headers"));
  OTLPD_ASSIGN_OR_RETURN(c.client.compression, parse_compression_key(node, "gzip, none"));
  OTLPD_ASSIGN_OR_RETURN(c.client.timeout, parse_timeout(node, c.client.timeout));
  OTLPD_ASSIGN_OR_RETURN(c.queue, parse_queue_config(node));
  OTLPD_ASSIGN_OR_RETURN(c.retry, parse_retry_config(node));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (auto s = c.client.validate(); !s.ok()) return node.error(std::string(s.message()));
  return c;
}

absl::StatusOr<OtlpHttpExporterConfig> parse_otlp_http_exporter_config(
    const pipeline::ConfigNode& node) {
  OtlpHttpExporterConfig c;
  OTLPD_ASSIGN_OR_RETURN(c.client.endpoint, node.string("endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(c.client.traces_endpoint, node.string("traces_endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(c.client.metrics_endpoint, node.string("metrics_endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(c.client.logs_endpoint, node.string("logs_endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(c.client.profiles_endpoint, node.string("profiles_endpoint", ""));
  OTLPD_ASSIGN_OR_RETURN(std::string encoding, node.string("encoding", "proto"));
  if (encoding == "proto") {
    c.client.encoding = transport::HttpEncoding::kProto;
  } else if (encoding == "json") {
    c.client.encoding = transport::HttpEncoding::kJson;
  } else {
    return node.error_at("encoding", "must be proto or json, got \"" + encoding + "\"");
  }
  OTLPD_RETURN_IF_ERROR(parse_client_tls(node, nullptr, &c.client.tls));
  OTLPD_ASSIGN_OR_RETURN(c.client.headers, node.string_map("headers"));
  OTLPD_ASSIGN_OR_RETURN(c.client.compression, parse_compression_key(node, "gzip, zstd, none"));
  OTLPD_ASSIGN_OR_RETURN(c.client.timeout, parse_timeout(node, c.client.timeout));
  OTLPD_ASSIGN_OR_RETURN(c.queue, parse_queue_config(node));
  OTLPD_ASSIGN_OR_RETURN(c.retry, parse_retry_config(node));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (c.client.endpoint.empty() &&
      (c.client.traces_endpoint.empty() || c.client.metrics_endpoint.empty() ||
       c.client.logs_endpoint.empty())) {
    // Per-signal endpoints alone are fine only for the signals used; the client checks again.
    if (c.client.traces_endpoint.empty() && c.client.metrics_endpoint.empty() &&
        c.client.logs_endpoint.empty() && c.client.profiles_endpoint.empty()) {
      return node.error("must specify endpoint or per-signal endpoints");
    }
  }
  if (auto s = c.client.validate(); !s.ok()) return node.error(std::string(s.message()));
  return c;
}

namespace {

class OtlpGrpcFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "otlp"; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kStable; }
  // One client, queue and set of senders per id for every signal.
  bool shared_across_signals() const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host& host) const override {
    // Read before the rest, so the config check sees `auth` as known.
    OTLPD_ASSIGN_OR_RETURN(ClientAuth auth, find_client_auth(config, host));
    auto c = parse_otlp_grpc_exporter_config(config);
    if (!c.ok()) return c.status();
    if (auth.bearer != nullptr) {
      c->client.authorization = [bearer = auth.bearer] { return bearer->header(); };
    }
    c->headers_setter = std::move(auth.headers);
    OTLPD_RETURN_IF_ERROR(check_queue_storage(config, c->queue, host));
    return make_otlp_grpc_exporter(id.str(), *std::move(c), host);
  }
};

class OtlpHttpFactory final : public pipeline::ExporterFactory {
 public:
  explicit OtlpHttpFactory(std::string_view type) : type_(type) {}
  std::string_view type() const override { return type_; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kStable; }
  // One client, queue and set of senders per id for every signal.
  bool shared_across_signals() const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host& host) const override {
    OTLPD_ASSIGN_OR_RETURN(ClientAuth auth, find_client_auth(config, host));
    auto c = parse_otlp_http_exporter_config(config);
    if (!c.ok()) return c.status();
    if (auth.bearer != nullptr) {
      c->client.authorization = [bearer = auth.bearer] { return bearer->header(); };
    }
    c->headers_setter = std::move(auth.headers);
    OTLPD_RETURN_IF_ERROR(check_queue_storage(config, c->queue, host));
    return make_otlp_http_exporter(id.str(), *std::move(c), host);
  }

 private:
  std::string type_;
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> make_otlp_exporter_factory() {
  return std::make_unique<OtlpGrpcFactory>();
}
std::unique_ptr<pipeline::ExporterFactory> make_otlp_http_exporter_factory(
    std::string_view type_name) {
  return std::make_unique<OtlpHttpFactory>(type_name);
}

}  // namespace components
