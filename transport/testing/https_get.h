#pragma once
// A blocking HTTPS GET for tests of the collector's own TLS endpoints (health, metrics): one
// request on a new connection, verified as `tls` says, answer parsed by Beast. Every wait is
// bounded (kRawTimeout).

#include <string_view>

#include "absl/status/statusor.h"
#include "transport/testing/raw_http.h"
#include "transport/tls.h"

namespace transport::testing {

// GET https://localhost:port/target. A failed handshake is UNAVAILABLE with OpenSSL's reason.
absl::StatusOr<RawResponse> https_get(int port, std::string_view target,
                                      const TlsClientOptions& tls);

}  // namespace transport::testing
