#include "transport/internal/cors.h"

#include "transport/internal/strings.h"

namespace transport::internal {

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Greedy glob with backtracking to the last '*': linear in practice, O(n·m) at worst, and
  // both strings are short configuration values and header values.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && to_lower(pattern[p]) == to_lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool cors_origin_allowed(const std::vector<std::string>& allowed_origins, std::string_view origin) {
  if (origin.empty()) return false;
  for (const std::string& pattern : allowed_origins) {
    if (wildcard_match(pattern, origin)) return true;
  }
  return false;
}

bool cors_headers_allowed(const std::vector<std::string>& allowed_headers,
                          std::string_view requested) {
  static constexpr std::string_view kAlwaysAllowed[] = {"accept",           "accept-language",
                                                        "content-language", "content-type",
                                                        "origin",           "x-requested-with"};
  while (!requested.empty()) {
    const std::size_t comma = requested.find(',');
    const std::string_view header = trim(requested.substr(0, comma));
    requested = comma == std::string_view::npos ? std::string_view() : requested.substr(comma + 1);
    if (header.empty()) continue;
    bool allowed = false;
    for (std::string_view safe : kAlwaysAllowed) allowed = allowed || iequals(safe, header);
    for (const std::string& name : allowed_headers) {
      allowed = allowed || name == "*" || iequals(name, header);
    }
    if (!allowed) return false;
  }
  return true;
}

}  // namespace transport::internal
