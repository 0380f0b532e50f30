#pragma once
// ByteStream: how a connection's bytes come and go, seen from the goroutine that owns it. The
// HTTP server has three (a socket, TLS over it, and memory for the fuzz target); a WebSocket
// session (websocket_session.h) and the WebSocket client run on the first two as well.
//
// Contract:
//  - One goroutine owns a stream and does all its reads and writes (TLS state is not shared).
//  - notify_readable() never waits: it arranges for one ErrorCode to be try_sent on `ready` once
//    the socket is readable (or failed), from the poller thread. An owner that must wait for
//    bytes and for other things at once selects on that channel.
//  - abort() may be called from any goroutine and makes pending and later operations fail.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "csp/chan.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "transport/internal/listener.h"
#include "transport/internal/socket_io.h"
#include "transport/internal/tls_io.h"
#include "transport/tls.h"

namespace transport::internal {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads at least one byte into [data, data + size); `got` is how many.
  virtual csp::Task<ErrorCode> read_some(char* data, std::size_t size, std::size_t& got,
                                         csp::TimePoint deadline) = 0;
  // Like read_some, but never parks for input: asio::error::would_block when nothing (or only
  // part of a TLS record) is there yet. TLS may still park to write what reading made it send.
  virtual csp::Task<ErrorCode> try_read_some(char* data, std::size_t size, std::size_t& got) = 0;
  virtual csp::Task<ErrorCode> write(const std::string& bytes, csp::TimePoint deadline) = 0;
  // Parks until the next byte can be read (or the peer closed).
  virtual csp::Task<ErrorCode> wait_readable(csp::TimePoint deadline) = 0;
  // Bytes already taken from the socket that a read returns at once (decrypted TLS records).
  virtual bool has_buffered_input() const { return false; }
  virtual void notify_readable(const csp::Chan<ErrorCode>& ready) = 0;
  virtual csp::Task<void> shutdown_send() = 0;
  virtual void abort() = 0;

 protected:
  // A direct read never parks while bytes are waiting, and goroutines are not preempted: a
  // peer that sends without pause would keep its worker to itself. So every kReadsBeforeYield
  // reads a socket stream steps aside for the other goroutines.
  bool time_to_step_aside() {
    if (++reads_since_yield_ < kReadsBeforeYield) return false;
    reads_since_yield_ = 0;
    return true;
  }

 private:
  static constexpr int kReadsBeforeYield = 16;
  int reads_since_yield_ = 0;
};

// Bytes read from a stream and not yet parsed (a frame parser's input).
class ReadBuffer {
 public:
  explicit ReadBuffer(std::string bytes = {}) : bytes_(std::move(bytes)) {}
  std::string_view unread() const { return std::string_view(bytes_).substr(consumed_); }
  void consume(std::size_t n) { consumed_ += n; }
  // One read of at most `max` more bytes that never parks for input (try_read_some): OK with
  // bytes added, would_block with none, or the stream's error (eof when the peer closed).
  csp::Task<ErrorCode> fill(ByteStream& stream, std::size_t max);

 private:
  std::string bytes_;
  std::size_t consumed_ = 0;  // bytes_ before this are parsed
};

// A plain TCP connection made for direct I/O (socket_io.h).
class SocketStream final : public ByteStream {
 public:
  explicit SocketStream(std::shared_ptr<TcpSocket> socket) : socket_(std::move(socket)) {}
  csp::Task<ErrorCode> read_some(char* data, std::size_t size, std::size_t& got,
                                 csp::TimePoint deadline) override;
  csp::Task<ErrorCode> try_read_some(char* data, std::size_t size, std::size_t& got) override;
  csp::Task<ErrorCode> write(const std::string& bytes, csp::TimePoint deadline) override;
  csp::Task<ErrorCode> wait_readable(csp::TimePoint deadline) override;
  void notify_readable(const csp::Chan<ErrorCode>& ready) override;
  csp::Task<void> shutdown_send() override;
  void abort() override { socket_->abort(); }

 private:
  std::shared_ptr<TcpSocket> socket_;
};

// TLS over such a connection: TlsIo keeps the session, and the socket is still read and
// written by the owning goroutine itself.
class TlsSocketStream final : public ByteStream {
 public:
  // A server's side; `alpn`: the protocol to agree on ("http/1.1").
  TlsSocketStream(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context,
                  const char* alpn);
  // A client's side, verifying the server as `peer` says.
  TlsSocketStream(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context,
                  const TlsIo::ServerPeer& peer);

  csp::Task<ErrorCode> handshake(csp::TimePoint deadline) { return tls_.handshake(deadline); }
  const std::string& error() const { return tls_.error(); }

  csp::Task<ErrorCode> read_some(char* data, std::size_t size, std::size_t& got,
                                 csp::TimePoint deadline) override;
  csp::Task<ErrorCode> try_read_some(char* data, std::size_t size, std::size_t& got) override;
  csp::Task<ErrorCode> write(const std::string& bytes, csp::TimePoint deadline) override;
  csp::Task<ErrorCode> wait_readable(csp::TimePoint deadline) override;
  bool has_buffered_input() const override { return tls_.has_buffered_input(); }
  void notify_readable(const csp::Chan<ErrorCode>& ready) override;
  csp::Task<void> shutdown_send() override;
  void abort() override { socket_->abort(); }

 private:
  std::shared_ptr<TcpSocket> socket_;
  TlsIo tls_;
};

}  // namespace transport::internal
