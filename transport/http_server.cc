// HttpServer: an accept loop and one goroutine per connection; every socket operation is posted
// to the poller thread through PollerObject (internal/poller_object.h). Only plain byte reads
// and writes run there: Beast parses and serializes on the connection's goroutine, inside try,
// so nothing it throws can end the poller (and with it the process).
//
// Accepting is internal::Listener's (shared with the gRPC server): at most max_connections at
// once (at the limit it waits, and the kernel's backlog holds new connections), and a failed
// accept (EMFILE) backs off 5 ms doubling to 1 s.
//
// A connection's loop, one request per round:
//  1. wait_for_request: mark the connection idle (shutdown closes idle connections) and wait,
//     up to idle_timeout, until the socket is readable.
//  2. Read the request head (read_timeout from here on) into a bounded buffer; check framing
//     (obs-fold, Host, Transfer-Encoding / Content-Length: framing_refusal) and route it: path,
//     method, CORS preflight, Content-Type, Content-Encoding, Content-Length. A refusal here is
//     answered and the connection closed, since its body was not read.
//  3. Reserve memory for the body (all of a Content-Length; chunked bodies in steps as they
//     grow), send "100 Continue" if asked, read the body (at most max_request_body_bytes;
//     chunk-size lines, extensions and trailers bounded: chunk_refusal).
//  4. Reserve for and decompress (capped), decode (JSON → binary), await the handler, answer in
//     the request's encoding; keep the connection if both sides want to and the server is not
//     stopping.
//
// Shutdown protocol (State::shutdown):
//  1. Under `mu`: phase kRunning → kStopping, close the listener, abort every idle connection.
//     A connection marks itself idle only under `mu` and only while kRunning, so after this
//     step no connection can start waiting for a new request.
//  2. The first caller starts a goroutine that waits for every server goroutine (accept loop
//     and connections, counted in `goroutines`), then sets kStopped and closes `drained`.
//     Busy connections finish their request; their answer says Connection: close.
//  3. Every caller waits for `drained`; if `deadline` passes first it aborts every connection
//     still registered (their reads and writes fail; running handlers are still awaited) and
//     keeps waiting.

#include "transport/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/wait_group.h"
#include "otlp/binary_codec.h"
#include "otlp/compression.h"
#include "otlp/errors.h"
#include "otlp/json_codec.h"
#include "otlp/log_throttle.h"
#include "otlp/wire.h"
#include "transport/internal/byte_stream.h"
#include "transport/internal/cors.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/inflate.h"
#include "transport/internal/listener.h"
#include "transport/internal/messages.h"
#include "transport/internal/poller_object.h"
#include "transport/internal/request_body.h"
#include "transport/internal/socket_io.h"
#include "transport/internal/status_mapping.h"
#include "transport/internal/strings.h"
#include "transport/internal/tls_io.h"
#include "transport/internal/websocket_frame.h"
#include "transport/internal/websocket_session.h"

namespace transport {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using internal::ErrorCode;
using Socket = internal::PollerObject<tcp::socket>;
using Request = http::request<http::string_body>;
using RequestParser = http::request_parser<http::string_body>;

constexpr std::string_view kProtobufType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
// After an error answer, how much of the unread request we swallow (and for how long) so that
// closing does not reset the connection before the client has read the answer.
constexpr std::size_t kLingerBytes = 1u << 20;
constexpr std::chrono::seconds kLingerTime{2};
// A TLS client has this long from connecting to finishing its handshake.
constexpr std::chrono::seconds kTlsHandshakeTimeout{20};
// Largest single read from a connection.
constexpr std::size_t kReadSize = 64u << 10;
// Memory for a body of unknown length (chunked) is reserved in steps
// that double, starting here.
constexpr std::uint64_t kReserveStep = 64u << 10;
// A chunk-size line may have this many characters before its extensions (leading zeros).
constexpr std::size_t kMaxChunkSizeDigits = 32;
// Room in the read buffer for a chunk-size line beyond its extensions (size, CRLFs).
constexpr std::size_t kMaxChunkLineSlack = 64;

csp::TimePoint deadline_after(std::chrono::milliseconds timeout) {
  return timeout.count() > 0 ? csp::Clock::now() + timeout : csp::TimePoint::max();
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

Reply bad_request(std::string_view why) {
  return text_reply(http::status::bad_request,
                    absl::StrCat("400 malformed HTTP request: ", internal::av(why)));
}

// What the framing rules need from a raw request head (its complete lines only).
struct HeadScan {
  bool complete = false;  // the blank line ending the head has arrived
  unsigned version = 11;
  bool obs_fold = false;
  int hosts = 0;
  bool content_length = false;
  bool transfer_encoding = false;
  std::vector<std::string> codings;  // Transfer-Encoding list elements, lower case, in order
};

HeadScan scan_head(std::string_view raw) {
  HeadScan scan;
  const std::size_t end = raw.find("\r\n\r\n");
  scan.complete = end != std::string_view::npos;
  if (scan.complete) raw = raw.substr(0, end + 2);
  std::size_t eol = raw.find("\r\n");
  if (eol == std::string_view::npos) return scan;
  if (raw.substr(0, eol).ends_with("HTTP/1.0")) scan.version = 10;
  std::size_t pos = eol + 2;
  while ((eol = raw.find("\r\n", pos)) != std::string_view::npos) {
    const std::string_view line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      scan.obs_fold = true;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = internal::trim(line.substr(colon + 1));
    if (internal::iequals(name, "host")) {
      ++scan.hosts;
    } else if (internal::iequals(name, "content-length")) {
      scan.content_length = true;
    } else if (internal::iequals(name, "transfer-encoding")) {
      scan.transfer_encoding = true;
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string_view::npos) comma = value.size();
        const std::string_view element = internal::trim(value.substr(start, comma - start));
        if (!element.empty()) scan.codings.push_back(internal::lower(element));
        start = comma + 1;
      }
    }
  }
  return scan;
}

