// GrpcServer: OTLP/gRPC on our own HTTP/2 server.
//
// Who does what:
//  - Listener (internal/listener.h) accepts, at most max_connections at once, and starts one
//    connection goroutine per socket.
//  - The connection goroutine owns its nghttp2 session; nothing else touches it. Its loop:
//    write what the session wants to send; then wait (select) for the next read, a handler's
//    result, the server's stop signal, or a timer (keepalive, idle, age). Reads are posted to
//    the poller (PollerObject::post) and their completion lands on a one-slot channel; writes
//    are a PollerObject::run with a deadline, so a client that does not read cannot hold a
//    goroutine forever.
//  - nghttp2's callbacks run inside nghttp2_session_mem_recv, on the connection goroutine. They
//    collect each stream's headers, run gRPC's framing rules on its DATA
//    (internal/grpc_framing.h) and, at END_STREAM, start a request goroutine.
//  - A request goroutine inflates (capped), validates, awaits the handler and pushes the result
//    on its connection's result queue. The queue outlives the connection, so a result for a
//    connection that is gone is simply dropped.
//
// Bounds (docs/transport.md): streams per connection by SETTINGS; requests being handled per
// connection by pausing reads at max_concurrent_streams (a reset stream's handler still counts
// until it finishes, so rapid reset cannot pile up handlers); bytes per request by the message
// limit and reserve_memory; header bytes by max_header_list_bytes and nghttp2's CONTINUATION
// limit; resets by a token bucket.
//
// Shutdown protocol (Impl::shutdown):
//  1. Under `mu`: phase kRunning → kStopping; close the listener; close `stopping`, which every
//     connection selects on: it sends GOAWAY (last stream id it processed) and ends once its
//     open streams are answered.
//  2. Wait for every goroutine (accept loop, connections, requests) until `deadline`; past it,
//     abort every connection's socket (their goroutines end at once) and keep waiting for the
//     request goroutines, whose handlers must finish.

#include "transport/grpc_server.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/wait_group.h"
#include "otlp/binary_codec.h"
#include "otlp/compression.h"
#include "otlp/errors.h"
#include "otlp/log_throttle.h"
#include "otlp/wire.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/grpc_framing.h"
#include "transport/internal/grpc_status_codes.h"
#include "transport/internal/inflate.h"
#include "transport/internal/listener.h"
#include "transport/internal/messages.h"
#include "transport/internal/socket_io.h"
#include "transport/internal/strings.h"
#include "transport/internal/tls_io.h"

namespace transport {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using internal::ErrorCode;
using internal::TcpSocket;
using namespace std::chrono_literals;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kWriteChunk = 64 * 1024;
constexpr int kDirectReadsInARow = 16;
// A new connection must send its preface and SETTINGS within this time.
constexpr csp::Duration kPrefaceTimeout = 20s;
// One write of ours must complete within this time, or the client is not reading.
constexpr csp::Duration kWriteTimeout = 20s;
// Closing: how long and how much of the client's remaining bytes we swallow (see linger()).
constexpr csp::Duration kLingerTime = 1s;
constexpr std::size_t kLingerBytes = 1u << 20;
// gRPC's defaults for keepalive and ping enforcement.
constexpr csp::Duration kDefaultKeepaliveTime = 2h;
constexpr csp::Duration kDefaultKeepaliveTimeout = 20s;
constexpr csp::Duration kDefaultMinPingInterval = 5min;
constexpr int kMaxPingStrikes = 2;

constexpr std::string_view kAcceptEncoding = "identity,gzip,deflate,zstd";

csp::TimePoint min_time(csp::TimePoint a, csp::TimePoint b) { return a < b ? a : b; }

csp::Duration or_default(const std::optional<std::chrono::milliseconds>& value,
                         csp::Duration fallback) {
  return value.has_value() ? csp::Duration(*value) : fallback;
}

// The claims a request holds (body, inflated body): kept together in ExportRequest::memory.
struct RequestClaims {
  std::vector<MemoryClaim> claims;
};

// One request's outcome, from its goroutine back to the connection.
struct CallResult {
  std::int32_t stream_id = 0;
  absl::Status status;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string response;  // framed Export*ServiceResponse (OK only)
};

// Results of a connection's request goroutines. Outlives the connection (shared).
class ResultQueue {
 public:
  void push(CallResult r) {
    {
      std::lock_guard lock(mu_);
      results_.push_back(std::move(r));
    }
    wake_.try_send(csp::Unit{});
  }
  std::deque<CallResult> take() {
    std::lock_guard lock(mu_);
    return std::exchange(results_, {});
  }
  const csp::Chan<csp::Unit>& wake() const { return wake_; }

 private:
  std::mutex mu_;
  std::deque<CallResult> results_;
  csp::Chan<csp::Unit> wake_{1};
};

absl::Status memory_refusal() {
  return absl::ResourceExhaustedError("data refused due to high memory usage");
}

}  // namespace

