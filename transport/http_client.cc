// HttpExporterClient: one exchange per export on a pooled or new connection, driven on the
// poller thread through PollerObject; a watcher goroutine turns ctx cancellation into abort().
//
// One export:
//  1. Build the request (JSON re-encoding, compression, headers) once.
//  2. Take an idle connection for host:port, or dial (resolve + connect) a new one.
//  3. Write the request, read the answer (both bounded by the deadline).
//  4. A reused connection that failed before any answer byte was closed by the server while
//     idle: go back to 2 once, with a new connection.
//  5. Map the answer; put the connection back in the pool if both sides keep it alive.

#include "transport/http_client.h"

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"
#include "transport/internal/dial.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/messages.h"
#include "transport/internal/poller_object.h"
#include "transport/internal/status_mapping.h"
#include "transport/internal/strings.h"
#include "transport/internal/url.h"

namespace transport {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using internal::ErrorCode;

// A connection: its socket and, for https, the TLS stream over it. Like the socket, the TLS
// stream is touched on the poller thread only (PollerObject). abort() closes the socket, which
// ends any TLS operation in progress.
struct ClientStream {
  explicit ClientStream(asio::io_context& io) : socket(io) {}
  void close(ErrorCode& ec) { socket.close(ec); }
  void cancel(ErrorCode& ec) { socket.cancel(ec); }

  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
};
using Socket = internal::PollerObject<ClientStream>;
// The body is a view: of the caller's bytes, or of the re-encoded or compressed copy that
// export_request keeps beside it.
using Request = http::request<http::span_body<const char>>;
using Response = http::response<http::string_body>;

constexpr std::string_view kProtobufType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kUserAgent = "otlpd/0.1.0";
constexpr std::size_t kMaxQuotedBody = 512;

std::size_t signal_index(otlp::Signal signal) { return static_cast<std::size_t>(signal); }

const std::string& override_url(const HttpClientOptions& options, otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return options.traces_endpoint;
    case otlp::Signal::kMetrics:
      return options.metrics_endpoint;
    case otlp::Signal::kLogs:
      return options.logs_endpoint;
    case otlp::Signal::kProfiles:
      return options.profiles_endpoint;
  }
  return options.endpoint;
}

const char* override_name(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "traces_endpoint";
    case otlp::Signal::kMetrics:
      return "metrics_endpoint";
    case otlp::Signal::kLogs:
      return "logs_endpoint";
    case otlp::Signal::kProfiles:
      return "profiles_endpoint";
  }
  return "endpoint";
}

// The URL a signal is sent to; validate() has checked that it parses.
absl::StatusOr<internal::Url> signal_url(const HttpClientOptions& options, otlp::Signal signal) {
  const std::string& full = override_url(options, signal);
  if (!full.empty()) return internal::parse_url(full, override_name(signal));
  if (options.endpoint.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint: must be set (or ", override_name(signal), ")"));
  }
  return internal::parse_url(
      internal::join_url_path(options.endpoint, internal::signal_url_path(signal)), "endpoint");
}

// A short, printable excerpt of an answer body for error messages.
std::string quote_body(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kMaxQuotedBody)) {
    out.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : ' ');
  }
  if (body.size() > kMaxQuotedBody) out += "...";
  return std::string(internal::trim(out));
}

