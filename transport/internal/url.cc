#include "transport/internal/url.h"

#include "absl/strings/str_cat.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/strings.h"

namespace transport::internal {

std::string_view signal_url_path(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "v1/traces";
    case otlp::Signal::kMetrics:
      return "v1/metrics";
    case otlp::Signal::kLogs:
      return "v1/logs";
    case otlp::Signal::kProfiles:
      return "v1development/profiles";
  }
  return "";
}

absl::Status check_header_fields(const std::map<std::string, std::string>& headers) {
  const auto token_char = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  for (const auto& [name, value] : headers) {
    if (name.empty()) return absl::InvalidArgumentError("headers: empty header name");
    for (char c : name) {
      if (!token_char(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("headers: invalid character in header name \"", name, "\""));
      }
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return absl::InvalidArgumentError(
            absl::StrCat("headers: invalid character in the value of \"", name, "\""));
      }
    }
  }
  return absl::OkStatus();
}

std::string Url::host_header() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (default_port)
    return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  return format_host_port(host, port);
}

absl::StatusOr<Url> parse_url(std::string_view text, std::string_view what) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), " \"", av(text), "\": ", av(why)));
  };
  Url url;
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("want http://host[:port][/path]");
  url.scheme = lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return bad("fragments are not allowed");
  const std::size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (url.target.front() == '?') url.target.insert(url.target.begin(), '/');
  if (authority.find('@') != std::string_view::npos) return bad("userinfo is not allowed");
  if (authority.empty()) return bad("missing host");
  const std::uint16_t default_port = url.scheme == "https" ? 443 : 80;
  const bool has_port = authority.back() != ']' && authority.find(':') != std::string_view::npos &&
                        (authority.front() == '[' || authority.find(':') == authority.rfind(':'));
  if (has_port) {
    absl::StatusOr<HostPort> hp = parse_host_port(authority, what);
    if (!hp.ok()) return hp.status();
    url.host = std::move(hp->host);
    url.port = hp->port;
  } else {
    if (authority.front() == '[') {
      if (authority.back() != ']') return bad("unclosed '[' in IPv6 address");
      authority = authority.substr(1, authority.size() - 2);
    } else if (authority.find(':') != std::string_view::npos) {
      return bad("IPv6 addresses need brackets");
    }
    url.host = std::string(authority);
    url.port = default_port;
  }
  if (url.host.empty()) return bad("missing host");
  if (url.port == 0) return bad("port 0");
  for (char c : url.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("invalid character in path");
  }
  return url;
}

std::string join_url_path(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return absl::StrCat(av(base), "/", av(path));
}

}  // namespace transport::internal