absl::Status GrpcServerOptions::validate() const {
  absl::StatusOr<internal::HostPort> hp = internal::parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  if (max_recv_msg_size_mib <= 0 || max_recv_msg_size_mib > 2047) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_recv_msg_size_mib: must be in [1, 2047], got ", max_recv_msg_size_mib));
  }
  if (max_concurrent_streams.has_value() && *max_concurrent_streams <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_concurrent_streams: must be positive, got ", *max_concurrent_streams));
  }
  if (max_connections <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_connections: must be positive, got ", max_connections));
  }
  if (max_header_list_bytes < 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_header_list_bytes: must be at least 1024, got ", max_header_list_bytes));
  }
  if (max_concurrent_streams_total < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_concurrent_streams_total: must not be negative, got ", max_concurrent_streams_total));
  }
  if (request_read_timeout.count() < 0) {
    return absl::InvalidArgumentError("request_read_timeout: must not be negative");
  }
  if (stream_reset_burst <= 0 || stream_resets_per_second <= 0) {
    return absl::InvalidArgumentError(
        "stream_reset_burst, stream_resets_per_second: must be positive");
  }
  if (max_any_value_depth <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_any_value_depth: must be positive, got ", max_any_value_depth));
  }
  const std::pair<const char*, const std::optional<std::chrono::milliseconds>*> durations[] = {
      {"keepalive.server_parameters.time", &keepalive.time},
      {"keepalive.server_parameters.timeout", &keepalive.timeout},
      {"keepalive.server_parameters.max_connection_idle", &keepalive.max_connection_idle},
      {"keepalive.server_parameters.max_connection_age", &keepalive.max_connection_age},
      {"keepalive.server_parameters.max_connection_age_grace", &keepalive.max_connection_age_grace},
      {"keepalive.enforcement_policy.min_time", &keepalive_enforcement.min_time},
  };
  for (const auto& [name, value] : durations) {
    if (value->has_value() && (*value)->count() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": must not be negative"));
    }
  }
  return absl::OkStatus();
}

struct GrpcServer::Impl : std::enable_shared_from_this<GrpcServer::Impl> {
  Impl(GrpcServerOptions o, ExportHandler h) : options(std::move(o)), handler(std::move(h)) {
    max_message_bytes = static_cast<std::size_t>(options.max_recv_msg_size_mib) << 20;
    limits.max_message_bytes = max_message_bytes;
    limits.max_any_value_depth = options.max_any_value_depth;
    max_streams = options.max_concurrent_streams.value_or(kDefaultGrpcMaxConcurrentStreams);
  }

  absl::StatusOr<int> start();
  csp::Task<void> shutdown(csp::TimePoint deadline);

  // A claim for `bytes`, or null when the budget refuses.
  MemoryClaim reserve(std::int64_t bytes) const {
    if (!options.reserve_memory) {
      static const MemoryClaim kUnbudgeted = std::make_shared<int>(0);
      return kUnbudgeted;
    }
    return options.reserve_memory(bytes);
  }
  // From the request's bytes to the handler's result (a request goroutine).
  csp::Task<CallResult> answer(otlp::Signal signal, otlp::Compression compression,
                               internal::GrpcMessage message, std::shared_ptr<RequestClaims> claims,
                               std::string peer, Headers metadata);

  const GrpcServerOptions options;
  const ExportHandler handler;
  otlp::DecodeLimits limits;
  std::size_t max_message_bytes = 0;
  int max_streams = kDefaultGrpcMaxConcurrentStreams;
  std::atomic<int> open_streams{0};  // across connections, counted when a limit is set

  enum class Phase { kNew, kRunning, kStopping, kStopped };
  std::mutex mu;  // guards phase, listener, sockets
  Phase phase = Phase::kNew;
  std::shared_ptr<internal::Listener> listener;
  std::unordered_map<std::uint64_t, std::shared_ptr<TcpSocket>> sockets;  // live connections
  std::uint64_t next_connection = 0;

  std::atomic<int> port{0};
  csp::Chan<csp::Unit> stopping{0};  // closed when shutdown starts
  csp::WaitGroup goroutines;         // accept loop, connections, requests
  csp::Chan<csp::Unit> drained{0};   // closed once they have all ended after shutdown
};

namespace {

using Impl = GrpcServer::Impl;

// Token bucket for client RST_STREAM frames.
class ResetLimiter {
 public:
  ResetLimiter(int burst, int per_second)
      : burst_(burst), per_second_(per_second), tokens_(burst), last_(csp::Clock::now()) {}
  // False when this reset is one too many.
  bool allow() {
    const csp::TimePoint now = csp::Clock::now();
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * per_second_);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  const int burst_;
  const int per_second_;
  double tokens_;
  csp::TimePoint last_;
};

// Header names and values as nghttp2 wants them (it copies them on submit).
class HeaderList {
 public:
  void add(std::string_view name, std::string value) {
    names_.emplace_back(name);
    values_.push_back(std::move(value));
  }
  std::vector<nghttp2_nv> view() {
    std::vector<nghttp2_nv> nv;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      nv.push_back({reinterpret_cast<std::uint8_t*>(names_[i].data()),
                    reinterpret_cast<std::uint8_t*>(values_[i].data()), names_[i].size(),
                    values_[i].size(), NGHTTP2_NV_FLAG_NONE});
    }
    return nv;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> values_;
};

// One HTTP/2 connection: lives in its goroutine's frame.
class Connection {
 public:
  Connection(std::shared_ptr<Impl> impl, std::shared_ptr<TcpSocket> socket, std::string peer)
      : impl_(std::move(impl)),
        socket_(std::move(socket)),
        peer_(std::move(peer)),
        resets_(impl_->options.stream_reset_burst, impl_->options.stream_resets_per_second) {}
  ~Connection() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  csp::Task<void> run();

