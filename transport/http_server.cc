// HttpServer: an accept loop and one goroutine per connection; every socket operation is posted
// to the poller thread through PollerObject (internal/poller_object.h).
//
// A connection's loop, one request per round:
//  1. wait_for_request: mark the connection idle (shutdown closes idle connections) and wait,
//     up to idle_timeout, until the socket is readable.
//  2. Read the request head (read_timeout from here on) and route it: path, method, CORS
//     preflight, Content-Type, Content-Encoding, Content-Length. A refusal here is answered and
//     the connection closed, since its body was not read.
//  3. Send "100 Continue" if asked, read the body (at most max_request_body_bytes).
//  4. Decompress (capped), decode (JSON → binary), await the handler, answer in the request's
//     encoding; keep the connection if both sides want to and the server is not stopping.
//
// Shutdown protocol (State::shutdown):
//  1. Under `mu`: phase kRunning → kStopping, abort the acceptor, abort every idle connection.
//     A connection marks itself idle only under `mu` and only while kRunning, so after this
//     step no connection can start waiting for a new request.
//  2. The first caller starts a goroutine that waits for every server goroutine (accept loop
//     and connections, counted in `goroutines`), then sets kStopped and closes `drained`.
//     Busy connections finish their request; their answer says Connection: close.
//  3. Every caller waits for `drained`; if `deadline` passes first it aborts every connection
//     still registered (their reads and writes fail; running handlers are still awaited) and
//     keeps waiting.

#include "transport/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/wait_group.h"
#include "otlp/compression.h"
#include "otlp/errors.h"
#include "otlp/json_codec.h"
#include "transport/internal/cors.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/messages.h"
#include "transport/internal/poller_object.h"
#include "transport/internal/status_mapping.h"
#include "transport/internal/strings.h"

namespace transport {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using internal::ErrorCode;
using Socket = internal::PollerObject<tcp::socket>;
using Acceptor = internal::PollerObject<tcp::acceptor>;
using Request = http::request<http::string_body>;
using RequestParser = http::request_parser<http::string_body>;

constexpr std::string_view kProtobufType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
// After an error answer, how much of the unread request we swallow (and for how long) so that
// closing does not reset the connection before the client has read the answer.
constexpr std::size_t kLingerBytes = 1u << 20;
constexpr std::chrono::seconds kLingerTime{2};

csp::TimePoint deadline_after(std::chrono::milliseconds timeout) {
  return timeout.count() > 0 ? csp::Clock::now() + timeout : csp::TimePoint::max();
}

std::string format_peer(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return internal::format_host_port(address.to_string(), endpoint.port());
}

// An answer before it becomes a Beast response.
struct Reply {
  http::status status = http::status::ok;
  std::string content_type;
  std::string body;
  std::vector<std::pair<http::field, std::string>> headers;
};

Reply text_reply(http::status status, std::string text) {
  return Reply{status, std::string(kTextType), std::move(text), {}};
}

// A google.rpc.Status body in the request's encoding.
Reply status_reply(http::status http_status, const absl::Status& status, bool json) {
  return Reply{http_status,
               std::string(json ? kJsonType : kProtobufType),
               internal::encode_rpc_status(internal::make_rpc_status(status, std::nullopt), json),
               {}};
}

// What routing decided for a request whose head was read.
struct Route {
  std::optional<Reply> refusal;  // answer now; close unless preflight (the body was not read)
  bool preflight = false;        // `refusal` answers a CORS preflight
  otlp::Signal signal = otlp::Signal::kTraces;
  bool json = false;
  otlp::Compression compression = otlp::Compression::kNone;
};

}  // namespace