// RFC 9112's rules for a request's framing that Beast does not enforce (or words its own way):
// no obs-fold, exactly one Host on HTTP/1.1, and a Transfer-Encoding that is exactly "chunked",
// alone, on HTTP/1.1 and without Content-Length — anything else could be read differently by
// a proxy in front of us (request smuggling). nullopt: nothing to refuse.
std::optional<Reply> framing_refusal(std::string_view raw_head) {
  const HeadScan scan = scan_head(raw_head);
  if (scan.obs_fold) return bad_request("obsolete line folding in the request head");
  if (scan.complete && scan.version >= 11 && scan.hosts == 0) {
    return bad_request("missing Host header");
  }
  if (scan.hosts > 1) return bad_request("duplicate Host header");
  if (!scan.transfer_encoding) return std::nullopt;
  if (scan.version < 11) return bad_request("Transfer-Encoding in an HTTP/1.0 request");
  if (scan.content_length) return bad_request("both Transfer-Encoding and Content-Length");
  if (std::count(scan.codings.begin(), scan.codings.end(), "chunked") > 1) {
    return bad_request("chunked applied more than once");
  }
  if (scan.codings.empty() || scan.codings.back() != "chunked") {
    return bad_request("Transfer-Encoding does not end in chunked");
  }
  if (scan.codings.size() > 1) {
    return text_reply(http::status::not_implemented,
                      absl::StrCat("501 transfer coding \"", internal::av(scan.codings.front()),
                                   "\" is not implemented"));
  }
  return std::nullopt;
}

Reply extension_too_long_reply(const HttpServerOptions& options) {
  return bad_request(
      absl::StrCat("chunk extensions longer than ", options.max_chunk_extension_bytes, " bytes"));
}

// The limits on what waits in the buffer while a chunked body is read: the parser has taken
// everything else, so `pending` is a chunk-size line still arriving (with the CRLF that ended
// the previous chunk's data in front), or the last chunk's line and a trailer still arriving.
std::optional<Reply> chunk_refusal(std::string_view pending, const HttpServerOptions& options) {
  const std::size_t start = pending.starts_with("\r\n") ? 2 : 0;
  const std::size_t eol = pending.find("\r\n", start);
  const std::string_view line =
      pending.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
  const std::size_t size_end = std::min(line.find(';'), line.size());
  if (line.size() - size_end > options.max_chunk_extension_bytes) {
    return extension_too_long_reply(options);
  }
  if (size_end > kMaxChunkSizeDigits) return bad_request("chunk size line too long");
  if (eol != std::string_view::npos && pending.size() - (eol + 2) > options.max_trailer_bytes) {
    return text_reply(http::status::request_header_fields_too_large,
                      "431 request trailer fields too large");
  }
  return std::nullopt;
}

// What routing decided for a request whose head was read.
struct Route {
  std::optional<Reply> refusal;   // answer now; close unless keeps_connection (no body was read)
  bool keeps_connection = false;  // `refusal` answers a CORS preflight or a page
  otlp::Signal signal = otlp::Signal::kTraces;
  bool json = false;
  otlp::Compression compression = otlp::Compression::kNone;
  Headers metadata;  // with include_metadata: the request's header fields
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
  if (max_trailer_bytes < 256 || max_trailer_bytes > kMaxTrailerBytesLimit) {
    return absl::InvalidArgumentError(absl::StrCat("max_trailer_bytes: must be in [256, ",
                                                   kMaxTrailerBytesLimit, "], got ",
                                                   max_trailer_bytes));
  }
  if (max_chunk_extension_bytes > kMaxChunkExtensionBytesLimit) {
    return absl::InvalidArgumentError(absl::StrCat("max_chunk_extension_bytes: must be at most ",
                                                   kMaxChunkExtensionBytesLimit, ", got ",
                                                   max_chunk_extension_bytes));
  }
  if (max_connections < 1 || max_connections > kMaxConnectionsLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_connections: must be in [1, ", kMaxConnectionsLimit, "], got ", max_connections));
  }
  if (read_timeout.count() < 0) return absl::InvalidArgumentError("read_timeout: negative");
  if (idle_timeout.count() < 0) return absl::InvalidArgumentError("idle_timeout: negative");
  if (websocket.window < 1 || websocket.window > kMaxWebSocketWindow) {
    return absl::InvalidArgumentError(absl::StrCat(
        "websocket.window: must be 1 to ", kMaxWebSocketWindow, ", got ", websocket.window));
  }
  if (websocket.ping_interval.count() < 0) {
    return absl::InvalidArgumentError("websocket.ping_interval: negative");
  }
  if (websocket.idle_timeout.count() < 0) {
    return absl::InvalidArgumentError("websocket.idle_timeout: negative");
  }
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
  std::shared_ptr<internal::Listener> listener;
  std::unordered_map<std::uint64_t, Connection> connections;
  std::uint64_t next_connection_id = 0;