 private:
  struct Stream {
    std::int32_t id = 0;
    std::size_t header_bytes = 0;
    std::string method, path, content_type, encoding;
    std::string authorization;  // for the Authenticator only; never logged
    Headers metadata;           // with include_metadata: every non-pseudo header
    enum class State { kHeaders, kBody, kHandling, kAnswered } state = State::kHeaders;
    std::optional<otlp::Signal> signal;
    otlp::Compression compression = otlp::Compression::kNone;
    std::optional<internal::GrpcMessageReader> reader;
    std::shared_ptr<RequestClaims> claims = std::make_shared<RequestClaims>();
    std::string response;  // framed response being sent
    std::size_t response_sent = 0;
    csp::TimePoint started{};  // its first HEADERS frame (request_read_timeout)
    // Holds the stream's place under max_concurrent_streams_total while it exists.
    std::shared_ptr<void> counted;
  };
  struct ReadDone {  // the socket became readable (or failed)
    ErrorCode ec;
  };

  bool init_session();
  csp::Task<bool> start_tls();
  void arm_read();
  csp::Task<void> on_bytes(std::size_t n);
  csp::Task<bool> flush();
  csp::Task<void> linger();
  csp::TimePoint next_deadline() const;
  void on_timer();

  Stream* find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }
  void on_headers_done(Stream& s, bool end_stream);
  void on_data(Stream& s, std::string_view data);
  void on_end_stream(Stream& s);
  void answer_error(Stream& s, const absl::Status& status, int http_status = 200,
                    std::optional<std::chrono::milliseconds> retry_after = std::nullopt,
                    bool accept_encoding = false);
  void deliver(CallResult result);
  void go_away(std::uint32_t code, std::string_view why);

  // nghttp2 callbacks; user_data is the Connection.
  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t flags, void* user);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_data_chunk(nghttp2_session*, std::uint8_t flags, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user);
  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t code,
                             void* user);
  static ssize_t read_response(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf,
                               std::size_t length, std::uint32_t* data_flags,
                               nghttp2_data_source* source, void* user);

  const std::shared_ptr<Impl> impl_;
  const std::shared_ptr<TcpSocket> socket_;
  const std::string peer_;
  std::unique_ptr<internal::TlsIo> tls_;  // set when the server speaks TLS, after the handshake
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, Stream> streams_;
  const std::shared_ptr<ResultQueue> results_ = std::make_shared<ResultQueue>();
  int handling_ = 0;  // request goroutines started and not yet delivered
  ResetLimiter resets_;

  std::array<char, kReadChunk> read_buffer_;  // filled by direct reads on this goroutine
  const csp::Chan<ReadDone> reads_{1};        // readiness from the poller
  bool read_pending_ = false;                 // a readiness wait is armed
  int direct_reads_ = 0;                      // reads since this goroutine last parked for one
  bool read_closed_ = false;                  // EOF or a read error: nothing more comes in
  std::string out_;

  // Timers (all on this goroutine).
  const csp::TimePoint created_ = csp::Clock::now();
  csp::TimePoint last_frame_ = created_;  // last frame received
  csp::TimePoint idle_since_ = created_;  // no stream open since
  csp::TimePoint last_client_ping_{};     // last PING from the client
  // The earliest request_read_timeout deadline of a stream still being received, or earlier:
  // a new stream moves it in O(1), and only on_timer scans the streams (when it passes), so
  // streams that completed meanwhile just make the timer fire early and find nothing due.
  csp::TimePoint read_deadline_ = csp::TimePoint::max();
  bool got_frame_ = false;         // the client's preface and a frame arrived
  bool ping_outstanding_ = false;  // our keepalive PING awaits its ack
  csp::TimePoint ping_sent_{};
  int ping_strikes_ = 0;
  bool draining_ = false;  // GOAWAY sent: finish open streams, accept no new ones
  bool age_goaway_ = false;
  bool fatal_ = false;  // close as soon as what is queued is written
};

bool Connection::init_session() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &on_stream_close);
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return false;
  }
  // Our own reset limiter answers with ENHANCE_YOUR_CALM; nghttp2's stays as a backstop.
  nghttp2_option_set_stream_reset_rate_limit(
      option, static_cast<std::uint64_t>(impl_->options.stream_reset_burst) * 4,
      static_cast<std::uint64_t>(impl_->options.stream_resets_per_second) * 4);
  nghttp2_option_set_max_continuations(option, 16);
  nghttp2_option_set_max_settings(option, 32);
  const int rv = nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return false;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, static_cast<std::uint32_t>(impl_->max_streams)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(impl_->options.max_header_list_bytes)},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0) {
    return false;
  }
  // The connection window: as large as a stream's, so one stream alone is not throttled.
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 4 << 20);
  return true;
}

csp::Task<bool> Connection::start_tls() {
  const std::shared_ptr<ServerTls>& tls = impl_->options.tls;
  if (tls == nullptr) co_return true;
  tls_ = std::make_unique<internal::TlsIo>(socket_, tls->context(), "h2", kWriteTimeout);
  // The handshake shares the preface's deadline: a client that connects and stays silent, or
  // trickles its hello, is closed as soon as one that never sent the preface.
  const ErrorCode ec = co_await tls_->handshake(created_ + kPrefaceTimeout);
  if (!ec) co_return true;
  otlp::LogThrottle::global().report(
      "tls_handshake", peer_,
      absl::StrCat("TLS handshake failed: ",
                   !tls_->error().empty() ? tls_->error() : ec.message()));
  co_return false;
}

void Connection::arm_read() {
  read_pending_ = true;
  if (tls_ != nullptr && tls_->has_buffered_input()) {
    // Records already taken off the socket: waiting for it to become readable could wait for
    // bytes that are here. Read on at the next turn.
    reads_.try_send(ReadDone{});
    return;
  }
  socket_->post([reads = reads_](tcp::socket& s) {
    internal::async_wait_ready(s, tcp::socket::wait_read, [reads](ErrorCode ec) {
      reads.try_send(ReadDone{ec});  // one wait at a time: the slot is free
    });
  });
}

