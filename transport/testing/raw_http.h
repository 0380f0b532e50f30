#pragma once
// A deliberately plain HTTP/1.1 client for tests: it writes whatever bytes it is given (bad
// requests included) and parses one answer at a time with Beast. It runs its own io_context on
// the calling thread — no csp involvement — so tests can poke a server the way an arbitrary
// client would. Every wait is bounded (kRawTimeout) so a broken server fails a test instead of
// hanging it.
//
// Thread-safety: one RawHttpConnection per thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace transport::testing {

inline constexpr std::chrono::seconds kRawTimeout{30};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = false;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Raw request bytes: "METHOD target HTTP/1.1", Host, the headers given, Content-Length (unless
// a Content-Length or Transfer-Encoding header is given), the body.
std::string raw_request(std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view body);

class RawHttpConnection {
 public:
  explicit RawHttpConnection(int port);

  absl::Status connect();
  absl::Status send(std::string_view bytes);
  absl::StatusOr<RawResponse> read_response();
  // Whether the server has sent something (or closed) within `timeout`, without consuming it.
  // For "no answer yet" checks: a true answer is definite, a false one only says "not yet".
  bool readable_within(std::chrono::milliseconds timeout);
  // Half-close: the server sees end of stream.
  void shutdown_send();
  // Waits until the server closes the connection: true on a clean EOF (or reset), false if
  // data arrives or nothing happens within the timeout.
  bool wait_closed();

 private:
  int port_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// One request on a new connection.
absl::StatusOr<RawResponse> raw_exchange(int port, std::string_view request_bytes);

}  // namespace transport::testing
