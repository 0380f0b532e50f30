// WebSocketExporterClient: per signal, one connection owned by its goroutine (Connection::run).
// An export hands its frame to the connection (submit) and waits for its answer on a channel
// of its own. The owner's round:
//  1. Write what is queued, as far as the window allows, in one write; each written request's
//     waiter joins `inflight_`, oldest first.
//  2. Parse what was read: a data frame answers the oldest waiter; a ping gets its pong; a
//     close is echoed and ends the connection.
//  3. Select over "readable" (asked of the poller), "more was queued" and "the client is
//     closing".
// When the connection ends, waiters still queued fail as never sent and waiters in flight as
// perhaps received; the next export dials anew.

#include "transport/websocket_client.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "csp/wait_group.h"
#include "google/rpc/status.pb.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"
#include "transport/internal/byte_stream.h"
#include "transport/internal/dial.h"
#include "transport/internal/messages.h"
#include "transport/internal/status_mapping.h"
#include "transport/internal/strings.h"
#include "transport/internal/url.h"
#include "transport/internal/websocket_frame.h"

namespace transport {
namespace {

namespace asio = boost::asio;
namespace ws = internal::websocket;
using internal::ByteStream;
using internal::ErrorCode;
using internal::TcpSocket;
using tcp = asio::ip::tcp;

constexpr std::string_view kUserAgent = "otlpd/0.1.0";
constexpr std::size_t kMaxHandshakeAnswer = 16u << 10;
constexpr std::size_t kReadSize = 64u << 10;
// Closing (the client is destroyed) waits this long at most for the close frame to go out.
constexpr std::chrono::milliseconds kCloseWriteTimeout{1000};

// ws:// and wss:// read as http:// and https:// (the same authority and path rules).
absl::StatusOr<internal::Url> parse_ws_url(std::string_view endpoint, otlp::Signal signal) {
  std::string text;
  if (absl::StartsWithIgnoreCase(internal::av(endpoint), "ws://")) {
    text = absl::StrCat("http://", internal::av(endpoint.substr(5)));
  } else if (absl::StartsWithIgnoreCase(internal::av(endpoint), "wss://")) {
    text = absl::StrCat("https://", internal::av(endpoint.substr(6)));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "endpoint \"", internal::av(endpoint), "\": want ws://host[:port] or wss://host[:port]"));
  }
  return internal::parse_url(internal::join_url_path(text, internal::signal_url_path(signal)),
                             "endpoint");
}

// One export's place in line: its answer arrives here.
struct Waiter {
  csp::Chan<ExportResult> result{1};
  std::atomic<bool> abandoned{false};  // the export gave up before its frame was written
};

struct Outgoing {
  std::string frame;
  std::shared_ptr<Waiter> waiter;
};

ExportResult unavailable(std::string message, bool not_received) {
  ExportResult result{absl::UnavailableError(std::move(message))};
  result.not_received = not_received;
  return result;
}