csp::Task<void> Connection::on_bytes(std::size_t n) {
  last_frame_ = csp::Clock::now();
  const ssize_t rv = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(read_buffer_.data()), n);
  if (rv >= 0) co_return;
  otlp::LogThrottle::global().report("http2_protocol_error", peer_,
                                     nghttp2_strerror(static_cast<int>(rv)));
  // nghttp2 has queued a GOAWAY for protocol errors and floods; send it, then close.
  if (rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  }
  co_await flush();
  fatal_ = true;
}

csp::Task<bool> Connection::flush() {
  for (;;) {
    out_.clear();
    while (out_.size() < kWriteChunk) {
      const std::uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) co_return false;
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (out_.empty()) co_return true;
    // Written from this goroutine; the poller is involved only while the send buffer is full.
    const csp::TimePoint deadline = csp::Clock::now() + kWriteTimeout;
    ErrorCode ec;
    if (tls_ != nullptr) {
      ec = co_await tls_->write_all(out_.data(), out_.size(), deadline);
    } else {
      ec = co_await internal::write_all(*socket_, out_.data(), out_.size(), deadline);
    }
    if (ec) co_return false;
  }
}

csp::TimePoint Connection::next_deadline() const {
  const auto& ka = impl_->options.keepalive;
  csp::TimePoint next = csp::TimePoint::max();
  if (!got_frame_) next = min_time(next, created_ + kPrefaceTimeout);
  if (ping_outstanding_) {
    next = min_time(next, ping_sent_ + or_default(ka.timeout, kDefaultKeepaliveTimeout));
  } else {
    next = min_time(next, last_frame_ + or_default(ka.time, kDefaultKeepaliveTime));
  }
  if (ka.max_connection_idle && streams_.empty() && handling_ == 0 && !draining_) {
    next = min_time(next, idle_since_ + *ka.max_connection_idle);
  }
  next = min_time(next, read_deadline_);
  if (ka.max_connection_age) {
    const csp::TimePoint age = created_ + *ka.max_connection_age;
    next = min_time(
        next, age_goaway_ ? age + or_default(ka.max_connection_age_grace, csp::Duration::max() / 4)
                          : age);
  }
  return next;
}

void Connection::on_timer() {
  const auto& ka = impl_->options.keepalive;
  const csp::TimePoint now = csp::Clock::now();
  if (const auto timeout = impl_->options.request_read_timeout;
      timeout.count() > 0 && now >= read_deadline_) {
    // The one scan: reset what is overdue and find the next deadline.
    read_deadline_ = csp::TimePoint::max();
    for (auto& [id, stream] : streams_) {
      if (stream.state != Stream::State::kHeaders && stream.state != Stream::State::kBody) {
        continue;
      }
      if (now < stream.started + timeout) {
        read_deadline_ = min_time(read_deadline_, stream.started + timeout);
        continue;
      }
      // A request still arriving after the timeout: a slow client or a slowloris. Its memory
      // goes now; the reset closes the stream, and so frees its place.
      otlp::LogThrottle::global().report(
          "grpc_slow_request", peer_,
          absl::StrCat("request on stream ", id, " not received whole within ",
                       std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count(),
                       " ms; stream reset"));
      stream.state = Stream::State::kAnswered;
      stream.reader.reset();
      stream.claims.reset();
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    }
  }
  if (!got_frame_ && now >= created_ + kPrefaceTimeout) {
    fatal_ = true;  // never spoke HTTP/2
    return;
  }
  if (ping_outstanding_ && now >= ping_sent_ + or_default(ka.timeout, kDefaultKeepaliveTimeout)) {
    fatal_ = true;  // the keepalive ping was not answered
    return;
  }
  if (!ping_outstanding_ && now >= last_frame_ + or_default(ka.time, kDefaultKeepaliveTime)) {
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
    ping_outstanding_ = true;
    ping_sent_ = now;
  }
  if (ka.max_connection_idle && streams_.empty() && handling_ == 0 && !draining_ &&
      now >= idle_since_ + *ka.max_connection_idle) {
    go_away(NGHTTP2_NO_ERROR, "max_connection_idle");
  }
  if (ka.max_connection_age) {
    const csp::TimePoint age = created_ + *ka.max_connection_age;
    if (!age_goaway_ && now >= age) {
      age_goaway_ = true;
      go_away(NGHTTP2_NO_ERROR, "max_connection_age");
    } else if (age_goaway_ && ka.max_connection_age_grace &&
               now >= age + *ka.max_connection_age_grace) {
      fatal_ = true;
    }
  }
}

void Connection::go_away(std::uint32_t code, std::string_view why) {
  if (code != NGHTTP2_NO_ERROR) {
    otlp::LogThrottle::global().report(
        "http2_goaway", peer_,
        absl::StrCat("GOAWAY ", nghttp2_http2_strerror(code), ": ", internal::av(why)));
    nghttp2_session_terminate_session2(session_, nghttp2_session_get_last_proc_stream_id(session_),
                                       code);
    fatal_ = true;
    return;
  }
  if (draining_) return;
  draining_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), code,
                        reinterpret_cast<const std::uint8_t*>(why.data()), why.size());
}

