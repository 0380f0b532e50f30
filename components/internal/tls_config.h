#pragma once
// The `tls:` blocks of receivers, exporters and the collector's own endpoints, in the
// Collector's keys (configtls). docs/security.md has the table.

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/config/config_node.h"
#include "transport/tls.h"

namespace components {

// A server's `tls:` under `parent`: nullptr when there is none (plaintext). The certificate,
// key and client CA are loaded and checked now; an error names the key and its line.
absl::StatusOr<std::shared_ptr<transport::ServerTls>> parse_server_tls(
    const pipeline::ConfigNode& parent);

// A client's `tls:` under `parent`. `insecure` (plaintext) is the Collector's key for gRPC
// exporters; pass nullptr where it has no meaning (otlp_http decides by the URL's scheme).
absl::Status parse_client_tls(const pipeline::ConfigNode& parent, bool* insecure,
                              transport::TlsClientOptions* out);

}  // namespace components
