#pragma once
// A bound UDP socket and its read loop, shared by every datagram receiver (OTLP over UDP,
// syslog, StatsD).
//
// Contract:
//  - open_udp() binds "host:port" (port 0 picks one; ":port" is every interface, dual stack),
//    non-blocking, for direct reads, and asks for `receive_buffer` bytes of socket buffer
//    (SO_RCVBUFFORCE where the process may, else SO_RCVBUF, which net.core.rmem_max caps; 0 =
//    the system default). The result says what the kernel granted.
//  - read_datagrams() — one goroutine per socket — takes up to kDatagramBatch datagrams per
//    recvmmsg() into buffers of max_size bytes, and parks on the poller only when none are
//    waiting. It calls on_datagram(data, truncated, from) for each, on its own goroutine
//    (which must not block: hand the work on); `data` lives until on_datagram returns, and
//    `truncated` says the datagram was larger than max_size (the kernel cut it). It returns
//    once the socket is aborted (PollerObject::abort()).

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "csp/task.h"
#include "transport/internal/poller_object.h"

namespace transport::internal {

using UdpSocket = PollerObject<boost::asio::ip::udp::socket>;

inline constexpr std::size_t kDatagramBatch = 16;

struct BoundUdp {
  std::shared_ptr<UdpSocket> socket;
  int port = 0;
  std::size_t receive_buffer = 0;  // what the kernel granted for data
};

// `server` names the receiver in errors ("udp: cannot listen on ...").
absl::StatusOr<BoundUdp> open_udp(std::string_view endpoint, std::string_view server,
                                  std::size_t receive_buffer);

using OnDatagram =
    std::function<void(std::string_view data, bool truncated, const sockaddr_storage& from)>;
csp::Task<void> read_datagrams(std::shared_ptr<UdpSocket> socket, std::size_t max_size,
                               OnDatagram on_datagram);

// "ip:port" ("[v6]:port"), IPv4-mapped IPv6 addresses shown as IPv4; "" for other families.
std::string format_sockaddr(const sockaddr_storage& from);

}  // namespace transport::internal