csp::Task<void> Connection::run() {
  if (!co_await start_tls()) {
    socket_->abort();
    co_return;
  }
  if (!init_session()) co_return;
  csp::Chan<csp::Unit> stopping = impl_->stopping;
  csp::TimePoint timer_at = csp::TimePoint::max();
  csp::Chan<csp::TimePoint> timer;  // nil until a deadline is set
  for (;;) {
    if (!co_await flush() || fatal_) break;
    const bool wants = nghttp2_session_want_read(session_) || nghttp2_session_want_write(session_);
    if (!wants && handling_ == 0) break;  // GOAWAY exchanged and every stream answered
    if (read_closed_ && handling_ == 0) break;
    // Read here first, as Go's netpoller does, and park on the poller only when the kernel has
    // nothing: a request that has arrived costs no thread switch. After kDirectReadsInARow
    // reads without parking, the poller's round trip gives the other goroutines a turn.
    bool progressed = false;
    if (!read_pending_ && !read_closed_ && handling_ < impl_->max_streams) {
      std::size_t got = 0;
      ErrorCode ec(asio::error::would_block);
      if (direct_reads_ < kDirectReadsInARow) {
        if (tls_ != nullptr) {
          ec = co_await tls_->try_read(read_buffer_.data(), kReadChunk, got);
        } else {
          ec = internal::try_read(*socket_, read_buffer_.data(), kReadChunk, got);
        }
      } else if (tls_ != nullptr && tls_->has_buffered_input()) {
        co_await csp::yield();  // the poller's round trip would not happen: step aside here
      }
      if (!ec) {
        ++direct_reads_;
        progressed = true;
        co_await on_bytes(got);
      } else if (ec == asio::error::would_block) {
        direct_reads_ = 0;
        arm_read();
      } else {
        read_closed_ = true;
        progressed = true;
      }
    }

    // One timer at a time, re-armed only when a deadline moved earlier: most deadlines move
    // later with every frame, and the timer that fires early just finds nothing due.
    if (const csp::TimePoint next = next_deadline(); next < timer_at) {
      timer_at = next;
      timer = csp::after(std::max(next - csp::Clock::now(), csp::Duration::zero()));
    }
    ReadDone read;
    int chosen = 0;
    if (progressed) {  // look at the other events without parking, then read on
      chosen = co_await csp::select(csp::recv(reads_, &read), csp::recv(results_->wake()),
                                    csp::recv(stopping), csp::recv(timer), csp::default_case());
    } else {
      chosen = co_await csp::select(csp::recv(reads_, &read), csp::recv(results_->wake()),
                                    csp::recv(stopping), csp::recv(timer));
    }
    switch (chosen) {
      case 0:
        read_pending_ = false;
        if (read.ec) read_closed_ = true;  // else readable: the next turn reads
        break;
      case 1:
        for (CallResult& r : results_->take()) deliver(std::move(r));
        break;
      case 2:
        stopping = csp::Chan<csp::Unit>();  // handled once
        go_away(NGHTTP2_NO_ERROR, "server shutting down");
        break;
      case 3:
        timer_at = csp::TimePoint::max();
        timer = csp::Chan<csp::TimePoint>();
        on_timer();
        break;
    }
  }
  co_await linger();
  socket_->abort();
  // Results still to come are dropped by their queue; claims go with the streams.
  streams_.clear();
}

csp::Task<void> Connection::linger() {
  if (read_closed_) co_return;
  if (tls_ != nullptr) co_await tls_->close_notify(csp::Clock::now() + kLingerTime);
  // Half-close, then swallow what the client still sends for a moment: closing a socket with
  // unread bytes resets the connection, and the reset can destroy our GOAWAY before the client
  // reads it.
  const ErrorCode ec = co_await socket_->run([](tcp::socket& s, auto done) {
    ErrorCode e;
    s.shutdown(tcp::socket::shutdown_send, e);
    done(e);
  });
  if (ec) co_return;
  const csp::Chan<csp::TimePoint> until = csp::after(kLingerTime);
  std::size_t swallowed = 0;
  while (swallowed < kLingerBytes) {
    if (!read_pending_) {
      std::size_t got = 0;
      const ErrorCode read = internal::try_read(*socket_, read_buffer_.data(), kReadChunk, got);
      if (!read) {
        swallowed += got;
        continue;
      }
      if (read != asio::error::would_block) break;
      arm_read();
    }
    ReadDone ready;
    if (co_await csp::select(csp::recv(reads_, &ready), csp::recv(until)) == 1) break;
    read_pending_ = false;
    if (ready.ec) break;
  }
}

void Connection::deliver(CallResult result) {
  --handling_;
  Stream* s = find(result.stream_id);
  if (s == nullptr || s->state != Stream::State::kHandling) return;  // reset meanwhile
  if (!result.status.ok()) {
    answer_error(*s, result.status, 200, result.retry_after);
    return;
  }
  s->state = Stream::State::kAnswered;
  s->response = std::move(result.response);
  HeaderList h;
  h.add(":status", "200");
  h.add("content-type", "application/grpc");
  std::vector<nghttp2_nv> nv = h.view();
  nghttp2_data_provider provider{};
  provider.read_callback = &read_response;
  nghttp2_submit_response(session_, s->id, nv.data(), nv.size(), &provider);
  ping_strikes_ = 0;
}