// An answer as the contract reads it: decoded as a google.rpc.Status, a non-zero code is a
// refusal; otherwise the same bytes are the Export*ServiceResponse. (Both decoders skip what
// they do not know, so the Status must be read first: a refusal also decodes as a response.)
ExportResult answer_result(otlp::Signal signal, std::string_view payload, bool text) {
  ExportResult result;
  google::rpc::Status status;
  if (text) {
    absl::StatusOr<google::rpc::Status> decoded = internal::decode_rpc_status(payload, true);
    if (decoded.ok()) status = *std::move(decoded);
  } else if (!status.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    status.Clear();
  }
  if (status.code() != 0) {
    result.status = absl::Status(static_cast<absl::StatusCode>(status.code()),
                                 absl::StrCat("OTLP/WebSocket: ", status.message()));
    result.retry_after = internal::retry_info_of(status);
    result.not_received = true;
    return result;
  }
  absl::StatusOr<internal::PartialSuccess> partial =
      internal::parse_partial_success(signal, payload, text);
  if (partial.ok()) {  // one we cannot read still means the data was accepted
    result.rejected_items = partial->rejected_items;
    result.partial_message = std::move(partial->message);
  }
  return result;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(otlp::Signal signal, std::size_t window, bool deflate,
             std::chrono::milliseconds write_timeout)
      : signal_(signal), window_(window), deflate_(deflate), write_timeout_(write_timeout) {}

  bool deflate() const { return deflate_; }

  // Queues a frame; false when the connection has ended.
  bool submit(Outgoing outgoing) {
    {
      std::lock_guard lock(mu_);
      if (dead_) return false;
      queued_.push_back(std::move(outgoing));
    }
    wake_.try_send(csp::Unit{});
    return true;
  }

  bool alive() const {
    std::lock_guard lock(mu_);
    return !dead_;
  }

  void close() { closing_.close(); }

  csp::Task<void> run(std::unique_ptr<ByteStream> stream, std::string buffered) {
    stream_ = std::move(stream);
    buffer_ = internal::ReadBuffer(std::move(buffered));
    bool graceful = false;
    std::string why = "the connection ended";
    bool armed = false;
    const csp::Chan<csp::Unit> never(0);
    bool closing_seen = false;
    for (;;) {
      if (!co_await write_queued()) {
        why = "write failed";
        break;
      }
      const std::optional<std::string> ended = co_await process_buffer(graceful);
      if (ended.has_value()) {
        why = *ended;
        break;
      }
      if (stream_->has_buffered_input()) {
        if (!co_await read_more()) break;
        continue;
      }
      if (!armed) {
        stream_->notify_readable(readable_);
        armed = true;
      }
      std::optional<ErrorCode> ready;
      const std::size_t chosen =
          co_await csp::select(csp::recv(readable_, &ready), csp::recv(wake_),
                               csp::recv(closing_seen ? never : closing_));
      if (chosen == 0) {
        armed = false;
        if ((ready.has_value() && *ready) || !co_await read_more()) {
          why = "the server closed the connection";
          break;
        }
      } else if (chosen == 2) {
        closing_seen = true;
        csp::Task<bool> closing = write(
            ws::encode_frame(ws::Opcode::kClose, ws::encode_close_payload(ws::kCloseNormal, ""),
                             true, false, ws::new_mask()),
            kCloseWriteTimeout);
        co_await std::move(closing);
        why = "the client is closing";
        break;
      }
    }
    if (graceful) co_await stream_->shutdown_send();
    stream_->abort();
    fail_all(why);
  }

 private:
  // Step 1. False when writing failed.
  csp::Task<bool> write_queued() {
    std::string bytes;
    {
      std::lock_guard lock(mu_);
      while (!queued_.empty() && inflight_.size() < window_) {
        Outgoing next = std::move(queued_.front());
        queued_.pop_front();
        if (next.waiter->abandoned.load()) continue;  // its export is over: never sent
        bytes += next.frame;
        inflight_.push_back(std::move(next.waiter));
      }
    }
    if (bytes.empty()) co_return true;
    csp::Task<bool> writing = write(std::move(bytes));
    co_return co_await std::move(writing);
  }

  csp::Task<bool> write(std::string bytes, std::chrono::milliseconds timeout = {}) {
    const std::chrono::milliseconds limit = timeout.count() > 0 ? timeout : write_timeout_;
    csp::Task<ErrorCode> writing = stream_->write(bytes, csp::Clock::now() + limit);
    co_return !co_await std::move(writing);
  }

  // Reads what is there (never parks: a partial TLS record waits for the poller's report).
  // False when the connection is over.
  csp::Task<bool> read_more() {
    csp::Task<ErrorCode> reading = buffer_.fill(*stream_, kReadSize);
    const ErrorCode ec = co_await std::move(reading);
    co_return !ec || ec == asio::error::would_block;
  }

  // Step 2. A value: the connection is over, and why.
  csp::Task<std::optional<std::string>> process_buffer(bool& graceful) {
    for (;;) {
      const std::string_view unread = buffer_.unread();
      ws::HeaderParse parse = ws::parse_frame_header(unread, /*from_client=*/false, deflate_);
      if (parse.state == ws::HeaderParse::State::kNeedMore) co_return std::nullopt;
      if (parse.state == ws::HeaderParse::State::kError) {
        co_return absl::StrCat("the server broke the protocol: ", parse.reason);
      }
      const ws::FrameHeader& h = parse.header;
      if (h.payload_length > kMaxWebSocketAnswerBytes ||
          message_.size() + h.payload_length > kMaxWebSocketAnswerBytes) {
        co_return absl::StrCat("an answer over ", kMaxWebSocketAnswerBytes, " bytes");
      }
      if (unread.size() < h.header_bytes + h.payload_length) co_return std::nullopt;
      const std::string_view payload =
          unread.substr(h.header_bytes, static_cast<std::size_t>(h.payload_length));
      buffer_.consume(h.header_bytes + static_cast<std::size_t>(h.payload_length));
      switch (h.opcode) {
        case ws::Opcode::kPing: {
          csp::Task<bool> pong =
              write(ws::encode_frame(ws::Opcode::kPong, payload, true, false, ws::new_mask()));
          if (!co_await std::move(pong)) co_return "write failed";
          break;
        }
        case ws::Opcode::kPong:
          break;
        case ws::Opcode::kClose: {
          std::optional<ws::ClosePayload> close = ws::parse_close_payload(payload);
          const std::uint16_t code =
              close.has_value() && close->code != 0 ? close->code : ws::kCloseNormal;
          csp::Task<bool> echo = write(ws::encode_frame(
              ws::Opcode::kClose, ws::encode_close_payload(code, ""), true, false, ws::new_mask()));
          co_await std::move(echo);
          graceful = true;
          co_return absl::StrCat(
              "the server closed the connection (", code,
              close.has_value() && !close->reason.empty() ? absl::StrCat(" ", close->reason) : "",
              ")");
        }
        default: {
          if (h.opcode == ws::Opcode::kContinuation) {
            if (!in_message_) co_return "the server broke the protocol: a stray continuation";
            if (h.rsv1) co_return "the server broke the protocol: RSV1 on a continuation";
          } else {
            if (in_message_) co_return "the server broke the protocol: a message inside another";
            in_message_ = true;
            message_text_ = h.opcode == ws::Opcode::kText;
            message_compressed_ = h.rsv1;
            message_.clear();
          }
          message_.append(payload);
          if (!h.fin) break;
          in_message_ = false;
          std::string answer = std::move(message_);
          message_.clear();
          if (message_compressed_) {
            absl::StatusOr<std::string> inflated =
                ws::inflate_message(answer, kMaxWebSocketAnswerBytes);
            if (!inflated.ok()) co_return "an answer that does not inflate";
            answer = *std::move(inflated);
          }
          if (message_text_ && !ws::valid_utf8(answer)) co_return "a text answer that is not UTF-8";
          if (inflight_.empty()) co_return "an answer to no request";
          std::shared_ptr<Waiter> waiter = std::move(inflight_.front());
          inflight_.pop_front();
          waiter->result.try_send(answer_result(signal_, answer, message_text_));
          wake_.try_send(csp::Unit{});  // a place in the window is free
        }
      }
    }
  }

  void fail_all(const std::string& why) {
    std::deque<Outgoing> queued;
    {
      std::lock_guard lock(mu_);
      dead_ = true;
      queued.swap(queued_);
    }
    for (const std::shared_ptr<Waiter>& waiter : inflight_) {
      waiter->result.try_send(
          unavailable(absl::StrCat("OTLP/WebSocket: ", why, " before the answer came"), false));
    }
    inflight_.clear();
    for (Outgoing& outgoing : queued) {
      outgoing.waiter->result.try_send(
          unavailable(absl::StrCat("OTLP/WebSocket: ", why, " before the request was sent"), true));
    }
  }

  const otlp::Signal signal_;
  const std::size_t window_;
  const bool deflate_;
  const std::chrono::milliseconds write_timeout_;

  mutable std::mutex mu_;  // guards dead_ and queued_
  bool dead_ = false;
  std::deque<Outgoing> queued_;
  csp::Chan<csp::Unit> wake_{1};
  csp::Chan<csp::Unit> closing_{0};

  // The owner's alone.
  std::unique_ptr<ByteStream> stream_;
  csp::Chan<ErrorCode> readable_{1};
  std::deque<std::shared_ptr<Waiter>> inflight_;
  internal::ReadBuffer buffer_;
  std::string message_;
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
};

