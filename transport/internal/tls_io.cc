#include "transport/internal/tls_io.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <climits>

#include "transport/internal/socket_io.h"

namespace transport::internal {

namespace asio = boost::asio;

TlsIo::TlsIo(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context, const char* alpn,
             csp::Duration write_timeout)
    : socket_(std::move(socket)),
      write_timeout_(write_timeout),
      ssl_(SSL_new(context.get()), SSL_free) {
  if (!init()) return;
  SSL_set_accept_state(ssl_.get());
  set_alpn_preference(ssl_.get(), alpn);
}

TlsIo::TlsIo(std::shared_ptr<TcpSocket> socket, const SslContextPtr& context,
             const ServerPeer& peer, csp::Duration write_timeout)
    : socket_(std::move(socket)),
      write_timeout_(write_timeout),
      ssl_(SSL_new(context.get()), SSL_free),
      peer_role_("server") {
  if (!init()) return;
  SSL_set_connect_state(ssl_.get());
  ErrorCode not_ip;
  boost::asio::ip::make_address(peer.name, not_ip);
  const bool ip = !not_ip;
  if (!ip) SSL_set_tlsext_host_name(ssl_.get(), peer.name.c_str());  // SNI is for names only
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(ssl_.get(), kHttp11, sizeof kHttp11);
  if (peer.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, peer.name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, peer.name.c_str(), peer.name.size());
    if (set != 1) ssl_.reset();  // every call fails, with OpenSSL's reason
  }
}

bool TlsIo::init() {
  if (ssl_ == nullptr) return false;  // every call then fails (fail() reports OpenSSL's reason)
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    in_ = out_ = nullptr;
    ssl_.reset();
    return false;
  }
  // An empty input buffer means "wait for more", not end of stream.
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_.get(), in_, out_);  // ssl_ owns both from here
  return true;
}

TlsIo::~TlsIo() = default;

ErrorCode TlsIo::fail(int ssl_error) {
  if (ssl_ == nullptr) {
    error_ = take_openssl_errors("cannot create a TLS session");
  } else if (ssl_error == SSL_ERROR_SSL) {
    error_ = take_openssl_errors();
    const long verify = SSL_get_verify_result(ssl_.get());
    if (verify != X509_V_OK) {
      error_ += " (";
      error_ += X509_verify_cert_error_string(verify);
      error_ += ")";
    }
  } else {
    error_ = take_openssl_errors("TLS session failed");
  }
  return ErrorCode(asio::error::no_protocol_option);
}

csp::Task<ErrorCode> TlsIo::flush(csp::TimePoint deadline) {
  while (BIO_ctrl_pending(out_) > 0) {
    const int n = BIO_read(out_, cipher_.data(), static_cast<int>(cipher_.size()));
    if (n <= 0) break;
    if (ErrorCode ec = co_await write_all_raw(n, deadline)) co_return ec;
  }
  co_return ErrorCode();
}

csp::Task<ErrorCode> TlsIo::handshake(csp::TimePoint deadline) {
  if (ssl_ == nullptr) co_return fail(SSL_ERROR_SSL);
  for (;;) {
    ERR_clear_error();
    const int rv = SSL_do_handshake(ssl_.get());
    const int err = rv == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), rv);
    // OpenSSL's error queue is per thread, and the goroutine may resume on another worker
    // after a write: the reason is taken before anything parks.
    const ErrorCode failed =
        err == SSL_ERROR_NONE || err == SSL_ERROR_WANT_READ ? ErrorCode() : fail(err);
    // Our flight, or the alert that tells the client why it was refused.
    const ErrorCode flushed = co_await flush(deadline);
    if (failed) co_return failed;
    if (flushed || rv == 1) co_return flushed;
    std::size_t got = 0;
    if (ErrorCode ec = co_await read_some_raw(got, deadline)) {
      if (ec == asio::error::eof) {
        error_ = std::string("the ") + peer_role_ + " closed the connection during the handshake";
      } else if (ec == asio::error::timed_out) {
        error_ = std::string("the ") + peer_role_ + " did not finish the handshake in time";
      }
      co_return ec;
    }
    BIO_write(in_, cipher_.data(), static_cast<int>(got));
  }
}