void Connection::answer_error(Stream& s, const absl::Status& status, int http_status,
                              std::optional<std::chrono::milliseconds> retry_after,
                              bool accept_encoding) {
  if (!retry_after.has_value() && status.code() != absl::StatusCode::kResourceExhausted &&
      status.code() != absl::StatusCode::kUnavailable) {
    // The client's mistake, logged rate-limited (one line a minute, with a count).
    otlp::LogThrottle::global().report(
        "grpc_bad_request", peer_,
        absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message()));
  }
  s.state = Stream::State::kAnswered;
  s.reader.reset();
  s.claims.reset();  // nothing of this request is kept
  HeaderList h;
  h.add(":status", std::to_string(http_status));
  h.add("content-type", "application/grpc");
  // grpc::StatusCode's numbers are gRPC's wire values.
  h.add("grpc-status",
        std::to_string(static_cast<int>(internal::grpc_status_for_code(status.code()))));
  h.add("grpc-message", internal::percent_encode_grpc_message(internal::sv(status.message())));
  if (retry_after.has_value()) {
    h.add("grpc-status-details-bin",
          internal::encode_binary_header(
              internal::make_rpc_status(status, retry_after).SerializeAsString()));
  }
  if (accept_encoding) h.add("grpc-accept-encoding", std::string(kAcceptEncoding));
  std::vector<nghttp2_nv> nv = h.view();
  nghttp2_submit_response(session_, s.id, nv.data(), nv.size(), nullptr);
}

ssize_t Connection::read_response(nghttp2_session* session, std::int32_t stream_id,
                                  std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags,
                                  nghttp2_data_source*, void* user) {
  auto* c = static_cast<Connection*>(user);
  Stream* s = c->find(stream_id);
  if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const std::size_t n = std::min(length, s->response.size() - s->response_sent);
  std::memcpy(buf, s->response.data() + s->response_sent, n);
  s->response_sent += n;
  if (s->response_sent == s->response.size()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    HeaderList trailers;
    trailers.add("grpc-status", "0");
    std::vector<nghttp2_nv> nv = trailers.view();
    nghttp2_submit_trailer(session, stream_id, nv.data(), nv.size());
  }
  return static_cast<ssize_t>(n);
}

int Connection::on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Impl* impl = c->impl_.get();
  const int limit = impl->options.max_concurrent_streams_total;
  if (limit > 0 && impl->open_streams.fetch_add(1, std::memory_order_relaxed) >= limit) {
    // Refused before anything of it is kept; its headers and data are then ignored (no entry).
    impl->open_streams.fetch_sub(1, std::memory_order_relaxed);
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                              NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  Stream& s = c->streams_[frame->hd.stream_id];
  s.id = frame->hd.stream_id;
  s.started = csp::Clock::now();
  if (const auto timeout = impl->options.request_read_timeout; timeout.count() > 0) {
    c->read_deadline_ = min_time(c->read_deadline_, s.started + timeout);
  }
  if (limit > 0) {
    s.counted = std::shared_ptr<void>(
        nullptr, [impl](void*) { impl->open_streams.fetch_sub(1, std::memory_order_relaxed); });
  }
  return 0;
}

int Connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                          std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                          std::uint8_t, void* user) {
  auto* c = static_cast<Connection*>(user);
  Stream* s = c->find(frame->hd.stream_id);
  if (s == nullptr || s->state != Stream::State::kHeaders) return 0;  // e.g. client trailers
  s->header_bytes += namelen + valuelen + 32;
  if (s->header_bytes > c->impl_->options.max_header_list_bytes) {
    // The stream is reset (nghttp2 sends RST_STREAM); HPACK state stays in step.
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  const std::string_view n(reinterpret_cast<const char*>(name), namelen);
  const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":method") {
    s->method = v;
  } else if (n == ":path") {
    s->path = v;
  } else if (n == "content-type") {
    s->content_type = v;
  } else if (n == "grpc-encoding") {
    s->encoding = v;
  } else if (n == "authorization") {
    s->authorization = v;
  }
  // nghttp2 hands names in lower case (HTTP/2 forbids upper case), so they need no folding.
  if (c->impl_->options.include_metadata && !n.empty() && n.front() != ':') {
    s->metadata.emplace_back(n, v);
  }
  return 0;
}

int Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<Connection*>(user);
  c->got_frame_ = true;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      Stream* s = c->find(frame->hd.stream_id);
      if (s == nullptr) return 0;
      const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
      if (s->state == Stream::State::kHeaders) {
        c->on_headers_done(*s, end_stream);
      } else if (end_stream) {
        c->on_end_stream(*s);  // trailers from the client end its side
      }
      return 0;
    }
    case NGHTTP2_DATA: {
      if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
      if (Stream* s = c->find(frame->hd.stream_id)) c->on_end_stream(*s);
      return 0;
    }
    case NGHTTP2_RST_STREAM:
      if (!c->resets_.allow()) c->go_away(NGHTTP2_ENHANCE_YOUR_CALM, "too many stream resets");
      return 0;
    case NGHTTP2_PING: {
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) {
        c->ping_outstanding_ = false;
        return 0;
      }
      const auto& policy = c->impl_->options.keepalive_enforcement;
      const bool active = !c->streams_.empty() || c->handling_ > 0;
      const csp::Duration min_interval = (active || policy.permit_without_stream)
                                             ? or_default(policy.min_time, kDefaultMinPingInterval)
                                             : kDefaultKeepaliveTime;
      const csp::TimePoint now = csp::Clock::now();
      if (c->last_client_ping_ != csp::TimePoint{} && now - c->last_client_ping_ < min_interval &&
          ++c->ping_strikes_ > kMaxPingStrikes) {
        c->go_away(NGHTTP2_ENHANCE_YOUR_CALM, "too_many_pings");
      }
      c->last_client_ping_ = now;
      return 0;
    }
    default:
      return 0;
  }
}

