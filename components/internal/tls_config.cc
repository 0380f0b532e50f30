#include "components/internal/tls_config.h"

#include <chrono>
#include <string>
#include <string_view>

#include "components/internal/config_util.h"

namespace components {

namespace {

// Messages of transport/tls.cc start with the key they are about ("cert_file \"x\": ...");
// such an error is reported at that key's line.
absl::Status at_key(const pipeline::ConfigNode& tls, const absl::Status& status) {
  const std::string message(status.message());
  const std::size_t end = message.find_first_of(" :");
  const std::string key = message.substr(0, end);
  if (end != std::string::npos && tls.has(key)) {
    std::string rest = message.substr(end);
    if (rest.rfind(": ", 0) == 0) rest = rest.substr(2);
    while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    return tls.error_at(key, rest);
  }
  return tls.error(message);
}

absl::Status parse_common(const pipeline::ConfigNode& tls, std::string* ca_file,
                          std::string* cert_file, std::string* key_file, std::string* min_version,
                          std::string* max_version) {
  if (ca_file != nullptr) {
    OTLPD_ASSIGN_OR_RETURN(*ca_file, tls.string("ca_file", ""));
  }
  OTLPD_ASSIGN_OR_RETURN(*cert_file, tls.string("cert_file", ""));
  OTLPD_ASSIGN_OR_RETURN(*key_file, tls.string("key_file", ""));
  OTLPD_ASSIGN_OR_RETURN(*min_version, tls.string("min_version", transport::kDefaultTlsMinVersion));
  OTLPD_ASSIGN_OR_RETURN(*max_version, tls.string("max_version", ""));
  // Inline PEM and cipher lists are Collector keys we do not take: say so, not "unknown key".
  for (std::string_view key : {"cert_pem", "key_pem", "ca_pem", "client_ca_pem", "cipher_suites",
                               "curve_preferences", "include_system_ca_certs_pool"}) {
    if (tls.has(key)) {
      return tls.error_at(key, "is not supported (use the _file keys; OpenSSL's defaults apply)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<transport::ServerTls>> parse_server_tls(
    const pipeline::ConfigNode& parent) {
  if (!parent.has("tls")) return nullptr;
  const pipeline::ConfigNode tls = parent.child("tls");
  transport::TlsServerOptions o;
  OTLPD_RETURN_IF_ERROR(
      parse_common(tls, nullptr, &o.cert_file, &o.key_file, &o.min_version, &o.max_version));
  OTLPD_ASSIGN_OR_RETURN(o.client_ca_file, tls.string("client_ca_file", ""));
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds reload, tls.duration("reload_interval", {}));
  if (reload.count() < 0) return tls.error_at("reload_interval", "must not be negative");
  o.reload_interval = std::chrono::duration_cast<std::chrono::milliseconds>(reload);
  if (tls.has("ca_file")) {
    return tls.error_at("ca_file",
                        "verifies servers, not clients: for mTLS on a receiver use client_ca_file");
  }
  OTLPD_RETURN_IF_ERROR(tls.check_no_unknown_keys());
  if (o.cert_file.empty()) return tls.error("cert_file: required for TLS on a server");
  if (o.key_file.empty()) return tls.error("key_file: required for TLS on a server");
  absl::StatusOr<std::shared_ptr<transport::ServerTls>> loaded =
      transport::ServerTls::load(std::move(o));
  if (!loaded.ok()) return at_key(tls, loaded.status());
  return loaded;
}

absl::Status parse_client_tls(const pipeline::ConfigNode& parent, bool* insecure,
                              transport::TlsClientOptions* out) {
  const pipeline::ConfigNode tls = parent.child("tls");
  if (insecure != nullptr) {
    OTLPD_ASSIGN_OR_RETURN(*insecure, tls.boolean("insecure", false));
  } else if (tls.has("insecure")) {
    OTLPD_ASSIGN_OR_RETURN(bool plain, tls.boolean("insecure", false));
    (void)plain;  // the Collector accepts it here too; the URL's scheme decides
  }
  OTLPD_RETURN_IF_ERROR(parse_common(tls, &out->ca_file, &out->cert_file, &out->key_file,
                                     &out->min_version, &out->max_version));
  OTLPD_ASSIGN_OR_RETURN(out->insecure_skip_verify, tls.boolean("insecure_skip_verify", false));
  OTLPD_ASSIGN_OR_RETURN(out->server_name_override, tls.string("server_name_override", ""));
  if (tls.has("reload_interval")) {
    return tls.error_at("reload_interval",
                        "is not supported on exporters: client files are read at start");
  }
  OTLPD_RETURN_IF_ERROR(tls.check_no_unknown_keys());
  if (absl::Status s = out->validate(); !s.ok()) return at_key(tls, s);
  return absl::OkStatus();
}

}  // namespace components
