#include "transport/testing/https_get.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace transport::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

absl::StatusOr<RawResponse> https_get(int port, std::string_view target,
                                      const TlsClientOptions& tls) {
  absl::StatusOr<SslContextPtr> made = internal::make_client_context(tls);
  if (!made.ok()) return made.status();
  SSL_CTX_up_ref(made->get());
  asio::ssl::context context(made->get());
  asio::io_context io;
  asio::ssl::stream<tcp::socket> stream(io, context);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  const auto addresses = resolver.resolve("127.0.0.1", std::to_string(port), ec);
  if (!ec) asio::connect(stream.next_layer(), addresses, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("connect: ", ec.message()));
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  X509_VERIFY_PARAM_set1_host(SSL_get0_param(stream.native_handle()), "localhost", 0);
  // The socket's own timeouts bound the blocking calls below.
  timeval tv{static_cast<long>(kRawTimeout.count()), 0};
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("TLS handshake: ", ec.message()));
  http::request<http::empty_body> request{http::verb::get, std::string(target), 11};
  request.set(http::field::host, "localhost");
  http::write(stream, request, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
  RawResponse out;
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    out.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  out.body = response.body();
  out.keep_alive = response.keep_alive();
  return out;
}

}  // namespace transport::testing
