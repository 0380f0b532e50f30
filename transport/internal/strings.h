#pragma once
// Small string helpers that bridge three string_view types: std::string_view (ours), Debian's
// absl::string_view (a distinct type: its abseil is built without std::string_view) and
// Beast's boost::core::string_view. Header-only, pure.

#include <boost/core/detail/string_view.hpp>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace transport::internal {

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }
inline std::string_view sv(boost::core::string_view s) {
  return std::string_view(s.data(), s.size());
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

inline char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// Whether a comma-separated header value ("keep-alive, Upgrade") lists `token`, in any case.
inline bool has_token(std::string_view list, std::string_view token) {
  for (;;) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// The media type of a Content-Type value, without parameters, lower case:
// "Application/JSON; charset=utf-8" → "application/json".
inline std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

}  // namespace transport::internal