// Step 5: the answer as an ExportResult.
ExportResult result_of(otlp::Signal signal, const Response& response) {
  ExportResult result;
  const int http_status = response.result_int();
  const absl::StatusCode code = internal::code_for_http_status(http_status);
  const std::string type = internal::media_type(response[http::field::content_type]);
  const bool json = type == kJsonType;
  const bool protobuf = type == kProtobufType || type == "application/protobuf";
  const std::string& body = response.body();
  if (code == absl::StatusCode::kOk) {
    if (!body.empty() && (json || protobuf)) {
      // A partial success we cannot read still means the data was accepted.
      absl::StatusOr<internal::PartialSuccess> partial =
          internal::parse_partial_success(signal, body, json);
      if (partial.ok()) {
        result.rejected_items = partial->rejected_items;
        result.partial_message = std::move(partial->message);
      }
    }
    return result;
  }
  std::string detail;
  if (!body.empty() && (json || protobuf)) {
    absl::StatusOr<google::rpc::Status> status = internal::decode_rpc_status(body, json);
    if (status.ok()) detail = status->message();
  }
  if (detail.empty()) detail = quote_body(body);
  std::string message = absl::StrCat("HTTP ", http_status);
  if (!response.reason().empty())
    absl::StrAppend(&message, " ", internal::av(internal::sv(response.reason())));
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  result.status = absl::Status(code, message);
  // The server answered, and not with success, so it kept nothing; except a gateway's 502/504,
  // which may come after the backend behind it got the request.
  result.not_received = http_status != 502 && http_status != 504;
  if (http_status == 429 || http_status == 502 || http_status == 503 || http_status == 504) {
    result.retry_after = internal::parse_retry_after(response[http::field::retry_after]);
  }
  return result;
}

// Turns ctx cancellation into abort() of the connection in use, until `finished` is closed.
// Reports on `exited` whether it aborted.
csp::Task<void> watch_cancel(csp::Chan<csp::Unit> ctx_done, csp::Chan<csp::Unit> finished,
                             csp::Chan<bool> exited, std::shared_ptr<Socket> socket) {
  const bool cancelled = co_await csp::select(csp::recv(ctx_done), csp::recv(finished)) == 0;
  if (cancelled) socket->abort();
  exited.try_send(cancelled);
}

struct Exchange {
  ErrorCode ec;
  std::string_view step;   // what failed
  std::string detail;      // more about the failure (why a certificate was refused)
  bool answered = false;   // some of the answer arrived
  bool cancelled = false;  // ctx was cancelled meanwhile
  bool reusable = false;   // the connection may carry another request
  Response response;
};

}  // namespace

absl::Status HttpClientOptions::validate() const {
  for (otlp::Signal signal : otlp::kAllSignals) {
    absl::StatusOr<internal::Url> url = signal_url(*this, signal);
    if (!url.ok()) return url.status();
  }
  if (absl::Status s = tls.validate(); !s.ok()) return s;
  if (timeout.count() <= 0) return absl::InvalidArgumentError("timeout: must be positive");
  if (idle_connection_timeout.count() < 0) {
    return absl::InvalidArgumentError("idle_conn_timeout: negative");
  }
  if (max_response_body_bytes == 0) {
    return absl::InvalidArgumentError("max_response_body_bytes: must be positive");
  }
  return internal::check_header_fields(headers);
}

struct HttpExporterClient::Impl {
  explicit Impl(HttpClientOptions o) : options(std::move(o)) {
    config_status = options.validate();
    if (!config_status.ok()) return;
    bool https = false;
    for (otlp::Signal signal : otlp::kAllSignals) {
      urls[signal_index(signal)] = *signal_url(options, signal);
      https = https || urls[signal_index(signal)].scheme == "https";
    }
    if (!https) return;
    absl::StatusOr<SslContextPtr> made = internal::make_client_context(options.tls);
    if (!made.ok()) {
      config_status = made.status();
      return;
    }
    // Asio's context takes over one reference of the OpenSSL context.
    SSL_CTX_up_ref(made->get());
    tls_context.emplace(made->get());
  }

  // `owned` receives the body when it has to be transformed (JSON, compression); the request
  // then refers to it, so it must stay where it is while the request lives.
  absl::StatusOr<Request> make_request(otlp::Signal signal, std::string_view body,
                                       std::string& owned, const Headers* headers) const;
  csp::Task<Exchange> exchange(std::shared_ptr<Socket> socket, bool dial, const internal::Url& url,
                               Request& request, csp::TimePoint deadline, csp::Context ctx);
  csp::Task<Exchange> exchange_steps(const std::shared_ptr<Socket>& socket, bool dial,
                                     const internal::Url& url, Request& request,
                                     csp::TimePoint deadline);