// The connection's goroutine keeps it alive until its loop ends; `running` counts it.
csp::Task<void> run_connection(std::shared_ptr<Connection> connection,
                               std::unique_ptr<ByteStream> stream, std::string buffered,
                               std::shared_ptr<csp::WaitGroup> running) {
  co_await connection->run(std::move(stream), std::move(buffered));
  running->done();
}

// What a dial ended with.
struct Dialed {
  std::shared_ptr<Connection> connection;
  ExportResult failure;  // when there is no connection
};

}  // namespace

absl::Status WebSocketClientOptions::validate() const {
  for (otlp::Signal signal : otlp::kAllSignals) {
    absl::StatusOr<internal::Url> url = parse_ws_url(endpoint, signal);
    if (!url.ok()) return url.status();
  }
  if (absl::Status s = tls.validate(); !s.ok()) return s;
  if (timeout.count() <= 0) return absl::InvalidArgumentError("timeout: must be positive");
  if (window < 1 || window > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("window: must be 1 to 4096, got ", window));
  }
  if (reconnect_backoff.count() <= 0 || max_reconnect_backoff < reconnect_backoff) {
    return absl::InvalidArgumentError(
        "reconnect_backoff: must be positive and at most max_reconnect_backoff");
  }
  return internal::check_header_fields(headers);
}