absl::Status HttpServerOptions::validate() const {
  absl::StatusOr<internal::HostPort> hp = internal::parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  const std::pair<const char*, const std::string*> paths[] = {
      {"traces_url_path", &traces_path},
      {"metrics_url_path", &metrics_path},
      {"logs_url_path", &logs_path},
      {"profiles_url_path", &profiles_path}};
  for (const auto& [name, path] : paths) {
    if (path->empty() || path->front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": must start with '/', got \"", *path, "\""));
    }
    for (const auto& [other_name, other] : paths) {
      if (other != path && *other == *path) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " and ", other_name, ": both are \"", *path, "\""));
      }
    }
  }
  if (max_request_body_bytes == 0) {
    return absl::InvalidArgumentError("max_request_body_size: must be positive");
  }
  if (max_header_bytes < 256) {
    return absl::InvalidArgumentError("max_header_bytes: must be at least 256");
  }
  if (read_timeout.count() < 0) return absl::InvalidArgumentError("read_timeout: negative");
  if (idle_timeout.count() < 0) return absl::InvalidArgumentError("idle_timeout: negative");
  if (cors.max_age.count() < 0) return absl::InvalidArgumentError("cors.max_age: negative");
  if (max_any_value_depth <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_any_value_depth: must be positive, got ", max_any_value_depth));
  }
  return absl::OkStatus();
}

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(HttpServerOptions o, ExportHandler h) : options(std::move(o)), handler(std::move(h)) {
    limits.max_message_bytes = options.max_request_body_bytes;
    limits.max_any_value_depth = options.max_any_value_depth;
  }

  absl::StatusOr<int> start();
  csp::Task<void> shutdown(csp::TimePoint deadline);
  bool stopping() {
    std::lock_guard lock(mu);
    return phase != Phase::kRunning;
  }

  const HttpServerOptions options;
  const ExportHandler handler;
  otlp::DecodeLimits limits;

  enum class Phase { kNew, kRunning, kStopping, kStopped };
  struct Connection {
    std::shared_ptr<Socket> socket;
    bool idle = false;  // waiting for a request: shutdown may close it
  };
  std::mutex mu;  // guards what follows, up to `port`
  Phase phase = Phase::kNew;
  std::shared_ptr<Acceptor> acceptor;
  std::unordered_map<std::uint64_t, Connection> connections;
  std::uint64_t next_connection_id = 0;

  std::atomic<int> port{0};
  csp::WaitGroup goroutines;        // the accept loop and connection goroutines
  csp::Chan<csp::Unit> drained{0};  // closed once they have all ended after shutdown
};

namespace {

using State = HttpServer::State;

// One connection's goroutine state. Lives in the goroutine's frame.
class ConnectionServer {
 public:
  ConnectionServer(std::shared_ptr<State> state, std::shared_ptr<Socket> socket, std::uint64_t id,
                   std::string peer)
      : state_(std::move(state)), socket_(std::move(socket)), id_(id), peer_(std::move(peer)) {}

  csp::Task<void> run() {
    std::optional<End> end;
    while (!end.has_value()) {
      if (!co_await wait_for_request()) break;
      end = co_await serve_request();
    }
    co_await close(end.value_or(End::kAbort));
    std::lock_guard lock(state_->mu);
    state_->connections.erase(id_);
  }

 private:
  // How a connection ends: half-close after the last answer (kGraceful), the same and swallow
  // what the client still sends (kLinger: it was refused before its body was read), or at once.
  enum class End { kGraceful, kLinger, kAbort };