  std::atomic<int> port{0};
  csp::WaitGroup goroutines;                // the accept loop and connection goroutines
  csp::Chan<csp::Unit> drained{0};          // closed once they have all ended after shutdown
  csp::Chan<csp::Unit> stopping_signal{0};  // closed when shutdown begins (WebSocket sessions)
};

namespace {

using State = HttpServer::State;

// How a connection's bytes come and go: a socket driven on the poller (SocketStream), TLS over
// it (TlsSocketStream), or an in-memory client for the fuzz target (MemoryStream). Parsing,
// routing and answering never run on the poller; only plain reads and writes of bytes do.
using Stream = internal::ByteStream;
using internal::SocketStream;
using internal::TlsSocketStream;

// A client that sends `input` in reads of at most `read_size` bytes, then half-closes; what the
// server writes is collected in `output`.
class MemoryStream final : public Stream {
 public:
  MemoryStream(std::string input, std::size_t read_size)
      : input_(std::move(input)), read_size_(std::max<std::size_t>(read_size, 1)) {}

  csp::Task<ErrorCode> read_some(char* data, std::size_t size, std::size_t& got,
                                 csp::TimePoint) override {
    got = 0;
    // Completing at once every time would nest resumptions (a 1-byte read per round); yielding
    // unwinds the stack, as a real read's suspension does.
    co_await csp::yield();
    if (aborted_) co_return ErrorCode(asio::error::operation_aborted);
    if (position_ == input_.size()) co_return ErrorCode(asio::error::eof);
    got = std::min({size, read_size_, input_.size() - position_});
    std::memcpy(data, input_.data() + position_, got);
    position_ += got;
    co_return ErrorCode();
  }
  csp::Task<ErrorCode> try_read_some(char* data, std::size_t size, std::size_t& got) override {
    co_return co_await read_some(data, size, got, csp::TimePoint::max());
  }
  csp::Task<ErrorCode> write(const std::string& bytes, csp::TimePoint) override {
    co_await csp::yield();
    if (aborted_ || write_closed_) co_return ErrorCode(asio::error::broken_pipe);
    output_ += bytes;
    co_return ErrorCode();
  }
  csp::Task<ErrorCode> wait_readable(csp::TimePoint) override {
    co_await csp::yield();
    co_return aborted_ ? ErrorCode(asio::error::operation_aborted) : ErrorCode();
  }
  void notify_readable(const csp::Chan<ErrorCode>& ready) override {
    ready.try_send(aborted_ ? ErrorCode(asio::error::operation_aborted) : ErrorCode());
  }
  csp::Task<void> shutdown_send() override {
    write_closed_ = true;
    co_return;
  }
  void abort() override { aborted_ = true; }

  std::string& output() { return output_; }

 private:
  const std::string input_;
  const std::size_t read_size_;
  std::size_t position_ = 0;
  std::string output_;
  bool write_closed_ = false;
  std::atomic<bool> aborted_ = false;  // notify_readable() reads it too
};

// Counted as one request's memory: every claim the server took for it. Handed to the handler
// as ExportRequest::memory.
struct RequestMemory {
  std::vector<MemoryClaim> body;      // the body as received
  std::vector<MemoryClaim> inflated;  // its decompressed form
};

Reply memory_refusal_reply(bool json) {
  Reply reply =
      status_reply(http::status::too_many_requests,
                   absl::ResourceExhaustedError("data refused due to high memory usage"), json);
  reply.headers.emplace_back(
      http::field::retry_after,
      std::to_string(internal::retry_after_seconds(kMemoryRefusalRetryAfter)));
  return reply;
}

// One connection's goroutine state. Lives in the goroutine's frame.
class ConnectionServer {
 public:
  ConnectionServer(std::shared_ptr<State> state, Stream& stream, std::uint64_t id, std::string peer)
      : state_(std::move(state)),
        stream_(stream),
        id_(id),
        peer_(std::move(peer)),
        buffer_(buffer_limit(state_->options)),
        on_chunk_header_([this](std::uint64_t, boost::core::string_view extensions, ErrorCode& ec) {
          // Extensions that arrived within one read (chunk_refusal sees the others).
          if (extensions.size() > state_->options.max_chunk_extension_bytes) {
            extension_too_long_ = true;
            ec = http::error::bad_chunk_extension;
          }
        }) {}

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

  // How reading a request part failed: the answer to give (none: close at once).
  struct Failure {
    std::optional<Reply> reply;
  };

  static std::size_t buffer_limit(const HttpServerOptions& o) {
    return kReadSize +
           std::max(o.max_header_bytes,
                    kMaxChunkLineSlack + o.max_chunk_extension_bytes + o.max_trailer_bytes);
  }