csp::Task<ErrorCode> TlsIo::read(char* data, std::size_t size, std::size_t& got, bool park,
                                 csp::TimePoint deadline) {
  got = 0;
  if (ssl_ == nullptr) co_return fail(SSL_ERROR_SSL);
  for (;;) {
    ERR_clear_error();
    const int n =
        SSL_read(ssl_.get(), data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
    const int err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), n);
    const ErrorCode failed =
        err == SSL_ERROR_NONE || err == SSL_ERROR_WANT_READ || err == SSL_ERROR_ZERO_RETURN
            ? ErrorCode()
            : fail(err);  // before parking: see handshake()
    if (BIO_ctrl_pending(out_) > 0) {
      if (ErrorCode ec = co_await flush(csp::Clock::now() + write_timeout_)) co_return ec;
    }
    if (failed) co_return failed;
    if (n > 0) {
      got = static_cast<std::size_t>(n);
      co_return ErrorCode();
    }
    if (err == SSL_ERROR_ZERO_RETURN) co_return ErrorCode(asio::error::eof);  // close_notify
    std::size_t raw = 0;
    ErrorCode ec;
    if (park) {
      ec = co_await read_some_raw(raw, deadline);
    } else {
      ec = try_read_raw(raw);
    }
    if (ec) co_return ec;
    BIO_write(in_, cipher_.data(), static_cast<int>(raw));
  }
}

csp::Task<ErrorCode> TlsIo::try_read(char* data, std::size_t size, std::size_t& got) {
  co_return co_await read(data, size, got, /*park=*/false, csp::TimePoint::max());
}

csp::Task<ErrorCode> TlsIo::read_some(char* data, std::size_t size, std::size_t& got,
                                      csp::TimePoint deadline) {
  co_return co_await read(data, size, got, /*park=*/true, deadline);
}

csp::Task<ErrorCode> TlsIo::write_all(const char* data, std::size_t size, csp::TimePoint deadline) {
  if (ssl_ == nullptr) co_return fail(SSL_ERROR_SSL);
  while (size > 0) {
    // Record by record, so the ciphertext held at once stays small however large the answer.
    const int chunk = static_cast<int>(std::min<std::size_t>(size, 16 * 1024));
    ERR_clear_error();
    const int n = SSL_write(ssl_.get(), data, chunk);
    if (n <= 0) co_return fail(SSL_get_error(ssl_.get(), n));
    data += n;
    size -= static_cast<std::size_t>(n);
    if (BIO_ctrl_pending(out_) >= cipher_.size() || size == 0) {
      if (ErrorCode ec = co_await flush(deadline)) co_return ec;
    }
  }
  co_return ErrorCode();
}

csp::Task<void> TlsIo::close_notify(csp::TimePoint deadline) {
  if (ssl_ == nullptr || !SSL_is_init_finished(ssl_.get())) co_return;
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
  co_await flush(deadline);
}

bool TlsIo::has_buffered_input() const {
  return ssl_ != nullptr && (SSL_pending(ssl_.get()) > 0 || BIO_ctrl_pending(in_) > 0);
}

std::string TlsIo::alpn_selected() const {
  if (ssl_ == nullptr) return {};
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

ErrorCode TlsIo::try_read_raw(std::size_t& got) {
  return internal::try_read(*socket_, cipher_.data(), cipher_.size(), got);
}

csp::Task<ErrorCode> TlsIo::read_some_raw(std::size_t& got, csp::TimePoint deadline) {
  co_return co_await internal::read_some(*socket_, cipher_.data(), cipher_.size(), got, deadline);
}

csp::Task<ErrorCode> TlsIo::write_all_raw(int n, csp::TimePoint deadline) {
  co_return co_await internal::write_all(*socket_, cipher_.data(), static_cast<std::size_t>(n),
                                         deadline);
}

}  // namespace transport::internal