  // Steps 2 to 4 for one request; nullopt while the connection stays open.
  csp::Task<std::optional<End>> serve_request() {
    const csp::TimePoint deadline = deadline_after(state_->options.read_timeout);
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(state_->options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // checked by route()
    ErrorCode ec = co_await socket_->run(
        [&](tcp::socket& s, auto done) {
          http::async_read_header(s, buffer_, parser, internal::ignore_size(std::move(done)));
        },
        deadline);
    if (ec) {
      std::optional<Reply> reply = head_error_reply(ec);
      if (!reply.has_value()) co_return End::kAbort;
      co_await write_reply(*reply, /*keep_alive=*/false, 11);
      co_return End::kLinger;
    }
    const Request& head = parser.get();
    origin_ = std::string(head[http::field::origin]);
    Route route = this->route(parser);
    if (route.refusal.has_value()) {
      // A preflight carries no body, so the connection stays in step; other refusals close.
      const bool keep = route.preflight && keep_alive(head) &&
                        parser.content_length().value_or(0) == 0 && !parser.chunked();
      ec = co_await write_reply(*route.refusal, keep, head.version());
      if (ec) co_return End::kAbort;
      if (!keep) co_return End::kLinger;
      co_return std::nullopt;
    }
    std::optional<End> failed = co_await read_body(parser, route, deadline);
    if (failed.has_value()) co_return failed;
    Request request = parser.release();
    Reply reply = co_await answer(route, std::move(request.body()));
    const bool keep = keep_alive(request);
    ec = co_await write_reply(reply, keep, request.version());
    if (ec) co_return End::kAbort;
    if (!keep) co_return End::kGraceful;
    co_return std::nullopt;
  }

  // Step 1: park until the next request starts (false: close the connection).
  csp::Task<bool> wait_for_request() {
    if (buffer_.size() > 0) co_return true;  // pipelined: the next request is already here
    {
      std::lock_guard lock(state_->mu);
      if (state_->phase != State::Phase::kRunning) co_return false;
      state_->connections[id_].idle = true;
    }
    const ErrorCode ec = co_await socket_->run(
        [](tcp::socket& s, auto done) { s.async_wait(tcp::socket::wait_read, std::move(done)); },
        deadline_after(state_->options.idle_timeout));
    {
      std::lock_guard lock(state_->mu);
      state_->connections[id_].idle = false;
    }
    co_return !ec;
  }

  // Step 3: "100 Continue" if asked, then the body. nullopt once it is read; otherwise how the
  // connection ends, after answering the failure if there is an answer to give.
  csp::Task<std::optional<End>> read_body(RequestParser& parser, const Route& route,
                                          csp::TimePoint deadline) {
    const unsigned version = parser.get().version();
    if (internal::iequals(internal::sv(parser.get()[http::field::expect]), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      const ErrorCode ec = co_await socket_->run(
          [](tcp::socket& s, auto done) {
            asio::async_write(s, asio::buffer(kContinue.data(), kContinue.size()),
                              internal::ignore_size(std::move(done)));
          },
          deadline);
      if (ec) co_return End::kAbort;
    }
    parser.body_limit(state_->options.max_request_body_bytes);
    const ErrorCode ec = co_await socket_->run(
        [&](tcp::socket& s, auto done) {
          http::async_read(s, buffer_, parser, internal::ignore_size(std::move(done)));
        },
        deadline);
    if (!ec) co_return std::nullopt;
    std::optional<Reply> reply = body_error_reply(ec, route.json);
    if (!reply.has_value()) co_return End::kAbort;
    co_await write_reply(*reply, /*keep_alive=*/false, version);
    co_return End::kLinger;
  }

  bool keep_alive(const Request& request) const {
    return state_->options.keep_alive && request.keep_alive() && !state_->stopping();
  }

  // Step 2: everything that can be decided from the head.
  Route route(const RequestParser& parser) const {
    const Request& head = parser.get();
    const HttpServerOptions& options = state_->options;
    Route route;
    std::string_view target = head.target();
    target = target.substr(0, target.find('?'));
    const std::pair<const std::string*, otlp::Signal> paths[] = {
        {&options.traces_path, otlp::Signal::kTraces},
        {&options.metrics_path, otlp::Signal::kMetrics},
        {&options.logs_path, otlp::Signal::kLogs},
        {&options.profiles_path, otlp::Signal::kProfiles}};
    bool found = false;
    for (const auto& [path, signal] : paths) {
      if (*path == target) {
        route.signal = signal;
        found = true;
      }
    }
    if (!found) {
      route.refusal = text_reply(http::status::not_found, "404 page not found");
      return route;
    }
    if (head.method() == http::verb::options && !options.cors.allowed_origins.empty() &&
        head.find(http::field::access_control_request_method) != head.end()) {
      route.refusal = preflight_reply(head);
      route.preflight = true;
      return route;
    }
    if (head.method() != http::verb::post) {
      route.refusal =
          text_reply(http::status::method_not_allowed, "405 method not allowed, supported: [POST]");
      route.refusal->headers.emplace_back(http::field::allow, "POST");
      return route;
    }
    const std::string type = internal::media_type(head[http::field::content_type]);
    if (type == kJsonType) {
      route.json = true;
    } else if (type != kProtobufType) {
      route.refusal =
          text_reply(http::status::unsupported_media_type,
                     absl::StrCat("415 unsupported media type, supported: [",
                                  internal::av(kJsonType), ", ", internal::av(kProtobufType), "]"));
      return route;
    }
    const std::string_view encoding = head[http::field::content_encoding];
    std::optional<otlp::Compression> compression = otlp::parse_compression(encoding);
    if (!compression.has_value()) {
      route.refusal = status_reply(http::status::bad_request,
                                   absl::InvalidArgumentError(absl::StrCat(
                                       "unsupported Content-Encoding \"", internal::av(encoding),
                                       "\", supported: gzip, deflate, zstd, identity")),
                                   route.json);
      return route;
    }
    route.compression = *compression;
    const std::size_t limit = options.max_request_body_bytes;
    if (parser.content_length().value_or(0) > limit) {
      route.refusal = status_reply(http::status::payload_too_large,
                                   absl::ResourceExhaustedError(absl::StrCat(
                                       "request body of ", *parser.content_length(),
                                       " bytes exceeds the limit of ", limit, " bytes")),
                                   route.json);
    }
    return route;
  }

  Reply preflight_reply(const Request& head) const {
    const CorsOptions& cors = state_->options.cors;
    Reply reply{http::status::no_content, "", "", {}};
    reply.headers.emplace_back(http::field::vary,
                               "Origin, Access-Control-Request-Method, "
                               "Access-Control-Request-Headers");
    const std::string_view requested_headers = head[http::field::access_control_request_headers];
    if (!internal::cors_origin_allowed(cors.allowed_origins, origin_) ||
        head[http::field::access_control_request_method] != "POST" ||
        !internal::cors_headers_allowed(cors.allowed_headers, requested_headers)) {
      return reply;  // no CORS headers: the browser refuses the request
    }
    reply.headers.emplace_back(http::field::access_control_allow_origin, origin_);
    reply.headers.emplace_back(http::field::access_control_allow_methods, "POST");
    if (!requested_headers.empty()) {
      reply.headers.emplace_back(http::field::access_control_allow_headers,
                                 std::string(requested_headers));
    }
    if (cors.max_age.count() > 0) {
      reply.headers.emplace_back(http::field::access_control_max_age,
                                 std::to_string(cors.max_age.count()));
    }
    return reply;
  }

  // Errors while reading the head. nullopt: close without an answer.
  static std::optional<Reply> head_error_reply(const ErrorCode& ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::timed_out ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return std::nullopt;
    }
    if (ec == http::error::header_limit) {
      return text_reply(http::status::request_header_fields_too_large,
                        "431 request header fields too large");
    }
    if (ec == http::error::partial_message) {
      return text_reply(http::status::bad_request,
                        "400 malformed HTTP request: connection closed inside the request head");
    }
    return text_reply(http::status::bad_request,
                      absl::StrCat("400 malformed HTTP request: ", ec.message()));
  }

  // Errors while reading the body. nullopt: close without an answer.
  std::optional<Reply> body_error_reply(const ErrorCode& ec, bool json) const {
    if (ec == asio::error::timed_out || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return std::nullopt;
    }
    if (ec == http::error::body_limit) {
      return status_reply(http::status::payload_too_large,
                          absl::ResourceExhaustedError(
                              absl::StrCat("request body exceeds the limit of ",
                                           state_->options.max_request_body_bytes, " bytes")),
                          json);
    }
    if (ec == http::error::partial_message || ec == http::error::end_of_stream ||
        ec == asio::error::eof) {
      return status_reply(
          http::status::bad_request,
          absl::InvalidArgumentError("truncated request body: the connection was closed before "
                                     "the whole body arrived"),
          json);
    }
    return status_reply(
        http::status::bad_request,
        absl::InvalidArgumentError(absl::StrCat("malformed HTTP request body: ", ec.message())),
        json);
  }

  // Step 4: from the body to the answer.
  csp::Task<Reply> answer(const Route& route, std::string body) {
    absl::StatusOr<std::string> binary = to_binary_request(route, std::move(body));
    if (!binary.ok()) {
      const bool too_large = binary.status().code() == absl::StatusCode::kResourceExhausted;
      co_return status_reply(
          too_large ? http::status::payload_too_large : http::status::bad_request, binary.status(),
          route.json);
    }
    ExportResult result;
    try {
      // Bound to a local first: g++ 12 mishandles class temporaries in a co_await operand.
      csp::Task<ExportResult> handled =
          state_->handler(ExportRequest{route.signal, *std::move(binary), peer_});
      result = co_await std::move(handled);
    } catch (const std::exception& e) {
      result.status = absl::InternalError(absl::StrCat("export failed: ", e.what()));
    } catch (...) {
      result.status = absl::InternalError("export failed");
    }
    co_return result_reply(route, result);
  }

  // Decompresses and decodes; returns the binary request, or an error whose code says
  // INVALID_ARGUMENT (400) or RESOURCE_EXHAUSTED (413).
  absl::StatusOr<std::string> to_binary_request(const Route& route, std::string body) const {
    const std::size_t limit = state_->options.max_request_body_bytes;
    if (route.compression != otlp::Compression::kNone) {
      absl::StatusOr<std::string> inflated = otlp::decompress(route.compression, body, limit);
      if (!inflated.ok()) {
        const otlp::ErrorKind kind = otlp::error_kind(inflated.status());
        if (kind == otlp::ErrorKind::kDecompressionBomb ||
            kind == otlp::ErrorKind::kMessageTooLarge) {
          return absl::ResourceExhaustedError(
              absl::StrCat("decompressed request body exceeds the limit of ", limit, " bytes"));
        }
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot decompress the ", internal::av(otlp::compression_name(route.compression)),
            " request body: ", inflated.status().message()));
      }
      body = *std::move(inflated);
    }
    if (body.empty()) return body;  // an empty request: nothing to check
    google::protobuf::Arena arena;
    google::protobuf::Message* message = otlp::new_request(route.signal, &arena);
    const absl::Status decoded = route.json ? otlp::decode_json(body, *message, state_->limits)
                                            : otlp::decode_binary(body, *message, state_->limits);
    if (!decoded.ok()) {
      return absl::Status(decoded.code(),
                          absl::StrCat("invalid ", message->GetDescriptor()->name(),
                                       route.json ? " (JSON): " : ": ", decoded.message()));
    }
    if (!route.json) return body;
    return otlp::encode_binary(*message);
  }