  // Poller thread: puts a TLS stream over the connected socket, set to verify the server's
  // name (the override, or the URL's host).
  ErrorCode start_tls(ClientStream& s, const internal::Url& url);
  std::shared_ptr<Socket> take_idle(const std::string& key);
  void put_idle(const std::string& key, std::shared_ptr<Socket> socket);

  struct Idle {
    std::shared_ptr<Socket> socket;
    csp::TimePoint since;
  };

  const HttpClientOptions options;
  absl::Status config_status;
  std::array<internal::Url, 4> urls;              // by signal
  std::optional<asio::ssl::context> tls_context;  // when some URL is https

  mutable std::mutex mu;                          // guards pool
  std::map<std::string, std::vector<Idle>> pool;  // host:port → idle connections, newest last
  std::atomic<std::uint64_t> dialed{0};
};

absl::StatusOr<Request> HttpExporterClient::Impl::make_request(otlp::Signal signal,
                                                               std::string_view body,
                                                               std::string& owned,
                                                               const Headers* headers) const {
  const bool json = options.encoding == HttpEncoding::kJson;
  if (json) {
    google::protobuf::Arena arena;
    google::protobuf::Message* message = otlp::new_request(signal, &arena);
    if (absl::Status decoded = otlp::decode_binary(body, *message); !decoded.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot re-encode the request as JSON: ", decoded.message()));
    }
    owned.clear();
    otlp::encode_json_append(*message, owned);
    body = owned;
  }
  if (options.compression != otlp::Compression::kNone) {
    absl::StatusOr<std::string> compressed = otlp::compress(options.compression, body);
    if (!compressed.ok()) return compressed.status();
    owned = *std::move(compressed);
    body = owned;
  }
  const internal::Url& url = urls[signal_index(signal)];
  Request request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host_header());
  request.set(http::field::user_agent, kUserAgent);
  request.set(http::field::content_type, json ? kJsonType : kProtobufType);
  if (options.compression != otlp::Compression::kNone) {
    request.set(http::field::content_encoding, otlp::compression_name(options.compression));
  }
  if (headers != nullptr) {
    for (const auto& [name, value] : *headers) request.set(name, value);
  } else {
    for (const auto& [name, value] : options.headers) request.set(name, value);
  }
  if (options.authorization) request.set(http::field::authorization, options.authorization());
  request.body() = http::span_body<const char>::value_type(body.data(), body.size());
  request.keep_alive(options.keep_alive);
  request.prepare_payload();
  return request;
}

ErrorCode HttpExporterClient::Impl::start_tls(ClientStream& s, const internal::Url& url) {
  s.tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(s.socket, *tls_context);
  SSL* ssl = s.tls->native_handle();
  const std::string& name =
      options.tls.server_name_override.empty() ? url.host : options.tls.server_name_override;
  ErrorCode not_ip;
  asio::ip::make_address(name, not_ip);
  const bool ip = !not_ip;
  if (!ip) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI is for names only
  if (!options.tls.insecure_skip_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (set != 1) return ErrorCode(asio::error::invalid_argument);
  }
  return ErrorCode();
}

std::shared_ptr<Socket> HttpExporterClient::Impl::take_idle(const std::string& key) {
  if (!options.keep_alive) return nullptr;
  const csp::TimePoint now = csp::Clock::now();
  std::lock_guard lock(mu);
  auto it = pool.find(key);
  if (it == pool.end()) return nullptr;
  std::vector<Idle>& idle = it->second;
  while (!idle.empty()) {
    Idle newest = std::move(idle.back());
    idle.pop_back();
    if (options.idle_connection_timeout.count() > 0 &&
        now - newest.since > options.idle_connection_timeout) {
      continue;  // older ones are older still; dropping the handle closes it
    }
    return std::move(newest.socket);
  }
  return nullptr;
}

