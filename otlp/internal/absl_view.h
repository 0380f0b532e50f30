// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so our std::string_views must be converted explicitly
// when handed to absl::StrCat, absl::Status and friends.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace otlp::internal {

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace otlp::internal
