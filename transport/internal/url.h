#pragma once
// The subset of URLs an OTLP/HTTP exporter is configured with: scheme://host[:port][/path][?q].
// Pure functions, any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/signal.h"

namespace transport::internal {

struct Url {
  std::string scheme;      // "http" or "https", lower case
  std::string host;        // without brackets
  std::uint16_t port = 0;  // the scheme's default when absent
  std::string target;      // path and query, at least "/"

  // The Host header: host, plus ":port" unless it is the scheme's default.
  std::string host_header() const;
};

// INVALID_ARGUMENT naming `what` (e.g. "traces_endpoint") for anything else, including userinfo
// and fragments.
absl::StatusOr<Url> parse_url(std::string_view text, std::string_view what);

// The path OTLP/HTTP appends to a base URL for a signal: "v1/traces", "v1/metrics", "v1/logs",
// "v1development/profiles".
std::string_view signal_url_path(otlp::Signal signal);

// Header fields a client is configured to send: names are HTTP tokens, values carry no CR, LF
// or NUL. INVALID_ARGUMENT naming the field otherwise.
absl::Status check_header_fields(const std::map<std::string, std::string>& headers);

// base + "/" + path, with exactly one slash between them (the Collector's otlphttp exporter
// appends "v1/traces" to `endpoint` this way).
std::string join_url_path(std::string_view base, std::string_view path);

}  // namespace transport::internal