  static Reply result_reply(const Route& route, const ExportResult& result) {
    if (result.status.ok()) {
      std::unique_ptr<google::protobuf::Message> response = internal::make_export_response(
          route.signal, result.rejected_items, result.partial_message);
      std::string body;
      if (route.json) {
        otlp::encode_json_append(*response, body);
      } else {
        body = response->SerializeAsString();
      }
      return Reply{http::status::ok,
                   std::string(route.json ? kJsonType : kProtobufType),
                   std::move(body),
                   {}};
    }
    const int code = internal::http_status_for_code(result.status.code());
    Reply reply = status_reply(static_cast<http::status>(code), result.status, route.json);
    if (result.retry_after.has_value() && (code == 429 || code == 503)) {
      reply.headers.emplace_back(
          http::field::retry_after,
          std::to_string(internal::retry_after_seconds(*result.retry_after)));
    }
    return reply;
  }

  csp::Task<ErrorCode> write_reply(const Reply& reply, bool keep_alive, unsigned version) {
    http::response<http::string_body> response{reply.status, version};
    if (!reply.content_type.empty()) response.set(http::field::content_type, reply.content_type);
    for (const auto& [field, value] : reply.headers) response.set(field, value);
    const CorsOptions& cors = state_->options.cors;
    if (!origin_.empty() &&
        response.find(http::field::access_control_allow_origin) == response.end() &&
        reply.status != http::status::no_content &&
        internal::cors_origin_allowed(cors.allowed_origins, origin_)) {
      response.set(http::field::access_control_allow_origin, origin_);
      response.set(http::field::vary, "Origin");
    }
    response.body() = reply.body;
    response.keep_alive(keep_alive);
    response.prepare_payload();
    co_return co_await socket_->run(
        [&](tcp::socket& s, auto done) {
          http::async_write(s, response, internal::ignore_size(std::move(done)));
        },
        deadline_after(state_->options.read_timeout));
  }