struct WebSocketExporterClient::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(WebSocketClientOptions o) : options(std::move(o)) {
    config_status = options.validate();
    if (!config_status.ok()) return;
    for (otlp::Signal signal : otlp::kAllSignals) {
      urls[static_cast<std::size_t>(signal)] = *parse_ws_url(options.endpoint, signal);
    }
    if (urls[0].scheme == "https") {
      absl::StatusOr<SslContextPtr> made = internal::make_client_context(options.tls);
      if (!made.ok()) {
        config_status = made.status();
        return;
      }
      tls_context = *std::move(made);
    }
  }

  // Per signal: the live connection, the dial in progress (a one-slot lock), the back-off.
  struct Slot {
    std::shared_ptr<Connection> connection;  // guarded by mu
    csp::Chan<csp::Unit> dialing{1};
    std::chrono::milliseconds backoff{0};              // guarded by mu
    csp::TimePoint next_dial = csp::TimePoint::min();  // guarded by mu
    std::string last_error;                            // guarded by mu
  };

  csp::Task<Dialed> connection_for(otlp::Signal signal, csp::TimePoint deadline);
  csp::Task<Dialed> dial(otlp::Signal signal, csp::TimePoint deadline);
  std::string upgrade_request(const internal::Url& url, const std::string& key) const;

  const WebSocketClientOptions options;
  absl::Status config_status;
  std::array<internal::Url, 4> urls;
  SslContextPtr tls_context;
  std::mutex mu;
  std::array<Slot, 4> slots;
  std::atomic<std::uint64_t> dialed{0};
  // Connection goroutines still running: the destructor waits for them, so none outlives the
  // client (and the process's OpenSSL).
  std::shared_ptr<csp::WaitGroup> running = std::make_shared<csp::WaitGroup>();
};

std::string WebSocketExporterClient::Impl::upgrade_request(const internal::Url& url,
                                                           const std::string& key) const {
  std::string request =
      absl::StrCat("GET ", url.target, " HTTP/1.1\r\nHost: ", url.host_header(),
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: ",
                   key, "\r\nUser-Agent: ", internal::av(kUserAgent), "\r\n");
  if (options.compression) {
    absl::StrAppend(&request, "Sec-WebSocket-Extensions: ", ws::kDeflateOffer, "\r\n");
  }
  for (const auto& [name, value] : options.headers) {
    absl::StrAppend(&request, name, ": ", value, "\r\n");
  }
  if (options.authorization) {
    const std::string authorization = options.authorization();
    if (!authorization.empty()) absl::StrAppend(&request, "Authorization: ", authorization, "\r\n");
  }
  request += "\r\n";
  return request;
}

csp::Task<Dialed> WebSocketExporterClient::Impl::connection_for(otlp::Signal signal,
                                                                csp::TimePoint deadline) {
  Slot& slot = slots[static_cast<std::size_t>(signal)];
  {
    std::lock_guard lock(mu);
    if (slot.connection != nullptr && slot.connection->alive()) co_return Dialed{slot.connection};
  }
  // One dial at a time per signal; the others wait for it and share its connection.
  const csp::Timer late(deadline - csp::Clock::now());
  const csp::Unit token;
  if (co_await csp::select(csp::send(slot.dialing, token), csp::recv(late.chan())) == 1) {
    co_return Dialed{nullptr, ExportResult{absl::DeadlineExceededError(
                                  "OTLP/WebSocket: no connection before the deadline")}};
  }
  // Given back however this ends (a dial that throws included).
  struct Release {
    const csp::Chan<csp::Unit>& dialing;
    ~Release() { dialing.try_recv(); }
  } release{slot.dialing};
  Dialed out;
  bool must_dial = false;
  {
    std::lock_guard lock(mu);
    if (slot.connection != nullptr && slot.connection->alive()) {
      out.connection = slot.connection;
    } else if (csp::Clock::now() < slot.next_dial) {
      out.failure = unavailable(
          absl::StrCat("OTLP/WebSocket: reconnecting after a failed dial (", slot.last_error, ")"),
          true);
    } else {
      must_dial = true;
    }
  }
  if (must_dial) {
    out = co_await dial(signal, deadline);
    std::lock_guard lock(mu);
    if (out.connection != nullptr) {
      slot.connection = out.connection;
      slot.backoff = std::chrono::milliseconds(0);
    } else {
      slot.backoff = slot.backoff.count() == 0
                         ? options.reconnect_backoff
                         : std::min(slot.backoff * 2, options.max_reconnect_backoff);
      slot.next_dial = csp::Clock::now() + slot.backoff;
      slot.last_error = std::string(out.failure.status.message());
    }
  }
  co_return out;
}

