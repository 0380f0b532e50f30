#include "transport/testing/raw_http.h"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace transport::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Runs the io_context until `done` or the timeout; cancels what is still pending.
template <class Done>
bool run_until(asio::io_context& io, tcp::socket& socket, Done done) {
  io.restart();
  const auto until = std::chrono::steady_clock::now() + kRawTimeout;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.run_for(std::chrono::milliseconds(100));
    if (io.stopped()) io.restart();
  }
  if (!done()) {
    error_code ignored;
    socket.cancel(ignored);
    io.restart();
    io.run();
    return false;
  }
  return true;
}

}  // namespace

std::string raw_request(std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view body) {
  std::string out(method);
  out.append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  bool framed = false;
  for (const auto& [name, value] : headers) {
    const std::string lower = absl::AsciiStrToLower(name);  // std::string: fine for absl
    framed = framed || lower == "content-length" || lower == "transfer-encoding";
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (!framed) absl::StrAppend(&out, "Content-Length: ", body.size(), "\r\n");
  out.append("\r\n").append(body);
  return out;
}

RawHttpConnection::RawHttpConnection(int port) : port_(port), socket_(io_) {}

absl::Status RawHttpConnection::connect() {
  error_code ec;
  socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("connect: ", ec.message()));
  return absl::OkStatus();
}

absl::Status RawHttpConnection::send(std::string_view bytes) {
  bool finished = false;
  error_code result;
  asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                    [&](error_code ec, std::size_t) {
                      result = ec;
                      finished = true;
                    });
  if (!run_until(io_, socket_, [&] { return finished; })) {
    return absl::DeadlineExceededError("send: timed out");
  }
  if (result) return absl::UnavailableError(absl::StrCat("send: ", result.message()));
  return absl::OkStatus();
}

absl::StatusOr<RawResponse> RawHttpConnection::read_response() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  bool finished = false;
  error_code result;
  http::async_read(socket_, buffer_, parser, [&](error_code ec, std::size_t) {
    result = ec;
    finished = true;
  });
  if (!run_until(io_, socket_, [&] { return finished; })) {
    return absl::DeadlineExceededError("read: timed out");
  }
  if (result) return absl::UnavailableError(absl::StrCat("read: ", result.message()));
  RawResponse out;
  const auto& message = parser.get();
  out.status = message.result_int();
  for (const auto& field : message) {
    out.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  out.body = message.body();
  out.keep_alive = message.keep_alive();
  return out;
}

bool RawHttpConnection::readable_within(std::chrono::milliseconds timeout) {
  if (buffer_.size() > 0) return true;
  pollfd fd{socket_.native_handle(), POLLIN, 0};
  const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
  return ready > 0;
}

void RawHttpConnection::shutdown_send() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

bool RawHttpConnection::wait_closed() {
  if (buffer_.size() > 0) return false;
  char byte = 0;
  bool finished = false;
  error_code result;
  std::size_t got = 0;
  socket_.async_read_some(asio::buffer(&byte, 1), [&](error_code ec, std::size_t n) {
    result = ec;
    got = n;
    finished = true;
  });
  if (!run_until(io_, socket_, [&] { return finished; })) return false;
  return got == 0 && (result == asio::error::eof || result == asio::error::connection_reset);
}

absl::StatusOr<RawResponse> raw_exchange(int port, std::string_view request_bytes) {
  RawHttpConnection connection(port);
  if (absl::Status s = connection.connect(); !s.ok()) return s;
  if (absl::Status s = connection.send(request_bytes); !s.ok()) return s;
  return connection.read_response();
}

}  // namespace transport::testing
