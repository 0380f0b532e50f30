#pragma once
// The address a server reports once it listens: its configured endpoint with the port it got
// (port 0 in a config picks one). An empty host ("":4317") is every interface, shown as 0.0.0.0.

#include <string>

#include "absl/strings/str_cat.h"

namespace components::internal {

inline std::string listen_address(const std::string& endpoint, int port) {
  const std::size_t colon = endpoint.rfind(':');
  const std::string host = colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
  return absl::StrCat(host.empty() ? "0.0.0.0" : host, ":", port);
}

}  // namespace components::internal
