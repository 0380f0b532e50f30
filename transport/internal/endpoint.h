#pragma once
// "host:port" endpoints as they appear in configurations: "localhost:4317", "0.0.0.0:4318",
// "[::1]:4317", ":4318" (every interface). Pure functions, any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace transport::internal {

struct HostPort {
  std::string host;  // without brackets; empty = every interface
  std::uint16_t port = 0;
};

// INVALID_ARGUMENT naming `what` (e.g. "endpoint") for anything that is not host:port with a
// decimal port in [0, 65535].
absl::StatusOr<HostPort> parse_host_port(std::string_view text, std::string_view what);

// "host:port", bracketing IPv6 literals.
std::string format_host_port(std::string_view host, std::uint16_t port);

}  // namespace transport::internal