  // Ends the connection: half-close (so the client reads our last answer up to a clean EOF),
  // for kLinger swallow what the client still sends, then close.
  csp::Task<void> close(End end) {
    const bool linger = end == End::kLinger;
    if (end != End::kAbort) {
      co_await socket_->run([](tcp::socket& s, auto done) {
        ErrorCode ec;
        s.shutdown(tcp::socket::shutdown_send, ec);
        done(ec);
      });
    }
    if (linger) {
      const csp::TimePoint until = csp::Clock::now() + kLingerTime;
      std::size_t swallowed = 0;
      std::array<char, 16 * 1024> scratch;
      while (swallowed < kLingerBytes) {
        std::size_t n = 0;
        const ErrorCode ec = co_await socket_->run(
            [&](tcp::socket& s, auto done) {
              s.async_read_some(asio::buffer(scratch), [&n, done = std::move(done)](
                                                           ErrorCode ec, std::size_t got) mutable {
                n = got;
                done(ec);
              });
            },
            until);
        if (ec) break;
        swallowed += n;
      }
    }
    socket_->abort();
  }

  const std::shared_ptr<State> state_;
  const std::shared_ptr<Socket> socket_;
  const std::uint64_t id_;
  const std::string peer_;
  boost::beast::flat_buffer buffer_;
  std::string origin_;  // Origin of the current request
};