csp::Task<Dialed> WebSocketExporterClient::Impl::dial(otlp::Signal signal,
                                                      csp::TimePoint deadline) {
  const internal::Url& url = urls[static_cast<std::size_t>(signal)];
  const std::string where = absl::StrCat(
      "OTLP/WebSocket to ", internal::format_host_port(url.host, url.port), url.target);
  const auto failed = [&](std::string_view step, std::string detail) {
    return Dialed{nullptr,
                  unavailable(absl::StrCat(where, ": ", internal::av(step), ": ", detail), true)};
  };
  dialed.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<TcpSocket> socket = TcpSocket::make(/*direct_io=*/true);
  csp::Task<ErrorCode> connecting = internal::resolve_and_connect(
      socket, url.host, std::to_string(url.port), [](tcp::socket& s) -> tcp::socket& { return s; },
      deadline);
  const ErrorCode ec = co_await std::move(connecting);
  if (ec) co_return failed("connect", ec.message());

  std::unique_ptr<ByteStream> stream;
  if (url.scheme == "https") {
    const std::string& name =
        options.tls.server_name_override.empty() ? url.host : options.tls.server_name_override;
    auto tls = std::make_unique<internal::TlsSocketStream>(
        socket, tls_context, internal::TlsIo::ServerPeer{name, !options.tls.insecure_skip_verify});
    if (ErrorCode shaken = co_await tls->handshake(deadline)) {
      co_return failed("TLS handshake", tls->error().empty() ? shaken.message() : tls->error());
    }
    stream = std::move(tls);
  } else {
    stream = std::make_unique<internal::SocketStream>(socket);
  }

  const std::string key = ws::new_client_key();
  const std::string request = upgrade_request(url, key);  // the task refers to it
  csp::Task<ErrorCode> writing = stream->write(request, deadline);
  if (ErrorCode wrote = co_await std::move(writing)) co_return failed("upgrade", wrote.message());
  std::string answer;
  std::size_t head_end = std::string::npos;
  while ((head_end = answer.find("\r\n\r\n")) == std::string::npos) {
    if (answer.size() > kMaxHandshakeAnswer) co_return failed("upgrade", "answer head too large");
    const std::size_t old = answer.size();
    answer.resize(old + 4096);
    std::size_t got = 0;
    csp::Task<ErrorCode> reading = stream->read_some(answer.data() + old, 4096, got, deadline);
    const ErrorCode read = co_await std::move(reading);
    answer.resize(old + got);
    if (read) co_return failed("upgrade", read.message());
  }
  std::string buffered = answer.substr(head_end + 4);
  const std::vector<std::string> lines =
      absl::StrSplit(absl::string_view(answer).substr(0, head_end), "\r\n");
  const std::vector<std::string> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  int status = 0;
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &status)) {
    co_return failed("upgrade",
                     absl::StrCat("not an HTTP answer: \"", lines[0].substr(0, 80), "\""));
  }
  std::map<std::string, std::string> headers;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  if (status != 101) {
    // A refusal keeps nothing; its body (a short text) says why.
    std::string body = buffered.substr(0, 200);
    for (char& c : body) {
      if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = ' ';
    }
    ExportResult refused{
        absl::Status(internal::code_for_http_status(status),
                     absl::StrCat(where, ": upgrade refused with HTTP ", status,
                                  body.empty() ? "" : ": ", internal::av(internal::trim(body))))};
    refused.not_received = true;
    co_return Dialed{nullptr, std::move(refused)};
  }
  if (!internal::iequals(headers["upgrade"], "websocket") ||
      !internal::has_token(headers["connection"], "upgrade") ||
      headers["sec-websocket-accept"] != ws::accept_key(key)) {
    co_return failed("upgrade", "the server's 101 answer is not a WebSocket handshake");
  }
  const std::string& extensions = headers["sec-websocket-extensions"];
  const bool deflate =
      !extensions.empty() && options.compression && ws::deflate_accepted(extensions);
  if (!extensions.empty() && !deflate) {
    co_return failed("upgrade",
                     absl::StrCat("the server chose extensions we did not offer: ", extensions));
  }
  auto connection = std::make_shared<Connection>(signal, options.window, deflate, options.timeout);
  running->add(1);
  csp::go(run_connection(connection, std::move(stream), std::move(buffered), running));
  co_return Dialed{std::move(connection)};
}