int Connection::on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                              const std::uint8_t* data, std::size_t len, void* user) {
  auto* c = static_cast<Connection*>(user);
  if (Stream* s = c->find(stream_id)) {
    c->on_data(*s, std::string_view(reinterpret_cast<const char*>(data), len));
  }
  return 0;
}

int Connection::on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t,
                                void* user) {
  auto* c = static_cast<Connection*>(user);
  c->streams_.erase(stream_id);
  if (c->streams_.empty()) c->idle_since_ = csp::Clock::now();
  return 0;
}

void Connection::on_headers_done(Stream& s, bool end_stream) {
  s.state = Stream::State::kBody;
  if (s.method != "POST") {
    answer_error(s, absl::UnimplementedError(absl::StrCat("method ", s.method, " not allowed")),
                 405);
    return;
  }
  const std::string_view type = s.content_type;
  if (!absl::StartsWith(internal::av(type), "application/grpc") ||
      (type.size() > 16 && type[16] != '+' && type[16] != ';')) {
    answer_error(s,
                 absl::InternalError(absl::StrCat("invalid gRPC request content-type \"",
                                                  internal::av(type), "\"")),
                 415);
    return;
  }
  s.signal = internal::signal_of_method(s.path);
  if (!s.signal.has_value()) {
    answer_error(s, absl::UnimplementedError(absl::StrCat("unknown method ", s.path)));
    return;
  }
  if (impl_->options.authenticate && !impl_->options.authenticate(s.authorization)) {
    s.authorization.clear();
    answer_error(s, absl::UnauthenticatedError(kUnauthenticatedMessage));
    return;
  }
  s.authorization.clear();
  std::optional<otlp::Compression> compression = otlp::parse_compression(s.encoding);
  if (!compression.has_value()) {
    answer_error(s,
                 absl::UnimplementedError(absl::StrCat(
                     "grpc-encoding \"", s.encoding,
                     "\" is not supported, supported: ", internal::av(kAcceptEncoding))),
                 200, std::nullopt, /*accept_encoding=*/true);
    return;
  }
  s.compression = *compression;
  s.reader.emplace(impl_->max_message_bytes, *compression != otlp::Compression::kNone);
  if (end_stream) on_end_stream(s);
}

void Connection::on_data(Stream& s, std::string_view data) {
  if (s.state != Stream::State::kBody || !s.reader.has_value()) return;  // answered: discard
  bool memory_refused = false;
  const absl::Status status = s.reader->feed(data, [&](std::int64_t length) {
    MemoryClaim claim = impl_->reserve(length);
    if (claim == nullptr) {
      memory_refused = true;
      return memory_refusal();
    }
    s.claims->claims.push_back(std::move(claim));
    return absl::OkStatus();
  });
  if (status.ok()) return;
  answer_error(s, status, 200,
               memory_refused ? std::optional(kMemoryRefusalRetryAfter) : std::nullopt);
}

void Connection::on_end_stream(Stream& s) {
  if (s.state != Stream::State::kBody || !s.reader.has_value()) return;
  absl::StatusOr<internal::GrpcMessage> message = s.reader->finish();
  s.reader.reset();
  if (!message.ok()) {
    answer_error(s, message.status());
    return;
  }
  s.state = Stream::State::kHandling;
  ++handling_;
  impl_->goroutines.add(1);
  csp::go([](std::shared_ptr<Impl> impl, std::shared_ptr<ResultQueue> results, std::int32_t id,
             otlp::Signal signal, otlp::Compression compression, internal::GrpcMessage message,
             std::shared_ptr<RequestClaims> claims, std::string peer,
             Headers metadata) -> csp::Task<void> {
    csp::Task<CallResult> answered =
        impl->answer(signal, compression, std::move(message), std::move(claims), std::move(peer),
                     std::move(metadata));
    CallResult result = co_await std::move(answered);
    result.stream_id = id;
    results->push(std::move(result));
    impl->goroutines.done();
  }(impl_, results_, s.id, *s.signal, s.compression, *std::move(message), std::move(s.claims),
                               peer_, std::move(s.metadata)));
}

}  // namespace