csp::Task<void> serve_connection(std::shared_ptr<State> state, std::shared_ptr<Socket> socket,
                                 std::uint64_t id, std::string peer) {
  {
    ConnectionServer connection(state, std::move(socket), id, std::move(peer));
    co_await connection.run();
  }
  state->goroutines.done();
}

csp::Task<void> accept_loop(std::shared_ptr<State> state) {
  for (;;) {
    std::shared_ptr<Socket> socket = Socket::make();
    tcp::endpoint peer;
    const ErrorCode ec = co_await state->acceptor->run([&](tcp::acceptor& acceptor, auto done) {
      acceptor.async_accept(socket->unsafe_object(), peer,
                            [socket, done = std::move(done)](ErrorCode ec) mutable {
                              // Answers are single writes: do not let Nagle hold them back.
                              ErrorCode ignored;
                              if (!ec)
                                socket->unsafe_object().set_option(tcp::no_delay(true), ignored);
                              done(ec);
                            });
    });
    if (ec) {
      if (ec == asio::error::operation_aborted || state->stopping()) break;
      // Out of descriptors or a connection reset while queued: back off briefly, keep serving.
      co_await csp::sleep(std::chrono::milliseconds(10));
      continue;
    }
    std::uint64_t id = 0;
    {
      std::lock_guard lock(state->mu);
      if (state->phase != State::Phase::kRunning) {
        socket->abort();
        break;
      }
      id = state->next_connection_id++;
      state->connections[id] = State::Connection{socket, false};
      state->goroutines.add(1);
    }
    csp::go(serve_connection(state, std::move(socket), id, format_peer(peer)));
  }
  state->goroutines.done();
}

csp::Task<void> close_when_drained(std::shared_ptr<State> state) {
  co_await state->goroutines.wait();
  {
    std::lock_guard lock(state->mu);
    state->phase = State::Phase::kStopped;
  }
  state->drained.close();
}