void HttpExporterClient::Impl::put_idle(const std::string& key, std::shared_ptr<Socket> socket) {
  if (!options.keep_alive || options.max_idle_connections == 0) return;
  std::lock_guard lock(mu);
  std::vector<Idle>& idle = pool[key];
  if (idle.size() >= options.max_idle_connections) idle.erase(idle.begin());
  idle.push_back(Idle{std::move(socket), csp::Clock::now()});
}

csp::Task<Exchange> HttpExporterClient::Impl::exchange(std::shared_ptr<Socket> socket, bool dial,
                                                       const internal::Url& url, Request& request,
                                                       csp::TimePoint deadline, csp::Context ctx) {
  csp::Chan<csp::Unit> ctx_done = ctx.done();
  if (ctx_done.is_nil()) co_return co_await exchange_steps(socket, dial, url, request, deadline);
  csp::Chan<csp::Unit> finished(0);
  csp::Chan<bool> exited(1);
  csp::go(watch_cancel(ctx_done, finished, exited, socket));
  Exchange out = co_await exchange_steps(socket, dial, url, request, deadline);
  finished.close();
  std::optional<bool> cancelled = co_await exited.recv();
  out.cancelled = cancelled.value_or(false);
  if (out.cancelled) out.reusable = false;
  co_return out;
}

csp::Task<Exchange> HttpExporterClient::Impl::exchange_steps(const std::shared_ptr<Socket>& socket,
                                                             bool dial, const internal::Url& url,
                                                             Request& request,
                                                             csp::TimePoint deadline) {
  Exchange out;
  if (dial) {
    out.step = "connect";
    csp::Task<ErrorCode> connecting = internal::resolve_and_connect(
        socket, url.host, std::to_string(url.port),
        [](ClientStream& s) -> tcp::socket& { return s.socket; }, deadline);
    out.ec = co_await std::move(connecting);
    if (out.ec) co_return out;
    if (url.scheme == "https") {
      out.step = "TLS handshake";
      out.ec = co_await socket->run(
          [&](ClientStream& s, auto done) {
            if (ErrorCode ec = start_tls(s, url)) {
              done(ec);
              return;
            }
            s.tls->async_handshake(asio::ssl::stream_base::client,
                                   [&s, &out, done = std::move(done)](ErrorCode ec) mutable {
                                     // Why the certificate was refused, for the message ("unable to
                                     // get local issuer certificate", "hostname mismatch",
                                     // "certificate has expired").
                                     if (ec) {
                                       const long verify =
                                           SSL_get_verify_result(s.tls->native_handle());
                                       if (verify != X509_V_OK)
                                         out.detail = X509_verify_cert_error_string(verify);
                                     }
                                     done(ec);
                                   });
          },
          deadline);
      if (out.ec) co_return out;
    }
  }
  out.step = "write";
  out.ec = co_await socket->run(
      [&](ClientStream& s, auto done) {
        if (s.tls != nullptr) {
          http::async_write(*s.tls, request, internal::ignore_size(std::move(done)));
        } else {
          http::async_write(s.socket, request, internal::ignore_size(std::move(done)));
        }
      },
      deadline);
  if (out.ec) co_return out;
  out.step = "read";
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_response_body_bytes);
  boost::beast::flat_buffer buffer;
  out.ec = co_await socket->run(
      [&](ClientStream& s, auto done) {
        if (s.tls != nullptr) {
          http::async_read(*s.tls, buffer, parser, internal::ignore_size(std::move(done)));
        } else {
          http::async_read(s.socket, buffer, parser, internal::ignore_size(std::move(done)));
        }
      },
      deadline);
  out.answered = parser.got_some();
  if (out.ec == http::error::body_limit && parser.is_header_done()) {
    // The status line is what matters; drop the oversized body (and the connection).
    out.ec = ErrorCode();
    out.response = std::move(parser.get());
    out.response.body().clear();
    co_return out;
  }
  if (out.ec) co_return out;
  out.response = parser.release();
  out.reusable = out.response.keep_alive() && buffer.size() == 0;
  co_return out;
}