WebSocketExporterClient::WebSocketExporterClient(WebSocketClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

WebSocketExporterClient::~WebSocketExporterClient() {
  {
    std::lock_guard lock(impl_->mu);
    for (Impl::Slot& slot : impl_->slots) {
      if (slot.connection != nullptr) slot.connection->close();
    }
  }
  impl_->running->wait_blocking();
}

std::uint64_t WebSocketExporterClient::connections_dialed() const {
  return impl_->dialed.load(std::memory_order_relaxed);
}

csp::Task<ExportResult> WebSocketExporterClient::export_borrowed(otlp::Signal signal,
                                                                 std::string_view body,
                                                                 csp::Context ctx) {
  std::shared_ptr<Impl> impl = impl_;
  if (!impl->config_status.ok()) co_return ExportResult{impl->config_status};
  if (ctx.is_done()) co_return ExportResult{ctx.err()};
  csp::TimePoint deadline = csp::Clock::now() + impl->options.timeout;
  if (std::optional<csp::TimePoint> ctx_deadline = ctx.deadline()) {
    deadline = std::min(deadline, *ctx_deadline);
  }
  const bool json = impl->options.encoding == HttpEncoding::kJson;
  std::string payload;
  if (json) {
    google::protobuf::Arena arena;
    google::protobuf::Message* message = otlp::new_request(signal, &arena);
    if (absl::Status decoded = otlp::decode_binary(body, *message); !decoded.ok()) {
      co_return ExportResult{absl::InvalidArgumentError(
          absl::StrCat("cannot re-encode the request as JSON: ", decoded.message()))};
    }
    otlp::encode_json_append(*message, payload);
  }
  csp::Task<Dialed> dialing = impl->connection_for(signal, deadline);
  Dialed dialed = co_await std::move(dialing);
  if (dialed.connection == nullptr) co_return std::move(dialed.failure);
  const std::string_view message = json ? std::string_view(payload) : body;
  Outgoing outgoing;
  const bool compress = dialed.connection->deflate();
  std::string deflated;
  if (compress) deflated = ws::deflate_message(message);
  outgoing.frame = ws::encode_frame(json ? ws::Opcode::kText : ws::Opcode::kBinary,
                                    compress ? std::string_view(deflated) : message, true, compress,
                                    ws::new_mask());
  outgoing.waiter = std::make_shared<Waiter>();
  std::shared_ptr<Waiter> waiter = outgoing.waiter;
  if (!dialed.connection->submit(std::move(outgoing))) {
    co_return unavailable("OTLP/WebSocket: the connection ended before the request was sent", true);
  }
  std::optional<ExportResult> result;
  const csp::Timer late(deadline - csp::Clock::now());  // stopped when the export ends
  // Named, not a temporary in the co_await operand (g++ 12 mishandles those).
  const csp::Chan<csp::Unit> ctx_done = ctx.done();
  const csp::Chan<csp::Unit> cancelled = ctx_done.is_nil() ? csp::Chan<csp::Unit>(0) : ctx_done;
  const std::size_t chosen = co_await csp::select(csp::recv(waiter->result, &result),
                                                  csp::recv(late.chan()), csp::recv(cancelled));
  if (chosen == 0 && result.has_value()) co_return std::move(*result);
  waiter->abandoned.store(true);
  if (chosen == 2) co_return ExportResult{ctx.err()};
  ExportResult late_result{
      absl::DeadlineExceededError("OTLP/WebSocket: no answer before the deadline")};
  co_return late_result;
}

}  // namespace transport
