#include "transport/udp_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "transport/internal/endpoint.h"
#include "transport/udp_server.h"

namespace transport {

namespace {

constexpr auto kFullBufferWait = std::chrono::milliseconds(1);
constexpr auto kResolveRetry = std::chrono::seconds(1);

}  // namespace

absl::Status UdpClientOptions::validate() const {
  absl::StatusOr<internal::HostPort> hp = internal::parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  if (hp->host.empty()) return absl::InvalidArgumentError("endpoint: must name a host");
  if (hp->port == 0) return absl::InvalidArgumentError("endpoint: must name a port");
  if (max_datagram_size < 2 || max_datagram_size > kMaxUdpPayload) {
    return absl::InvalidArgumentError(absl::StrCat("max_datagram_size: must be in [2, ",
                                                   kMaxUdpPayload, "], got ", max_datagram_size));
  }
  return absl::OkStatus();
}

UdpExporterClient::UdpExporterClient(UdpClientOptions options) : options_(std::move(options)) {}

UdpExporterClient::~UdpExporterClient() {
  if (fd_ >= 0) ::close(fd_);
}

int UdpExporterClient::socket(absl::Status* error) {
  {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) return fd_;
    // A failed resolution is not tried again for a while: a DNS outage must not make every
    // send wait on the resolver.
    if (std::chrono::steady_clock::now() < retry_at_) {
      *error = last_error_;
      return -1;
    }
  }
  int fd = -1;
  absl::Status made = connect_socket(&fd);  // may block on DNS: no lock held
  std::lock_guard lock(mu_);
  if (!made.ok()) {
    last_error_ = made;
    retry_at_ = std::chrono::steady_clock::now() + kResolveRetry;
    *error = made;
    return -1;
  }
  if (fd_ >= 0) {
    ::close(fd);  // another send connected meanwhile
    return fd_;
  }
  fd_ = fd;
  return fd_;
}

absl::Status UdpExporterClient::connect_socket(int* out) const {
  if (absl::Status valid = options_.validate(); !valid.ok()) return valid;
  const internal::HostPort hp = *internal::parse_host_port(options_.endpoint, "endpoint");
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp.port);
  if (const int rc = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("udp: cannot resolve \"", hp.host, "\": ", ::gai_strerror(rc)));
  }
  // The first IPv4 address if there is one (as the servers listen), else the first.
  const addrinfo* pick = found;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  const int fd = ::socket(pick->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, pick->ai_addr, pick->ai_addrlen) != 0) {
    const int e = errno;
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(found);
    return absl::UnavailableError(
        absl::StrCat("udp: cannot connect to \"", options_.endpoint, "\": ", std::strerror(e)));
  }
  ::freeaddrinfo(found);
  *out = fd;
  return absl::OkStatus();
}

csp::Task<ExportResult> UdpExporterClient::send(otlp::Signal signal,
                                                std::vector<std::string_view> parts,
                                                csp::Context ctx) {
  ExportResult result;
  for (std::string_view part : parts) {
    if (part.size() + 1 > options_.max_datagram_size) {
      result.status = absl::InvalidArgumentError(
          absl::StrCat("udp: a datagram of ", part.size() + 1, " bytes exceeds max_datagram_size ",
                       options_.max_datagram_size));
      result.not_received = true;
      co_return result;
    }
  }
  absl::Status error;
  const int fd = socket(&error);
  if (fd < 0) {
    result.status = error;
    result.not_received = true;
    co_return result;
  }
  char tag = static_cast<char>(udp_tag_of(signal));
  std::size_t sent = 0;
  while (sent < parts.size()) {
    const std::size_t n = std::min(parts.size() - sent, kUdpBatch);
    std::array<std::array<iovec, 2>, kUdpBatch> iov{};
    std::array<mmsghdr, kUdpBatch> messages{};
    for (std::size_t i = 0; i < n; ++i) {
      iov[i][0] = {&tag, 1};
      iov[i][1] = {const_cast<char*>(parts[sent + i].data()), parts[sent + i].size()};
      messages[i].msg_hdr.msg_iov = iov[i].data();
      messages[i].msg_hdr.msg_iovlen = 2;
    }
    const int rc = ::sendmmsg(fd, messages.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (rc > 0) {
      sent += static_cast<std::size_t>(rc);
      continue;
    }
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      // The send buffer is full: wait for the kernel to drain it, within the caller's time.
      csp::Chan<csp::TimePoint> waited = csp::after(kFullBufferWait);
      const std::size_t k = co_await csp::select(csp::recv(waited), csp::recv(ctx.done()));
      if (k == 1) {
        result.status = ctx.err();
        result.not_received = sent == 0;
        co_return result;
      }
      continue;
    }
    // The error belongs to the socket's past (an ICMP answer to earlier datagrams) or to this
    // send; either way the socket stays usable, and keeping it keeps descriptors bounded.
    const int e = errno;
    result.status = absl::UnavailableError(
        absl::StrCat("udp: sending to \"", options_.endpoint, "\": ", std::strerror(e)));
    result.not_received = sent == 0;
    co_return result;
  }
  co_return result;
}

}  // namespace transport