// The listening endpoint: a literal address, the first IPv4 address of a name (as Go's
// net.Listen does for "localhost"), or every interface for an empty host.
absl::StatusOr<tcp::endpoint> resolve_listen_endpoint(const internal::HostPort& hp) {
  if (hp.host.empty()) return tcp::endpoint(tcp::v6(), hp.port);
  ErrorCode ec;
  asio::ip::address address = asio::ip::make_address(hp.host, ec);
  if (!ec) return tcp::endpoint(address, hp.port);
  asio::io_context io;
  tcp::resolver resolver(io);
  const tcp::resolver::results_type results =
      resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve \"", hp.host, "\": ", ec ? ec.message() : "no address"));
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) return entry.endpoint();
  }
  return results.begin()->endpoint();
}

}  // namespace

absl::StatusOr<int> State::start() {
  std::lock_guard lock(mu);
  if (phase != Phase::kNew) {
    return absl::FailedPreconditionError(phase == Phase::kRunning
                                             ? "HttpServer: start() called twice"
                                             : "HttpServer: start() after shutdown()");
  }
  if (!handler) return absl::FailedPreconditionError("HttpServer: no handler");
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;
  absl::StatusOr<internal::HostPort> hp = internal::parse_host_port(options.endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  absl::StatusOr<tcp::endpoint> endpoint = resolve_listen_endpoint(*hp);
  if (!endpoint.ok()) return endpoint.status();

  std::shared_ptr<Acceptor> listener = Acceptor::make();
  tcp::acceptor& a = listener->unsafe_object();  // not shared yet
  const auto fail = [&](std::string_view step, const ErrorCode& ec) {
    return absl::UnavailableError(absl::StrCat("HttpServer: cannot listen on \"", options.endpoint,
                                               "\": ", internal::av(step), ": ", ec.message()));
  };
  ErrorCode ec;
  a.open(endpoint->protocol(), ec);
  if (ec) return fail("open", ec);
  if (endpoint->protocol() == tcp::v6() && hp->host.empty()) {
    a.set_option(asio::ip::v6_only(false), ec);  // dual stack, as Go's ":port"
  }
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  a.bind(*endpoint, ec);
  if (ec) return fail("bind", ec);
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  const int bound = a.local_endpoint(ec).port();
  if (ec) return fail("local_endpoint", ec);

  acceptor = std::move(listener);
  phase = Phase::kRunning;
  port.store(bound, std::memory_order_release);
  goroutines.add(1);
  csp::go(accept_loop(shared_from_this()));
  return bound;
}

csp::Task<void> State::shutdown(csp::TimePoint deadline) {
  bool first = false;
  {
    std::lock_guard lock(mu);
    if (phase == Phase::kNew) {
      phase = Phase::kStopped;
      drained.close();
    } else if (phase == Phase::kRunning) {
      phase = Phase::kStopping;
      first = true;
      acceptor->abort();
      for (auto& [id, connection] : connections) {
        if (connection.idle) connection.socket->abort();
      }
    }
  }
  if (first) {
    csp::go(close_when_drained(shared_from_this()));
  }
  csp::Chan<csp::TimePoint> timer;  // nil: never fires
  if (deadline != csp::TimePoint::max()) {
    timer = csp::after(std::max(deadline - csp::Clock::now(), csp::Duration::zero()));
  }
  if (co_await csp::select(csp::recv(drained), csp::recv(timer)) == 1) {
    {
      std::lock_guard lock(mu);
      for (auto& [id, connection] : connections) connection.socket->abort();
    }
    co_await drained.recv();
  }
}

HttpServer::HttpServer(HttpServerOptions options, ExportHandler handler)
    : state_(std::make_shared<State>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  bool running = false;
  {
    std::lock_guard lock(state_->mu);
    running = state_->phase == State::Phase::kRunning || state_->phase == State::Phase::kStopping;
  }
  if (running) shutdown(csp::Clock::now());
}

absl::StatusOr<int> HttpServer::start() { return state_->start(); }

int HttpServer::port() const { return state_->port.load(std::memory_order_acquire); }

void HttpServer::shutdown(csp::TimePoint deadline) { csp::block_on(shutdown_async(deadline)); }

csp::Task<void> HttpServer::shutdown_async(csp::TimePoint deadline) {
  std::shared_ptr<State> state = state_;  // the goroutine keeps the state alive
  co_await state->shutdown(deadline);
}

}  // namespace transport
