#pragma once
// CORS decisions of the OTLP/HTTP server, after the Collector's confighttp (rs/cors):
// allowed origins are patterns where '*' matches any run of characters ("*" alone: any origin;
// "https://*.example.com": any subdomain); allowed request headers are the always-safe ones
// (Accept, Accept-Language, Content-Language, Content-Type, Origin, X-Requested-With) plus the
// configured ones, or any header when "*" is configured. Comparisons ignore ASCII case.
// Pure functions, any thread.

#include <string>
#include <string_view>
#include <vector>

namespace transport::internal {

bool wildcard_match(std::string_view pattern, std::string_view text);

bool cors_origin_allowed(const std::vector<std::string>& allowed_origins, std::string_view origin);

// `requested`: the Access-Control-Request-Headers value, a comma-separated list.
bool cors_headers_allowed(const std::vector<std::string>& allowed_headers,
                          std::string_view requested);

}  // namespace transport::internal
