#pragma once
// TlsIo: TLS on a direct-I/O socket (socket_io.h), the server's side or a client's. OpenSSL works
// on memory buffers only: the connection goroutine moves ciphertext between them and the socket
// with the same non-blocking recv()/send() as a plaintext connection, so TLS adds no thread and no
// trip through the poller, and a peer that stalls parks only its own goroutine.
//
// Contract:
//  - One goroutine at a time uses a TlsIo (the servers' connection goroutine does all reads and
//    writes of its connection).
//  - handshake() must succeed before anything else. It fails with the peer's or OpenSSL's reason
//    in error() (a wrong CA, no client certificate under mTLS, an expired certificate, plain
//    HTTP sent to a TLS port), and with timed_out at the deadline: a client that opens a
//    connection and says nothing holds it no longer than that.
//  - Reads return plaintext; eof when the peer closed (with or without close_notify).
//    try_read() never parks for input: would_block when neither the session nor the socket has
//    more. It may park to write what the session must send (a TLS 1.3 ticket, a key update).
//  - has_buffered_input(): plaintext or ciphertext is held in the session, so waiting for the
//    socket to become readable could wait for bytes that already arrived.
//  - Errors read like socket_io's; a TLS failure is asio::error::no_protocol_option. error()
//    says why whenever the handshake failed (OpenSSL's reason, a client that closed or stayed
//    silent past the deadline).

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "csp/task.h"
#include "csp/timer.h"
#include "transport/internal/listener.h"
#include "transport/internal/poller_object.h"
#include "transport/tls.h"

struct ssl_st;
struct bio_st;

namespace transport::internal {

class TlsIo {
 public:
  // `alpn`: the protocol to agree on when the client offers it ("h2", "http/1.1"); static.
  // Writes of TLS records that reads cause are given `write_timeout`.
  TlsIo(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context, const char* alpn,
        csp::Duration write_timeout);
  // A client's side: the server is verified as `name` (a host name, sent as SNI, or an IP
  // address) unless `verify` is false; the context (make_client_context) holds the rest.
  struct ServerPeer {
    std::string name;
    bool verify = true;
  };
  TlsIo(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context, const ServerPeer& peer,
        csp::Duration write_timeout);
  ~TlsIo();
  TlsIo(const TlsIo&) = delete;
  TlsIo& operator=(const TlsIo&) = delete;

  csp::Task<ErrorCode> handshake(csp::TimePoint deadline);
  csp::Task<ErrorCode> try_read(char* data, std::size_t size, std::size_t& got);
  csp::Task<ErrorCode> read_some(char* data, std::size_t size, std::size_t& got,
                                 csp::TimePoint deadline);
  csp::Task<ErrorCode> write_all(const char* data, std::size_t size, csp::TimePoint deadline);
  // Sends close_notify (best effort): the peer can tell our end from a truncation.
  csp::Task<void> close_notify(csp::TimePoint deadline);

  bool has_buffered_input() const;
  const std::string& error() const { return error_; }
  // The protocol agreed by ALPN, empty when none.
  std::string alpn_selected() const;

 private:
  // Sets up the session's buffers; false when OpenSSL could not (every call then fails).
  bool init();
  csp::Task<ErrorCode> read(char* data, std::size_t size, std::size_t& got, bool park,
                            csp::TimePoint deadline);
  csp::Task<ErrorCode> flush(csp::TimePoint deadline);
  ErrorCode fail(int ssl_error);
  // Ciphertext to and from the socket, through cipher_.
  ErrorCode try_read_raw(std::size_t& got);
  csp::Task<ErrorCode> read_some_raw(std::size_t& got, csp::TimePoint deadline);
  csp::Task<ErrorCode> write_all_raw(int n, csp::TimePoint deadline);

  const std::shared_ptr<TcpSocket> socket_;
  const csp::Duration write_timeout_;
  std::unique_ptr<ssl_st, void (*)(ssl_st*)> ssl_;
  bio_st* in_ = nullptr;                // ciphertext from the peer (owned by ssl_)
  bio_st* out_ = nullptr;               // ciphertext for the peer (owned by ssl_)
  std::array<char, 17 * 1024> cipher_;  // one full TLS record and its header fit
  std::string error_;
  const char* peer_role_ = "client";  // who the handshake messages speak of
};

}  // namespace transport::internal
