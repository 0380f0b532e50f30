#include "transport/internal/endpoint.h"

#include "absl/strings/str_cat.h"
#include "transport/internal/strings.h"

namespace transport::internal {

absl::StatusOr<HostPort> parse_host_port(std::string_view text, std::string_view what) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), " \"", av(text), "\": ", av(why)));
  };
  HostPort out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad("want [host]:port");
    port = rest.substr(1);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("want host:port");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("IPv6 addresses need brackets");
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5) return bad("want a port number in [0, 65535]");
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("want a port number in [0, 65535]");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return bad("want a port number in [0, 65535]");
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) return absl::StrCat("[", av(host), "]:", port);
  return absl::StrCat(av(host), ":", port);
}

}  // namespace transport::internal