HttpExporterClient::HttpExporterClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpExporterClient::~HttpExporterClient() = default;

std::size_t HttpExporterClient::idle_connections() const {
  std::lock_guard lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& [key, idle] : impl_->pool) n += idle.size();
  return n;
}

std::uint64_t HttpExporterClient::connections_dialed() const {
  return impl_->dialed.load(std::memory_order_relaxed);
}

csp::Task<ExportResult> HttpExporterClient::export_request(otlp::Signal signal, std::string body,
                                                           csp::Context ctx) {
  co_return co_await export_borrowed(signal, body, std::move(ctx));  // body lives in this frame
}

csp::Task<ExportResult> HttpExporterClient::export_borrowed(otlp::Signal signal,
                                                            std::string_view body, csp::Context ctx,
                                                            const Headers* headers) {
  Impl& impl = *impl_;
  if (!impl.config_status.ok()) co_return ExportResult{impl.config_status};
  if (ctx.is_done()) co_return ExportResult{ctx.err()};
  std::string transformed;  // the body as sent, when it is not `body` itself
  absl::StatusOr<Request> request = impl.make_request(signal, body, transformed, headers);
  if (!request.ok()) co_return ExportResult{request.status()};

  csp::TimePoint deadline = csp::Clock::now() + impl.options.timeout;
  if (std::optional<csp::TimePoint> ctx_deadline = ctx.deadline()) {
    deadline = std::min(deadline, *ctx_deadline);
  }
  const internal::Url& url = impl.urls[signal_index(signal)];
  // Connections are pooled per scheme too: an https one cannot carry http, nor the reverse.
  const std::string key =
      absl::StrCat(url.scheme, "://", internal::format_host_port(url.host, url.port));

  Exchange exchange;
  bool written = false;  // some attempt got past connecting: the server may have the request
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::shared_ptr<Socket> socket = impl.take_idle(key);
    const bool reused = socket != nullptr;
    if (!reused) {
      socket = Socket::make();
      impl.dialed.fetch_add(1, std::memory_order_relaxed);
    }
    exchange = co_await impl.exchange(socket, !reused, url, *request, deadline, ctx);
    // Only a written request may have reached the server; connect and TLS come before.
    if (exchange.step != "connect" && exchange.step != "TLS handshake") written = true;
    if (!exchange.ec) {
      if (exchange.reusable && impl.options.keep_alive) {
        impl.put_idle(key, std::move(socket));
      } else {
        socket->abort();
      }
      break;
    }
    socket->abort();
    const bool stale = reused && !exchange.answered && !exchange.cancelled &&
                       exchange.ec != asio::error::timed_out;
    if (!stale) break;
  }

  if (exchange.cancelled || ctx.is_done()) co_return ExportResult{ctx.err()};
  if (exchange.ec == asio::error::timed_out) {
    ExportResult late{absl::DeadlineExceededError(
        absl::StrCat("OTLP/HTTP export to ", key, url.target, ": ", internal::av(exchange.step),
                     ": deadline exceeded"))};
    late.not_received = !written;
    co_return late;
  }
  if (exchange.ec) {
    ExportResult failed{absl::UnavailableError(absl::StrCat(
        "OTLP/HTTP export to ", key, url.target, ": ", internal::av(exchange.step), ": ",
        exchange.ec.message(), exchange.detail.empty() ? "" : " (" + exchange.detail + ")"))};
    // Nothing was sent if no connection could be made (on this attempt or an earlier one).
    failed.not_received = !written;
    co_return failed;
  }
  co_return result_of(signal, exchange.response);
}

}  // namespace transport
