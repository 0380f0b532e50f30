#include "transport/internal/socket_io.h"

#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <cerrno>

namespace transport::internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

ErrorCode from_errno(int e) {
  if (e == EAGAIN || e == EWOULDBLOCK) return asio::error::would_block;
  return ErrorCode(e, boost::system::system_category());
}

}  // namespace

ErrorCode try_read(TcpSocket& socket, char* data, std::size_t size, std::size_t& got) {
  got = 0;
  // After shutdown() the kernel still hands out bytes it had queued: an aborted connection
  // must not start on a request it will never be able to answer.
  if (socket.abort_requested()) return asio::error::operation_aborted;
  for (;;) {
    const ssize_t n = ::recv(socket.native_handle(), data, size, MSG_DONTWAIT);
    if (n > 0) {
      got = static_cast<std::size_t>(n);
      return {};
    }
    if (n == 0) return asio::error::eof;
    if (errno != EINTR) return from_errno(errno);
  }
}

csp::Task<ErrorCode> wait_ready(TcpSocket& socket, tcp::socket::wait_type what,
                                csp::TimePoint deadline) {
  co_return co_await socket.run(
      [what](tcp::socket& s, auto done) { async_wait_ready(s, what, std::move(done)); }, deadline);
}

csp::Task<ErrorCode> read_some(TcpSocket& socket, char* data, std::size_t size, std::size_t& got,
                               csp::TimePoint deadline) {
  for (;;) {
    const ErrorCode ec = try_read(socket, data, size, got);
    if (ec != asio::error::would_block) co_return ec;
    // Readiness can be spurious (another reader's bytes, a checksum drop): loop and try again.
    if (const ErrorCode wait = co_await wait_ready(socket, tcp::socket::wait_read, deadline)) {
      co_return wait;
    }
  }
}

csp::Task<ErrorCode> write_all(TcpSocket& socket, const char* data, std::size_t size,
                               csp::TimePoint deadline) {
  std::size_t sent = 0;
  while (sent < size) {
    if (socket.abort_requested()) co_return ErrorCode(asio::error::operation_aborted);
    // MSG_NOSIGNAL: a peer that went away is an EPIPE error here, not a SIGPIPE.
    const ssize_t n =
        ::send(socket.native_handle(), data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) co_return from_errno(errno);
    if (const ErrorCode wait = co_await wait_ready(socket, tcp::socket::wait_write, deadline)) {
      co_return wait;
    }
  }
  co_return ErrorCode();
}

}  // namespace transport::internal