  // Steps 2 to 4 for one request; nullopt while the connection stays open.
  csp::Task<std::optional<End>> serve_request() {
    const csp::TimePoint deadline = deadline_after(state_->options.read_timeout);
    memory_ = std::make_shared<RequestMemory>();
    body_reserved_ = 0;
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(state_->options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // checked by route()
    parser.eager(false);                                           // stop after the head
    parser.on_chunk_header(on_chunk_header_);
    extension_too_long_ = false;
    std::optional<Failure> failed = co_await parse(parser, /*head=*/true, deadline);
    if (failed.has_value()) {
      if (!failed->reply.has_value()) co_return End::kAbort;
      co_await write_reply(*failed->reply, /*keep_alive=*/false, 11);
      co_return End::kLinger;
    }
    const Request& head = parser.get();
    head_fields_ = static_cast<std::size_t>(std::distance(head.begin(), head.end()));
    origin_ = std::string(head[http::field::origin]);
    if (head.method() == http::verb::get && state_->options.serve_otlp &&
        state_->options.websocket.enabled &&
        internal::has_token(internal::sv(head[http::field::upgrade]), "websocket")) {
      csp::Task<std::optional<End>> session = upgrade(parser);
      co_return co_await std::move(session);
    }
    Route route = this->route(parser);
    if (route.refusal.has_value()) {
      // A preflight or a page GET carries no body, so the connection stays in step; other
      // refusals close.
      const bool keep = route.keeps_connection && keep_alive(head) &&
                        parser.content_length().value_or(0) == 0 && !parser.chunked();
      const ErrorCode ec = co_await write_reply(*route.refusal, keep, head.version());
      if (ec) co_return End::kAbort;
      if (!keep) co_return End::kLinger;
      co_return std::nullopt;
    }
    std::optional<End> ended = co_await read_body(parser, route, deadline);
    if (ended.has_value()) co_return ended;
    Request request = parser.release();
    Reply reply = co_await answer(route, std::move(request.body()));
    const bool keep = keep_alive(request);
    const ErrorCode ec = co_await write_reply(reply, keep, request.version());
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
    const ErrorCode ec =
        co_await stream_.wait_readable(deadline_after(state_->options.idle_timeout));
    {
      std::lock_guard lock(state_->mu);
      state_->connections[id_].idle = false;
    }
    co_return !ec;
  }

  // Feeds buffered bytes to the parser and reads more until the head (`head`) or the whole
  // request is parsed. Every limit is checked on what waits in the buffer before more is read,
  // and the buffer itself is bounded (buffer_limit), so no part of a request grows without
  // bound. Beast runs here, on the goroutine, inside try: nothing it throws leaves.
  csp::Task<std::optional<Failure>> parse(RequestParser& parser, bool head,
                                          csp::TimePoint deadline) {
    // While reading the head, what the parser took stays in the buffer (`taken` bytes), so the
    // framing rules can look at the raw head; it is consumed once the head is complete.
    std::size_t taken = 0;
    for (;;) {
      if (buffer_.size() > taken) {
        if (!head && !reserve_body(parser)) co_return Failure{memory_refusal_reply(json_)};
        ErrorCode ec;
        std::size_t used = 0;
        std::optional<Reply> thrown;
        try {
          used = parser.put(
              asio::const_buffer(buffer_view().data() + taken, buffer_.size() - taken), ec);
        } catch (const std::length_error&) {
          thrown = head ? header_too_large_reply() : trailer_too_large_reply();
        } catch (const std::exception& e) {
          thrown = text_reply(http::status::bad_request,
                              absl::StrCat("400 malformed HTTP request: ", e.what()));
        } catch (...) {
          thrown = text_reply(http::status::bad_request, "400 malformed HTTP request");
        }
        if (thrown.has_value()) co_return Failure{std::move(thrown)};
        if (ec == http::error::need_more) ec = {};
        if (head) {
          taken += used;
          if (ec || parser.is_header_done()) {
            // Our framing rules answer first, so that they (not Beast's wording) decide.
            if (std::optional<Reply> refusal = framing_refusal(buffer_view())) {
              co_return Failure{std::move(refusal)};
            }
          }
          if (ec) co_return Failure{head_error_reply(ec)};
          if (parser.is_header_done()) {
            buffer_.consume(taken);
            co_return std::nullopt;
          }
        } else {
          buffer_.consume(used);
          if (ec == http::error::bad_chunk_extension && extension_too_long_) {
            co_return Failure{extension_too_long_reply(state_->options)};
          }
          if (ec) co_return Failure{body_error_reply(ec, json_)};
          if (parser.is_done()) {
            if (trailer_bytes(parser) > state_->options.max_trailer_bytes) {
              co_return Failure{trailer_too_large_reply()};
            }
            co_return std::nullopt;
          }
          if (parser.chunked() && buffer_.size() > 0) {
            if (std::optional<Reply> over = chunk_refusal(buffer_view(), state_->options)) {
              co_return Failure{std::move(over)};
            }
          }
        }
        if (used > 0 && buffer_.size() > taken) continue;  // more to offer before reading
      }
      const std::size_t limit = std::min(
          head ? state_->options.max_header_bytes : buffer_.max_size(), buffer_.max_size());
      if (buffer_.size() >= limit) {
        co_return Failure{head ? header_too_large_reply() : trailer_too_large_reply()};
      }
      const std::size_t room = std::min(kReadSize, limit - buffer_.size());
      std::size_t got = 0;
      const auto into = buffer_.prepare(room);
      csp::Task<ErrorCode> reading =
          stream_.read_some(static_cast<char*>(into.data()), into.size(), got, deadline);
      const ErrorCode ec = co_await std::move(reading);
      buffer_.commit(got);
      if (got > 0) continue;
      if (ec == asio::error::eof && parser.got_some()) {
        co_return Failure{head ? head_error_reply(http::error::partial_message)
                               : body_error_reply(http::error::partial_message, json_)};
      }
      co_return Failure{head ? head_error_reply(ec) : body_error_reply(ec, json_)};
    }
  }

  // The trailer a chunked request brought: Beast adds its fields after the head's.
  std::size_t trailer_bytes(const RequestParser& parser) const {
    std::size_t bytes = 0;
    std::size_t index = 0;
    for (const auto& field : parser.get()) {
      if (index++ < head_fields_) continue;
      bytes += field.name_string().size() + field.value().size() + 4;  // ": " and CRLF
    }
    return bytes;
  }

  std::string_view buffer_view() const {
    return std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  }

  // Reserves memory for the body before the parser may copy buffered bytes into it: enough for
  // everything buffered, in steps that double (at least kReserveStep), never past the limit.
  bool reserve_body(const RequestParser& parser) {
    if (!state_->options.reserve_memory) return true;
    const std::uint64_t limit = state_->options.max_request_body_bytes;
    std::uint64_t needed = parser.get().body().size() + buffer_.size();
    if (parser.content_length().has_value()) needed = std::min(needed, *parser.content_length());
    needed = std::min(needed, limit);
    while (body_reserved_ < needed) {
      const std::uint64_t step =
          std::min(std::max(kReserveStep, body_reserved_), limit - body_reserved_);
      if (!reserve(memory_->body, step)) return false;
      body_reserved_ += step;
    }
    return true;
  }

  bool reserve(std::vector<MemoryClaim>& into, std::uint64_t bytes) {
    if (!state_->options.reserve_memory || bytes == 0) return true;
    MemoryClaim claim;
    try {
      claim = state_->options.reserve_memory(static_cast<std::int64_t>(bytes));
    } catch (...) {
      claim = nullptr;  // a reserver that throws refuses
    }
    if (claim == nullptr) return false;
    into.push_back(std::move(claim));
    return true;
  }

  // Step 3: memory for the body, "100 Continue" if asked, then the body. nullopt once it is
  // read; otherwise how the connection ends, after answering the failure if there is an answer.
  csp::Task<std::optional<End>> read_body(RequestParser& parser, const Route& route,
                                          csp::TimePoint deadline) {
    const unsigned version = parser.get().version();
    json_ = route.json;
    if (parser.is_done()) co_return std::nullopt;  // no body
    if (parser.content_length().has_value()) {
      // Reserved in full before the first body byte is read.
      const std::uint64_t length = *parser.content_length();
      if (!reserve(memory_->body, length)) {
        co_await write_reply(memory_refusal_reply(route.json), /*keep_alive=*/false, version);
        co_return End::kLinger;
      }
      body_reserved_ = length;
    }
    if (internal::iequals(internal::sv(parser.get()[http::field::expect]), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      const ErrorCode ec = co_await stream_.write(kContinue, deadline);
      if (ec) co_return End::kAbort;
    }
    parser.body_limit(state_->options.max_request_body_bytes);
    parser.eager(true);
    std::optional<Failure> failed = co_await parse(parser, /*head=*/false, deadline);
    if (!failed.has_value()) co_return std::nullopt;
    if (!failed->reply.has_value()) co_return End::kAbort;
    co_await write_reply(*failed->reply, /*keep_alive=*/false, version);
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
    if (auto page = options.pages.find(std::string(target)); page != options.pages.end()) {
      if (head.method() != http::verb::get) {
        route.refusal = text_reply(http::status::method_not_allowed,
                                   "405 method not allowed, supported: [GET]");
        route.refusal->headers.emplace_back(http::field::allow, "GET");
        return route;
      }
      HttpServerOptions::Page got = page->second();
      route.refusal = Reply{static_cast<http::status>(got.status),
                            std::move(got.content_type),
                            std::move(got.body),
                            {}};
      // Live numbers: never from a cache.
      route.refusal->headers.emplace_back(http::field::cache_control, "no-store");
      route.keeps_connection = true;  // a GET has no body to skip
      return route;
    }
    if (!options.serve_otlp) {
      route.refusal = text_reply(http::status::not_found, "404 page not found");
      return route;
    }
    const std::optional<otlp::Signal> signal = signal_for(target);
    if (!signal.has_value()) {
      route.refusal = text_reply(http::status::not_found, "404 page not found");
      return route;
    }
    route.signal = *signal;
    if (head.method() == http::verb::options && !options.cors.allowed_origins.empty() &&
        head.find(http::field::access_control_request_method) != head.end()) {
      route.refusal = preflight_reply(head);
      route.keeps_connection = true;
      return route;
    }
    if (head.method() != http::verb::post) {
      route.refusal =
          text_reply(http::status::method_not_allowed, "405 method not allowed, supported: [POST]");
      route.refusal->headers.emplace_back(http::field::allow, "POST");
      return route;
    }
    const std::string type = internal::media_type(head[http::field::content_type]);
    if (options.authenticate && !options.authenticate(head[http::field::authorization])) {
      route.refusal =
          status_reply(http::status::unauthorized,
                       absl::UnauthenticatedError(kUnauthenticatedMessage), type == kJsonType);
      return route;
    }
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
    if (options.include_metadata) route.metadata = metadata_of(head);
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

  // The signal whose OTLP path `target` is.
  std::optional<otlp::Signal> signal_for(std::string_view target) const {
    const HttpServerOptions& options = state_->options;
    const std::pair<const std::string*, otlp::Signal> paths[] = {
        {&options.traces_path, otlp::Signal::kTraces},
        {&options.metrics_path, otlp::Signal::kMetrics},
        {&options.logs_path, otlp::Signal::kLogs},
        {&options.profiles_path, otlp::Signal::kProfiles}};
    for (const auto& [path, signal] : paths) {
      if (*path == target) return signal;
    }
    return std::nullopt;
  }

  // include_metadata: the head's fields, names in lower case.
  static Headers metadata_of(const Request& head) {
    Headers metadata;
    for (const auto& field : head) {
      std::string name(field.name_string());
      absl::AsciiStrToLower(&name);
      metadata.emplace_back(std::move(name), std::string(field.value()));
    }
    return metadata;
  }

  // A WebSocket upgrade (RFC 6455 section 4.2): checked, answered 101, then served by a session
  // until it ends; or refused, and the connection closed.
  csp::Task<std::optional<End>> upgrade(const RequestParser& parser) {
    const Request& head = parser.get();
    const HttpServerOptions& options = state_->options;
    std::string_view target = head.target();
    target = target.substr(0, target.find('?'));
    const std::optional<otlp::Signal> signal = signal_for(target);
    std::optional<Reply> refusal;
    const std::string_view key = internal::sv(head[http::field::sec_websocket_key]);
    if (!signal.has_value()) {
      refusal = text_reply(http::status::not_found, "404 page not found");
    } else if (head.version() != 11) {
      refusal = bad_request("a WebSocket upgrade needs HTTP/1.1");
    } else if (!internal::has_token(internal::sv(head[http::field::connection]), "upgrade")) {
      refusal = bad_request("a WebSocket upgrade needs \"Connection: Upgrade\"");
    } else if (head[http::field::sec_websocket_version] != "13") {
      refusal = text_reply(http::status::upgrade_required,
                           "426 unsupported Sec-WebSocket-Version, supported: 13");
      refusal->headers.emplace_back(http::field::sec_websocket_version, "13");
    } else if (!internal::websocket::valid_client_key(key)) {
      refusal = bad_request("missing or invalid Sec-WebSocket-Key");
    } else if (parser.content_length().value_or(0) > 0 || parser.chunked()) {
      refusal = bad_request("a WebSocket upgrade has no body");
    } else if (!origin_.empty() &&
               !internal::cors_origin_allowed(options.cors.allowed_origins, origin_)) {
      refusal =
          text_reply(http::status::forbidden, absl::StrCat("403 origin \"", internal::av(origin_),
                                                           "\" is not in cors.allowed_origins"));
    } else if (options.authenticate && !options.authenticate(head[http::field::authorization])) {
      refusal =
          text_reply(http::status::unauthorized, absl::StrCat("401 ", kUnauthenticatedMessage));
    }
    if (refusal.has_value()) {
      co_await write_reply(*refusal, /*keep_alive=*/false, head.version());
      co_return End::kLinger;
    }
    internal::WebSocketSessionConfig config;
    config.signal = *signal;
    std::string answer = absl::StrCat(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ",
        internal::websocket::accept_key(key), "\r\n");
    if (options.websocket.compression) {
      std::optional<std::string> deflate = internal::websocket::accept_deflate_offer(
          internal::sv(head[http::field::sec_websocket_extensions]));
      if (deflate.has_value()) {
        absl::StrAppend(&answer, "Sec-WebSocket-Extensions: ", *deflate, "\r\n");
        config.deflate = true;
      }
    }
    if (internal::has_token(internal::sv(head[http::field::sec_websocket_protocol]), "otlp")) {
      absl::StrAppend(&answer, "Sec-WebSocket-Protocol: otlp\r\n");
    }
    absl::StrAppend(&answer, "\r\n");
    config.max_message_bytes = options.websocket.max_message_bytes > 0
                                   ? options.websocket.max_message_bytes
                                   : options.max_request_body_bytes;
    config.window = options.websocket.window;
    config.ping_interval = options.websocket.ping_interval;
    config.idle_timeout = options.websocket.idle_timeout;
    config.read_timeout = options.read_timeout;
    config.write_timeout = options.read_timeout;
    config.limits = state_->limits;
    config.limits.max_message_bytes = config.max_message_bytes;
    config.reserve_memory = options.reserve_memory;
    config.handler = state_->handler;
    config.peer = peer_;
    if (options.include_metadata) config.metadata = metadata_of(head);
    std::string buffered(buffer_view());  // frames the client sent right behind its request
    buffer_.consume(buffer_.size());
    csp::Task<ErrorCode> writing = stream_.write(answer, deadline_after(options.read_timeout));
    if (co_await std::move(writing)) co_return End::kAbort;
    csp::Task<void> session = internal::serve_websocket(
        stream_, std::move(config), std::move(buffered), state_->stopping_signal);
    co_await std::move(session);
    co_return End::kAbort;  // the session has closed the stream
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
    if (ec == http::error::header_limit) return header_too_large_reply();
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

  static Reply header_too_large_reply() {
    return text_reply(http::status::request_header_fields_too_large,
                      "431 request header fields too large");
  }

  static Reply trailer_too_large_reply() {
    return text_reply(http::status::request_header_fields_too_large,
                      "431 request trailer fields too large");
  }

  // A client's mistake (a 4xx or 501 of ours, except 429) goes to the log, rate-limited: a
  // client that keeps sending garbage costs one line a minute.
  void log_bad_request(const Reply& reply) const {
    const int code = static_cast<int>(reply.status);
    if ((code < 400 || code >= 500 || code == 429) && code != 501) return;
    const bool text = reply.content_type == kTextType;
    otlp::LogThrottle::global().report(
        "http_bad_request", peer_,
        absl::StrCat("HTTP ", code,
                     text ? absl::StrCat(": ", internal::av(reply.body.substr(0, 200))) : ""));
  }

  // Step 4: from the body to the answer.
  csp::Task<Reply> answer(const Route& route, std::string body) {
    std::optional<Reply> refusal;
    if (route.compression != otlp::Compression::kNone) {
      refusal = inflate(route, body);
      memory_->body.clear();  // the compressed bytes are gone
    }
    if (refusal.has_value()) co_return std::move(*refusal);
    internal::CheckedBody checked;
    {
      // The decode's claims are freed right after: the pipeline's own accounting takes over.
      std::vector<MemoryClaim> decode;
      checked = internal::check_request_body(
          route.signal, route.json, std::move(body), state_->limits,
          [&](std::int64_t bytes) { return reserve(decode, static_cast<std::uint64_t>(bytes)); });
    }
    if (checked.memory_refused) co_return memory_refusal_reply(route.json);
    absl::StatusOr<std::string> binary = std::move(checked.binary);
    if (!binary.ok()) {
      const bool too_large = binary.status().code() == absl::StatusCode::kResourceExhausted;
      co_return status_reply(
          too_large ? http::status::payload_too_large : http::status::bad_request, binary.status(),
          route.json);
    }
    ExportResult result;
    try {
      ExportRequest request{route.signal, *std::move(binary), peer_, nullptr, route.metadata};
      if (state_->options.reserve_memory) request.memory = std::move(memory_);
      // Bound to a local first: g++ 12 mishandles class temporaries in a co_await operand.
      csp::Task<ExportResult> handled = state_->handler(std::move(request));
      result = co_await std::move(handled);
    } catch (const std::exception& e) {
      result.status = absl::InternalError(absl::StrCat("export failed: ", e.what()));
    } catch (...) {
      result.status = absl::InternalError("export failed");
    }
    co_return result_reply(route, result);
  }

  // Replaces a compressed `body` by its inflated form, within reservations
  // (internal::inflate_within_budget). nullopt on success; otherwise the answer (413, 400, 429).
  std::optional<Reply> inflate(const Route& route, std::string& body) {
    const std::size_t limit = state_->options.max_request_body_bytes;
    std::function<bool(std::int64_t)> budget;
    if (state_->options.reserve_memory) {
      budget = [this](std::int64_t bytes) {
        return reserve(memory_->inflated, static_cast<std::uint64_t>(bytes));
      };
    }
    internal::Inflated inflated =
        internal::inflate_within_budget(route.compression, body, limit, budget);
    switch (inflated.outcome) {
      case internal::Inflated::Outcome::kOk:
        body = std::move(inflated.body);
        return std::nullopt;
      case internal::Inflated::Outcome::kMemoryRefused:
        return memory_refusal_reply(route.json);
      case internal::Inflated::Outcome::kTooLarge:
        return status_reply(
            http::status::payload_too_large,
            absl::ResourceExhaustedError(
                absl::StrCat("decompressed request body exceeds the limit of ", limit, " bytes")),
            route.json);
      case internal::Inflated::Outcome::kCorrupt:
        break;
    }
    return status_reply(
        http::status::bad_request,
        absl::InvalidArgumentError(absl::StrCat(
            "cannot decompress the ", internal::av(otlp::compression_name(route.compression)),
            " request body: ", inflated.error.message())),
        route.json);
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

  // Serializes the answer here, on the goroutine (so nothing Beast might throw reaches the
  // poller), then writes the bytes.
  csp::Task<ErrorCode> write_reply(const Reply& reply, bool keep_alive, unsigned version) {
    log_bad_request(reply);
    std::string bytes;
    try {
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
      std::ostringstream out;
      out << response;
      bytes = std::move(out).str();
    } catch (...) {
      co_return ErrorCode(asio::error::no_memory);
    }
    csp::Task<ErrorCode> writing =
        stream_.write(bytes, deadline_after(state_->options.read_timeout));
    co_return co_await std::move(writing);
  }

  // Ends the connection: half-close (so the client reads our last answer up to a clean EOF),
  // for kLinger swallow what the client still sends, then close.
  csp::Task<void> close(End end) {
    if (end != End::kAbort) co_await stream_.shutdown_send();
    if (end == End::kLinger) {
      const csp::TimePoint until = csp::Clock::now() + kLingerTime;
      std::size_t swallowed = 0;
      std::array<char, 16 * 1024> scratch;
      while (swallowed < kLingerBytes) {
        std::size_t n = 0;
        csp::Task<ErrorCode> reading = stream_.read_some(scratch.data(), scratch.size(), n, until);
        const ErrorCode ec = co_await std::move(reading);
        if (ec || n == 0) break;
        swallowed += n;
      }
    }
    stream_.abort();
  }

  const std::shared_ptr<State> state_;
  Stream& stream_;
  const std::uint64_t id_;
  const std::string peer_;
  boost::beast::flat_buffer buffer_;       // bounded: buffer_limit()
  std::string origin_;                     // Origin of the current request
  bool json_ = false;                      // the current request's encoding (for error bodies)
  std::shared_ptr<RequestMemory> memory_;  // the current request's claims
  std::uint64_t body_reserved_ = 0;        // bytes of body reserved so far
  std::size_t head_fields_ = 0;            // fields in the current request's head
  bool extension_too_long_ = false;        // on_chunk_header_ refused the extensions
  // Called by the parser for each chunk-size line (it keeps a reference).
  std::function<void(std::uint64_t, boost::core::string_view, ErrorCode&)> on_chunk_header_;
};

csp::Task<void> serve_connection(std::shared_ptr<State> state, std::shared_ptr<Socket> socket,
                                 std::uint64_t id, std::string peer,
                                 internal::ConnectionSlot slot) {
  if (state->options.tls != nullptr) {
    TlsSocketStream stream(std::move(socket), state->options.tls->context(), "http/1.1");
    // A handshaking connection has sent no request: like an idle one, shutdown may close it.
    bool running = false;
    {
      std::lock_guard lock(state->mu);
      running = state->phase == State::Phase::kRunning;
      if (running) state->connections[id].idle = true;
    }
    ErrorCode ec(asio::error::operation_aborted);
    if (running) ec = co_await stream.handshake(csp::Clock::now() + kTlsHandshakeTimeout);
    {
      std::lock_guard lock(state->mu);
      state->connections[id].idle = false;
    }
    if (!ec) {
      ConnectionServer connection(state, stream, id, std::move(peer));
      co_await connection.run();
    } else {
      if (ec != asio::error::operation_aborted) {  // not when shutdown closed it
        otlp::LogThrottle::global().report(
            "tls_handshake", peer,
            absl::StrCat("TLS handshake failed: ",
                         !stream.error().empty() ? stream.error() : ec.message()));
      }
      stream.abort();
      std::lock_guard lock(state->mu);
      state->connections.erase(id);
    }
  } else {
    SocketStream stream(std::move(socket));
    ConnectionServer connection(state, stream, id, std::move(peer));
    co_await connection.run();
  }
  { internal::ConnectionSlot released = std::move(slot); }  // the listener may accept another
  state->goroutines.done();
}

csp::Task<void> accept_loop(std::shared_ptr<State> state) {
  csp::Task<void> loop = state->listener->run(
      [state](std::shared_ptr<Socket> socket, std::string peer, internal::ConnectionSlot slot) {
        std::uint64_t id = 0;
        {
          std::lock_guard lock(state->mu);
          if (state->phase != State::Phase::kRunning) {
            socket->abort();
            return;
          }
          id = state->next_connection_id++;
          state->connections[id] = State::Connection{socket, false};
          state->goroutines.add(1);
        }
        csp::go(serve_connection(state, std::move(socket), id, std::move(peer), std::move(slot)));
      });
  co_await std::move(loop);
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

}  // namespace

absl::StatusOr<int> State::start() {
  std::lock_guard lock(mu);
  if (phase != Phase::kNew) {
    return absl::FailedPreconditionError(phase == Phase::kRunning
                                             ? "HttpServer: start() called twice"
                                             : "HttpServer: start() after shutdown()");
  }
  if (!handler && options.serve_otlp) {
    return absl::FailedPreconditionError("HttpServer: no handler");
  }
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;
  absl::StatusOr<std::shared_ptr<internal::Listener>> opened =
      internal::Listener::open(options.endpoint, "HttpServer", options.max_connections);
  if (!opened.ok()) return opened.status();
  listener = *std::move(opened);
  const int bound = listener->port();
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
      stopping_signal.close();
    } else if (phase == Phase::kRunning) {
      phase = Phase::kStopping;
      first = true;
      stopping_signal.close();
      listener->close();
      for (auto& [id, connection] : connections) {
        if (connection.idle) connection.socket->abort();
      }
    }
  }
  if (first) {
    csp::go(close_when_drained(shared_from_this()));
  }
  co_await internal::await_drained(drained, deadline, [this] {
    std::lock_guard lock(mu);
    for (auto& [id, connection] : connections) connection.socket->abort();
  });
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

namespace internal {

csp::Task<std::string> serve_bytes(HttpServerOptions options, ExportHandler handler,
                                   std::string input, std::size_t read_size) {
  auto state = std::make_shared<State>(std::move(options), std::move(handler));
  {
    std::lock_guard lock(state->mu);
    state->phase = State::Phase::kRunning;  // no listener: one connection, served here
    state->connections[0] = State::Connection{nullptr, false};
  }
  MemoryStream stream(std::move(input), read_size);
  {
    ConnectionServer connection(state, stream, 0, "127.0.0.1:1");
    co_await connection.run();
  }
  co_return std::move(stream.output());
}

}  // namespace internal

}  // namespace transport
