#pragma once
// internal: string glue between std::string_view and Debian's Abseil, which is built with its
// own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0) that does not convert implicitly
// from or to std::string_view. (otlp/internal/absl_view.h solves the same problem for otlp/;
// this layer may not include it.)
//
// cat() is absl::StrCat that also takes std::string_view; av()/sv() convert explicitly.

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pipeline::internal {

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

template <typename T>
decltype(auto) cat_arg(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return av(std::string_view(value));
  } else {
    return (value);
  }
}

template <typename... Args>
std::string cat(const Args&... args) {
  return absl::StrCat(cat_arg(args)...);
}

template <typename... Args>
void append(std::string* out, const Args&... args) {
  absl::StrAppend(out, cat_arg(args)...);
}

}  // namespace pipeline::internal