csp::Task<CallResult> Impl::answer(otlp::Signal signal, otlp::Compression compression,
                                   internal::GrpcMessage message,
                                   std::shared_ptr<RequestClaims> claims, std::string peer,
                                   Headers metadata) {
  CallResult result;
  const auto refuse = [&] {
    result.status = memory_refusal();
    result.retry_after = kMemoryRefusalRetryAfter;
    return result;
  };
  std::string body = std::move(message.payload);
  if (message.compressed) {
    internal::Inflated inflated = internal::inflate_within_budget(
        compression, body, max_message_bytes, [&](std::int64_t bytes) {
          MemoryClaim claim = reserve(bytes);
          if (claim == nullptr) return false;
          claims->claims.push_back(std::move(claim));
          return true;
        });
    switch (inflated.outcome) {
      case internal::Inflated::Outcome::kOk:
        body = std::move(inflated.body);
        break;
      case internal::Inflated::Outcome::kMemoryRefused:
        co_return refuse();
      case internal::Inflated::Outcome::kTooLarge:
        result.status = absl::ResourceExhaustedError(absl::StrCat(
            "decompressed message exceeds the limit of ", max_message_bytes, " bytes"));
        co_return result;
      case internal::Inflated::Outcome::kCorrupt:
        result.status = absl::InternalError(absl::StrCat(
            "cannot decompress the ", internal::av(otlp::compression_name(compression)),
            " message: ", inflated.error.message()));
        co_return result;
    }
  }
  // Validation walks the wire bytes (otlp::validate_binary): the decode's verdict, no decode,
  // and in the same walk what a decode would allocate.
  std::int64_t decoded_bytes = 0;
  if (absl::Status valid = otlp::validate_binary(signal, body, limits, &decoded_bytes);
      !valid.ok()) {
    result.status = absl::Status(
        valid.code(),
        absl::StrCat("invalid ", otlp::request_descriptor(signal)->name(), ": ", valid.message()));
    co_return result;
  }
  {
    // The pipeline may decode the request later (a split below one resource, a processor that
    // reads fields) without a reservation of its own, and a decode can be ~40× the wire bytes
    // (empty ScopeSpans): the budget must have room for it now, or the request is refused as
    // retryable. The claim is an admission check, released at once.
    MemoryClaim decode_claim = reserve(decoded_bytes);
    if (decode_claim == nullptr) co_return refuse();
  }
  ExportResult handled;
  try {
    // Bound to a local before awaiting: g++ 12 mishandles class temporaries (here the
    // ExportRequest argument) inside a co_await operand (docs/csp.md).
    csp::Task<ExportResult> task = handler(ExportRequest{signal, std::move(body), std::move(peer),
                                                         std::move(claims), std::move(metadata)});
    handled = co_await std::move(task);
  } catch (const std::exception& e) {
    handled.status = absl::InternalError(absl::StrCat("export failed: ", e.what()));
  } catch (...) {
    handled.status = absl::InternalError("export failed");
  }
  if (!handled.status.ok()) {
    result.status = handled.status;
    result.retry_after = handled.retry_after;
    co_return result;
  }
  result.response = internal::grpc_frame(
      internal::make_export_response(signal, handled.rejected_items, handled.partial_message)
          ->SerializeAsString());
  co_return result;
}

absl::StatusOr<int> Impl::start() {
  std::lock_guard lock(mu);
  if (phase != Phase::kNew) {
    return absl::FailedPreconditionError(phase == Phase::kRunning
                                             ? "GrpcServer: start() called twice"
                                             : "GrpcServer: start() after shutdown()");
  }
  if (!handler) return absl::FailedPreconditionError("GrpcServer: no handler");
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;
  absl::StatusOr<std::shared_ptr<internal::Listener>> opened = internal::Listener::open(
      options.endpoint, "GrpcServer", static_cast<std::size_t>(options.max_connections));
  if (!opened.ok()) return opened.status();
  listener = *std::move(opened);
  phase = Phase::kRunning;
  port.store(listener->port(), std::memory_order_release);
  goroutines.add(1);
  csp::go([](std::shared_ptr<Impl> self) -> csp::Task<void> {
    csp::Task<void> loop = self->listener->run(
        [self](std::shared_ptr<TcpSocket> socket, std::string peer, internal::ConnectionSlot slot) {
          std::uint64_t id = 0;
          {
            std::lock_guard lock(self->mu);
            if (self->phase != Phase::kRunning) {
              socket->abort();
              return;
            }
            id = self->next_connection++;
            self->sockets[id] = socket;
            self->goroutines.add(1);
          }
          csp::go([](std::shared_ptr<Impl> self, std::shared_ptr<TcpSocket> socket,
                     std::string peer, internal::ConnectionSlot slot,
                     std::uint64_t id) -> csp::Task<void> {
            {
              Connection connection(self, socket, std::move(peer));
              co_await connection.run();
            }
            {
              std::lock_guard lock(self->mu);
              self->sockets.erase(id);
            }
            { internal::ConnectionSlot released = std::move(slot); }
            self->goroutines.done();
          }(self, std::move(socket), std::move(peer), std::move(slot), id));
        });
    co_await std::move(loop);
    self->goroutines.done();
  }(shared_from_this()));
  return listener->port();
}

csp::Task<void> Impl::shutdown(csp::TimePoint deadline) {
  bool first = false;
  {
    std::lock_guard lock(mu);
    if (phase == Phase::kNew) {
      phase = Phase::kStopped;
      drained.close();
    } else if (phase == Phase::kRunning) {
      phase = Phase::kStopping;
      first = true;
      listener->close();
      stopping.close();
    }
  }
  if (first) {
    csp::go([](std::shared_ptr<Impl> self) -> csp::Task<void> {
      co_await self->goroutines.wait();
      {
        std::lock_guard lock(self->mu);
        self->phase = Phase::kStopped;
      }
      self->drained.close();
    }(shared_from_this()));
  }
  co_await internal::await_drained(drained, deadline, [this] {
    std::lock_guard lock(mu);
    for (auto& [id, socket] : sockets) socket->abort();
  });
}

GrpcServer::GrpcServer(GrpcServerOptions options, ExportHandler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {}

GrpcServer::~GrpcServer() {
  bool running = false;
  {
    std::lock_guard lock(impl_->mu);
    running = impl_->phase == Impl::Phase::kRunning || impl_->phase == Impl::Phase::kStopping;
  }
  if (running) shutdown(csp::Clock::now());
}

absl::StatusOr<int> GrpcServer::start() { return impl_->start(); }

int GrpcServer::port() const { return impl_->port.load(std::memory_order_acquire); }

void GrpcServer::shutdown(csp::TimePoint deadline) { csp::block_on(shutdown_async(deadline)); }

csp::Task<void> GrpcServer::shutdown_async(csp::TimePoint deadline) {
  std::shared_ptr<Impl> impl = impl_;  // the goroutine keeps the server alive
  co_await impl->shutdown(deadline);
}

}  // namespace transport
