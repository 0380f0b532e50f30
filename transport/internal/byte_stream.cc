#include "transport/internal/byte_stream.h"

#include <boost/asio/ip/tcp.hpp>

#include "csp/scheduler.h"

namespace transport::internal {
namespace {

using tcp = boost::asio::ip::tcp;

// Writing the records that reading made (a TLS 1.3 ticket) may take this long.
constexpr std::chrono::seconds kTlsWriteTimeout{20};
// close_notify gets this long to go out.
constexpr std::chrono::seconds kCloseNotifyTime{2};

// Posted, not run(): an owner may be inside a run() of its own (a write waiting for room), and a
// PollerObject has one run() at a time. abort() cancels this wait as it cancels the others.
void post_readable_wait(TcpSocket& socket, const csp::Chan<ErrorCode>& ready) {
  socket.post([ready](tcp::socket& s) {
    async_wait_ready(s, tcp::socket::wait_read, [ready](ErrorCode ec) { ready.try_send(ec); });
  });
}

csp::Task<void> shutdown_socket_send(TcpSocket& socket) {
  co_await socket.run([](tcp::socket& s, auto done) {
    ErrorCode ec;
    s.shutdown(tcp::socket::shutdown_send, ec);
    done(ec);
  });
}

}  // namespace

csp::Task<ErrorCode> ReadBuffer::fill(ByteStream& stream, std::size_t max) {
  const std::size_t old = bytes_.size() - consumed_;
  if (consumed_ > 0) {
    bytes_.erase(0, consumed_);
    consumed_ = 0;
  }
  bytes_.resize(old + max);
  std::size_t got = 0;
  csp::Task<ErrorCode> reading = stream.try_read_some(bytes_.data() + old, max, got);
  const ErrorCode ec = co_await std::move(reading);
  bytes_.resize(old + got);
  if (!ec && got == 0) co_return ErrorCode(boost::asio::error::eof);
  co_return ec;
}

csp::Task<ErrorCode> SocketStream::read_some(char* data, std::size_t size, std::size_t& got,
                                             csp::TimePoint deadline) {
  if (time_to_step_aside()) co_await csp::yield();
  co_return co_await internal::read_some(*socket_, data, size, got, deadline);
}

csp::Task<ErrorCode> SocketStream::try_read_some(char* data, std::size_t size, std::size_t& got) {
  if (time_to_step_aside()) co_await csp::yield();
  co_return internal::try_read(*socket_, data, size, got);
}

csp::Task<ErrorCode> SocketStream::write(const std::string& bytes, csp::TimePoint deadline) {
  co_return co_await internal::write_all(*socket_, bytes.data(), bytes.size(), deadline);
}

csp::Task<ErrorCode> SocketStream::wait_readable(csp::TimePoint deadline) {
  co_return co_await internal::wait_ready(*socket_, tcp::socket::wait_read, deadline);
}

void SocketStream::notify_readable(const csp::Chan<ErrorCode>& ready) {
  post_readable_wait(*socket_, ready);
}

csp::Task<void> SocketStream::shutdown_send() { co_await shutdown_socket_send(*socket_); }

TlsSocketStream::TlsSocketStream(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context,
                                 const char* alpn)
    : socket_(socket), tls_(std::move(socket), context, alpn, kTlsWriteTimeout) {}

TlsSocketStream::TlsSocketStream(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context,
                                 const TlsIo::ServerPeer& peer)
    : socket_(socket), tls_(std::move(socket), context, peer, kTlsWriteTimeout) {}

csp::Task<ErrorCode> TlsSocketStream::read_some(char* data, std::size_t size, std::size_t& got,
                                                csp::TimePoint deadline) {
  if (time_to_step_aside()) co_await csp::yield();
  co_return co_await tls_.read_some(data, size, got, deadline);
}

csp::Task<ErrorCode> TlsSocketStream::try_read_some(char* data, std::size_t size,
                                                    std::size_t& got) {
  if (time_to_step_aside()) co_await csp::yield();
  co_return co_await tls_.try_read(data, size, got);
}

csp::Task<ErrorCode> TlsSocketStream::write(const std::string& bytes, csp::TimePoint deadline) {
  co_return co_await tls_.write_all(bytes.data(), bytes.size(), deadline);
}

csp::Task<ErrorCode> TlsSocketStream::wait_readable(csp::TimePoint deadline) {
  if (tls_.has_buffered_input()) co_return ErrorCode();
  co_return co_await internal::wait_ready(*socket_, tcp::socket::wait_read, deadline);
}

void TlsSocketStream::notify_readable(const csp::Chan<ErrorCode>& ready) {
  if (tls_.has_buffered_input()) {
    ready.try_send(ErrorCode());
    return;
  }
  post_readable_wait(*socket_, ready);
}

csp::Task<void> TlsSocketStream::shutdown_send() {
  co_await tls_.close_notify(csp::Clock::now() + kCloseNotifyTime);
  co_await shutdown_socket_send(*socket_);
}

}  // namespace transport::internal
