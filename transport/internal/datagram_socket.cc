#include "transport/internal/datagram_socket.h"

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/listener.h"
#include "transport/internal/strings.h"

namespace transport::internal {

namespace asio = boost::asio;
using udp = asio::ip::udp;

std::string format_sockaddr(const sockaddr_storage& from) {
  char text[INET6_ADDRSTRLEN] = {};
  if (from.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(from);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return format_host_port(text, ntohs(in.sin_port));
  }
  if (from.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(from);
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      inet_ntop(AF_INET, &in6.sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    }
    return format_host_port(text, ntohs(in6.sin6_port));
  }
  return "";
}

absl::StatusOr<BoundUdp> open_udp(std::string_view endpoint, std::string_view server,
                                  std::size_t receive_buffer) {
  absl::StatusOr<HostPort> hp = parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  absl::StatusOr<asio::ip::address> address = resolve_listen_address(*hp);
  if (!address.ok()) return address.status();
  const udp::endpoint resolved(*address, hp->port);

  BoundUdp bound;
  bound.socket = UdpSocket::make(/*direct_io=*/true);
  udp::socket& raw = bound.socket->unsafe_object();  // not shared yet
  const auto fail = [&](std::string_view step, const ErrorCode& ec) {
    return absl::UnavailableError(absl::StrCat(av(server), ": cannot listen on \"", av(endpoint),
                                               "\": ", av(step), ": ", ec.message()));
  };
  ErrorCode ec;
  raw.open(resolved.protocol(), ec);
  if (ec) return fail("open", ec);
  if (resolved.protocol() == udp::v6() && hp->host.empty()) {
    raw.set_option(asio::ip::v6_only(false), ec);  // dual stack, as for ":port" over TCP
  }
  raw.bind(resolved, ec);
  if (ec) return fail("bind", ec);
  raw.non_blocking(true, ec);
  if (ec) return fail("non_blocking", ec);
  const int fd = raw.native_handle();
  if (receive_buffer > 0) {
    const int want = static_cast<int>(std::min<std::size_t>(receive_buffer, 1u << 30));
    // SO_RCVBUFFORCE passes net.core.rmem_max where the process may (CAP_NET_ADMIN).
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
      (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    }
  }
  int got = 0;
  socklen_t len = sizeof got;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0) {
    // Linux reports twice what it grants for data (the rest is its bookkeeping).
    bound.receive_buffer = static_cast<std::size_t>(got) / 2;
  }
  bound.port = raw.local_endpoint(ec).port();
  if (ec) return fail("local_endpoint", ec);
  return bound;
}

csp::Task<void> read_datagrams(std::shared_ptr<UdpSocket> socket, std::size_t max_size,
                               OnDatagram on_datagram) {
  std::vector<char> buffers(kDatagramBatch * max_size);
  std::array<iovec, kDatagramBatch> iov{};
  std::array<mmsghdr, kDatagramBatch> messages{};
  std::array<sockaddr_storage, kDatagramBatch> from{};
  const int fd = socket->native_handle();
  for (;;) {
    if (socket->abort_requested()) break;
    for (std::size_t i = 0; i < kDatagramBatch; ++i) {
      iov[i] = {buffers.data() + i * max_size, max_size};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &from[i];
      messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int n = ::recvmmsg(fd, messages.data(), kDatagramBatch, MSG_DONTWAIT, nullptr);
    if (n > 0) {
      for (int i = 0; i < n; ++i) {
        const bool truncated = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        const std::size_t size = std::min<std::size_t>(messages[i].msg_len, max_size);
        on_datagram(std::string_view(buffers.data() + static_cast<std::size_t>(i) * max_size, size),
                    truncated, from[i]);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // Nothing waiting (EAGAIN), or an error a datagram socket reports and survives (an ICMP
    // answer): park until readable either way, so a steady error cannot spin.
    const ErrorCode wait = co_await socket->run([](udp::socket& s, auto done) {
      pollfd p{s.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        done(ErrorCode());
        return;
      }
      s.async_wait(udp::socket::wait_read, std::move(done));
    });
    if (wait) break;  // aborted: shutting down
  }
}

}  // namespace transport::internal
