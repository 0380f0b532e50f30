// HttpExporterClient against HttpServer (round trips, keep-alive, refusals, timeouts,
// cancellation) and against a canned raw server (headers on the wire, answers our server never
// gives: 502/504, text bodies, odd Retry-After values).

#include "transport/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <thread>

#include "csp/context.h"
#include "csp/internal/test_util.h"
#include "csp/scheduler.h"
#include "csp/wait_group.h"
#include "otlp/compression.h"
#include "otlp/json_codec.h"
#include "transport/http_server.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"
#include "transport/testing/test_pki.h"

namespace transport {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

ExportResult export_blocking(HttpExporterClient& client, otlp::Signal signal, std::string body,
                             csp::Context ctx = csp::Context::background()) {
  return csp::block_on(client.export_request(signal, std::move(body), ctx));
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(recorder_.handler()); }

  void start_server(ExportHandler handler, HttpServerOptions options = {}) {
    options.endpoint = "127.0.0.1:" + std::to_string(port_);  // 0 the first time
    server_ = std::make_unique<HttpServer>(options, std::move(handler));
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  HttpClientOptions client_options(HttpEncoding encoding = HttpEncoding::kProto,
                                   otlp::Compression compression = otlp::Compression::kGzip) {
    HttpClientOptions options;
    options.endpoint = base_url();
    options.encoding = encoding;
    options.compression = compression;
    return options;
  }

  testing::RecordingHandler recorder_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpClientTest, EverySignalEncodingAndCompressionRoundTrips) {
  std::size_t sent = 0;
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    for (otlp::Compression compression : {otlp::Compression::kNone, otlp::Compression::kGzip,
                                          otlp::Compression::kDeflate, otlp::Compression::kZstd}) {
      HttpExporterClient client(client_options(encoding, compression));
      for (otlp::Signal signal : otlp::kAllSignals) {
        const std::string body = testing::request_bytes(signal, 31);
        ExportResult result = export_blocking(client, signal, body);
        EXPECT_TRUE(result.status.ok()) << result.status;
        EXPECT_EQ(result.rejected_items, 0);
        ASSERT_EQ(recorder_.count(), ++sent);
        const ExportRequest got = recorder_.requests().back();
        EXPECT_EQ(got.signal, signal);
        EXPECT_TRUE(testing::same_request(signal, got.body, body));
        if (encoding == HttpEncoding::kProto) {
          EXPECT_EQ(got.body, body);
        }
      }
    }
  }
}

// A lent body goes out as is (or re-encoded / compressed from it), and is the caller's again
// when the export returns.
TEST_F(HttpClientTest, ALentBodyIsSentInPlaceInEveryEncoding) {
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += testing::request_bytes(otlp::Signal::kTraces, 20);
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    for (otlp::Compression compression : {otlp::Compression::kNone, otlp::Compression::kZstd}) {
      HttpExporterClient client(client_options(encoding, compression));
      auto body = std::make_unique<std::string>(expected);
      ExportResult result = csp::block_on(
          client.export_borrowed(otlp::Signal::kTraces, *body, csp::Context::background()));
      EXPECT_TRUE(result.status.ok()) << result.status;
      body->assign(body->size(), 'x');
    }
  }
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 4u);
  for (const ExportRequest& r : got) EXPECT_EQ(r.body, expected);
}

// include_metadata on the server hands the request's header fields (names in lower case) and
// the client's address to the handler; a per-request header list replaces the options'
// headers for that request only.
TEST_F(HttpClientTest, PerRequestHeadersReachAServerThatIncludesMetadata) {
  HttpServerOptions server;
  server.include_metadata = true;
  port_ = 0;
  start_server(recorder_.handler(), server);
  HttpClientOptions options = client_options();
  options.headers = {{"X-Static", "s"}, {"X-Tenant", "default"}};
  HttpExporterClient client(options);
  const std::string body = testing::request_bytes(otlp::Signal::kLogs, 3);
  const Headers per_request = {{"X-Tenant", "acme"}};
  ExportResult result = csp::block_on(
      client.export_borrowed(otlp::Signal::kLogs, body, csp::Context::background(), &per_request));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_TRUE(export_blocking(client, otlp::Signal::kLogs, body).status.ok());
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 2u);
  const auto value_of = testing::metadata_values;
  EXPECT_THAT(value_of(got[0], "x-tenant"), ::testing::ElementsAre("acme"));
  EXPECT_TRUE(value_of(got[0], "x-static").empty()) << "replaced by the per-request list";
  EXPECT_THAT(value_of(got[0], "content-type"), ::testing::ElementsAre("application/x-protobuf"));
  EXPECT_THAT(value_of(got[1], "x-tenant"), ::testing::ElementsAre("default"));
  EXPECT_THAT(value_of(got[1], "x-static"), ::testing::ElementsAre("s"));
  EXPECT_THAT(got[0].peer, StartsWith("127.0.0.1:"));
}

TEST_F(HttpClientTest, WithoutIncludeMetadataTheHandlerSeesNoHeaders) {
  HttpClientOptions options = client_options();
  options.headers = {{"X-Tenant", "acme"}};
  HttpExporterClient client(options);
  ASSERT_TRUE(
      export_blocking(client, otlp::Signal::kLogs, testing::request_bytes(otlp::Signal::kLogs, 1))
          .status.ok());
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_TRUE(recorder_.requests()[0].metadata.empty());
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  HttpExporterClient client(client_options());
  for (int i = 0; i < 10; ++i) {
    ExportResult result = export_blocking(client, otlp::kAllSignals[i % 4], "");
    ASSERT_TRUE(result.status.ok()) << result.status;
  }
  EXPECT_EQ(client.connections_dialed(), 1u);
  EXPECT_EQ(client.idle_connections(), 1u);

  HttpClientOptions options = client_options();
  options.keep_alive = false;
  HttpExporterClient one_shot(options);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(export_blocking(one_shot, otlp::Signal::kLogs, "").status.ok());
  EXPECT_EQ(one_shot.connections_dialed(), 3u);
  EXPECT_EQ(one_shot.idle_connections(), 0u);
}

TEST_F(HttpClientTest, ManyConcurrentExportsFromGoroutines) {
  // The server's accept loop is the one goroutine alive when the test starts.
  ASSERT_EQ(csp::testing::settle_live_goroutines(1), 1);
  {
    HttpExporterClient client(client_options());
    constexpr int kExports = 48;
    std::atomic<int> ok{0};
    csp::WaitGroup done;
    done.add(kExports);
    for (int i = 0; i < kExports; ++i) {
      csp::go([&, i]() -> csp::Task<void> {
        const otlp::Signal signal = otlp::kAllSignals[i % 4];
        // Arguments bound to locals first: no class prvalues in a co_await operand (g++ 12).
        std::string body = testing::request_bytes(signal, i);
        csp::Context ctx = csp::Context::background();
        ExportResult r = co_await client.export_request(signal, std::move(body), ctx);
        if (r.status.ok()) ++ok;
        done.done();
      });
    }
    done.wait_blocking();
    EXPECT_EQ(ok.load(), kExports);
    EXPECT_LE(client.connections_dialed(), static_cast<std::uint64_t>(kExports));
    EXPECT_EQ(client.idle_connections(), client.connections_dialed());
  }
  // The client closed its pooled connections, so the server's connection goroutines ended too:
  // only the accept loop is left, as before.
  EXPECT_EQ(csp::testing::settle_live_goroutines(1), 1);
}

TEST_F(HttpClientTest, PartialSuccessIsReportedInBothEncodings) {
  recorder_.set_result(ExportResult{absl::OkStatus(), std::nullopt, 4, "four rejected"});
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    HttpExporterClient client(client_options(encoding));
    for (otlp::Signal signal : otlp::kAllSignals) {
      ExportResult result = export_blocking(client, signal, "");
      ASSERT_TRUE(result.status.ok()) << result.status;
      EXPECT_EQ(result.rejected_items, 4);
      EXPECT_EQ(result.partial_message, "four rejected");
    }
  }
}

TEST_F(HttpClientTest, RetryableRefusalsCarryRetryAfter) {
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    HttpExporterClient client(client_options(encoding));
    recorder_.set_result(ExportResult{absl::UnavailableError("queue full"), 1500ms});
    ExportResult unavailable = export_blocking(client, otlp::Signal::kTraces, "");
    EXPECT_EQ(unavailable.status,
              absl::UnavailableError("HTTP 503 Service Unavailable: queue full"));
    EXPECT_EQ(unavailable.retry_after, 2000ms);  // Retry-After is whole seconds
    EXPECT_TRUE(unavailable.not_received) << "the server answered";

    recorder_.set_result(ExportResult{absl::ResourceExhaustedError("memory limit"), 3000ms});
    ExportResult throttled = export_blocking(client, otlp::Signal::kTraces, "");
    EXPECT_EQ(throttled.status,
              absl::ResourceExhaustedError("HTTP 429 Too Many Requests: memory limit"));
    EXPECT_EQ(throttled.retry_after, 3000ms);

    recorder_.set_result(ExportResult{absl::PermissionDeniedError("not yours")});
    ExportResult denied = export_blocking(client, otlp::Signal::kTraces, "");
    EXPECT_EQ(denied.status, absl::PermissionDeniedError("HTTP 403 Forbidden: not yours"));
    EXPECT_EQ(denied.retry_after, std::nullopt);
    EXPECT_TRUE(denied.not_received);
  }
}

TEST_F(HttpClientTest, ServerRefusalOfMalformedDataIsInvalidArgument) {
  HttpExporterClient proto(client_options());
  const std::string garbage = "\x0a\x05\x0a\x03\xff\xff";
  ExportResult result = export_blocking(proto, otlp::Signal::kMetrics, garbage);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status.message(),
            "HTTP 400 Bad Request: " + testing::invalid_message(otlp::Signal::kMetrics, garbage));

  // With JSON the client must decode first, so it refuses before sending anything.
  HttpExporterClient json(client_options(HttpEncoding::kJson));
  ExportResult local = export_blocking(json, otlp::Signal::kMetrics, garbage);
  EXPECT_EQ(local.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(local.status.message()),
              StartsWith("cannot re-encode the request as JSON: "));
  EXPECT_EQ(recorder_.count(), 0u);
  EXPECT_EQ(json.connections_dialed(), 0u);
}

TEST_F(HttpClientTest, PerSignalUrlsOverrideTheBase) {
  HttpServerOptions options;
  options.traces_path = "/custom/spans";
  server_->shutdown();
  port_ = 0;  // a new port: the old one may be taken by another test meanwhile
  start_server(recorder_.handler(), options);
  HttpClientOptions client_opts = client_options();
  client_opts.endpoint = base_url() + "/";  // a trailing slash is fine
  client_opts.traces_endpoint = base_url() + "/custom/spans";
  HttpExporterClient client(client_opts);
  EXPECT_TRUE(export_blocking(client, otlp::Signal::kTraces, "").status.ok());
  EXPECT_TRUE(export_blocking(client, otlp::Signal::kLogs, "").status.ok());
  HttpExporterClient wrong(client_options());
  ExportResult missing = export_blocking(wrong, otlp::Signal::kTraces, "");
  EXPECT_EQ(missing.status, absl::NotFoundError("HTTP 404 Not Found: 404 page not found"));
}

TEST_F(HttpClientTest, AConnectionTheServerClosedWhileIdleIsReplacedTransparently) {
  HttpExporterClient client(client_options());
  ASSERT_TRUE(export_blocking(client, otlp::Signal::kTraces, "").status.ok());
  ASSERT_EQ(client.idle_connections(), 1u);
  // A new server on the same port; the pooled connection belonged to the old one.
  server_->shutdown();
  start_server(recorder_.handler());
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(client.connections_dialed(), 2u);
  EXPECT_EQ(recorder_.count(), 2u);
}

TEST_F(HttpClientTest, UnreachableServerIsUnavailable) {
  server_->shutdown();
  HttpExporterClient client(client_options());
  ExportResult result = export_blocking(client, otlp::Signal::kLogs, "");
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.status.message(),
            "OTLP/HTTP export to http://127.0.0.1:" + std::to_string(port_) +
                "/v1/logs: connect: Connection refused");
  EXPECT_TRUE(result.not_received) << "nothing was sent";
}

// The pooled connection's server is gone and so is the port: the first attempt went out on the
// old connection (the server might have taken it), so the refused reconnect does not make the
// outcome certain.
TEST_F(HttpClientTest, ARefusedReconnectAfterAWrittenAttemptIsNotCertain) {
  HttpExporterClient client(client_options());
  ASSERT_TRUE(export_blocking(client, otlp::Signal::kTraces, "").status.ok());
  ASSERT_EQ(client.idle_connections(), 1u);
  server_->shutdown();
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable) << result.status;
  EXPECT_FALSE(result.not_received) << result.status;
}

TEST_F(HttpClientTest, TimeoutIsDeadlineExceeded) {
  testing::GatedHandler gate;
  server_->shutdown();
  start_server(gate.handler());
  HttpClientOptions options = client_options();
  options.timeout = 100ms;
  HttpExporterClient client(options);
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded) << result.status;
  EXPECT_THAT(std::string(result.status.message()), HasSubstr("read: deadline exceeded"));
  EXPECT_FALSE(result.not_received) << "the server has the request";
  EXPECT_EQ(client.idle_connections(), 0u);
  ASSERT_TRUE(gate.entered.recv_blocking().has_value());
  gate.release.send_blocking(ExportResult{});
}

TEST_F(HttpClientTest, CancellingTheContextAbortsTheExport) {
  testing::GatedHandler gate;
  server_->shutdown();
  start_server(gate.handler());
  HttpExporterClient client(client_options());
  auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
  std::thread canceller([&, cancel = cancel] {
    gate.entered.recv_blocking();
    cancel();
  });
  ExportResult result = export_blocking(client, otlp::Signal::kMetrics, "", ctx);
  canceller.join();
  EXPECT_EQ(result.status, ctx.err());
  EXPECT_EQ(result.status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(client.idle_connections(), 0u);
  gate.release.send_blocking(ExportResult{});
}

// TLS end to end in a binary without the gRPC suppressions, so ThreadSanitizer checks our TLS
// code (TlsIo on the server, the https client) with nothing hidden: concurrent exports from
// goroutines that move between workers, over kept-alive and new connections, under mutual TLS.
TEST_F(HttpClientTest, HttpsWithMutualTlsCarriesConcurrentExports) {
  char pattern[] = "/tmp/otlpd-https-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  testing::TestPki pki(dir);
  const testing::PemFiles ca = pki.make_ca("ca");
  const testing::PemFiles server = pki.make_leaf("server", {.ca = "ca"});
  const testing::PemFiles client = pki.make_leaf("client", {.ca = "ca"});
  TlsServerOptions tls;
  tls.cert_file = server.cert;
  tls.key_file = server.key;
  tls.client_ca_file = ca.cert;
  HttpServerOptions options;
  options.tls = *ServerTls::load(tls);
  server_->shutdown();
  start_server(recorder_.handler(), options);

  HttpClientOptions o = client_options();
  o.endpoint = "https://localhost:" + std::to_string(port_);
  o.tls.ca_file = ca.cert;
  o.tls.cert_file = client.cert;
  o.tls.key_file = client.key;
  HttpExporterClient https(o);
  constexpr int kExports = 24;
  csp::WaitGroup wg;
  wg.add(kExports);
  std::atomic<int> ok{0};
  for (int i = 0; i < kExports; ++i) {
    csp::go([](HttpExporterClient* c, int i, std::atomic<int>* ok,
               csp::WaitGroup* wg) -> csp::Task<void> {
      const std::string body = testing::request_bytes(otlp::Signal::kTraces, 500 + i);
      csp::Task<ExportResult> call =
          c->export_request(otlp::Signal::kTraces, body, csp::Context::background());
      ExportResult r = co_await std::move(call);
      if (r.status.ok()) ok->fetch_add(1);
      wg->done();
    }(&https, i, &ok, &wg));
  }
  wg.wait_blocking();
  EXPECT_EQ(ok.load(), kExports);
  EXPECT_EQ(recorder_.count(), static_cast<std::size_t>(kExports));
  EXPECT_LT(https.connections_dialed(), static_cast<std::uint64_t>(kExports) + 1);
  std::filesystem::remove_all(dir);
}

TEST_F(HttpClientTest, BadOptionsFailEveryExport) {
  HttpClientOptions https = client_options();
  https.endpoint = "https://collector:4318";
  https.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_TRUE(https.validate().ok());  // the file is read by the client
  HttpExporterClient client(https);
  EXPECT_EQ(export_blocking(client, otlp::Signal::kTraces, "").status.code(),
            absl::StatusCode::kInvalidArgument);

  HttpClientOptions none;
  EXPECT_EQ(none.validate().message(), "endpoint: must be set (or traces_endpoint)");
  none.traces_endpoint = "http://a:1/t";
  none.metrics_endpoint = "http://a:1/m";
  none.logs_endpoint = "http://a:1/l";
  none.profiles_endpoint = "http://a:1/p";
  EXPECT_TRUE(none.validate().ok());

  HttpClientOptions header = client_options();
  header.headers = {{"X-Evil", "a\r\nInjected: yes"}};
  EXPECT_EQ(header.validate().message(), "headers: invalid character in the value of \"X-Evil\"");
  HttpClientOptions name = client_options();
  name.headers = {{"Bad Name", "x"}};
  EXPECT_EQ(name.validate().message(), "headers: invalid character in header name \"Bad Name\"");
}

// A blocking HTTP server on its own thread that records each request and answers with the next
// canned response; it serves exactly `answers.size()` requests.
class CannedServer {
 public:
  explicit CannedServer(std::vector<std::string> answers)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        answers_(std::move(answers)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() { join(); }
  int port() const { return port_; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // Read only after join().
  std::vector<boost::beast::http::request<boost::beast::http::string_body>> requests;

 private:
  void serve() {
    namespace http = boost::beast::http;
    std::size_t next = 0;
    while (next < answers_.size()) {
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket);
      boost::beast::flat_buffer buffer;
      while (next < answers_.size()) {
        http::request<http::string_body> request;
        boost::system::error_code ec;
        http::read(socket, buffer, request, ec);
        if (ec) break;
        requests.push_back(std::move(request));
        boost::asio::write(socket, boost::asio::buffer(answers_[next++]), ec);
        if (ec) break;
      }
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::string> answers_;
  int port_ = 0;
  std::thread thread_;
};

std::string answer(std::string_view status_line, std::string_view headers, std::string_view body) {
  return std::string(status_line) + "\r\n" + std::string(headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(HttpClientWire, RequestsCarryTheConfiguredHeadersAndAnswersAreMapped) {
  {
    CannedServer server({
        answer("HTTP/1.1 200 OK", "Content-Type: application/json\r\n",
               R"({"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"two"}})"),
        answer("HTTP/1.1 502 Bad Gateway", "Retry-After: 7\r\nContent-Type: text/plain\r\n",
               "upstream is down\n"),
        answer("HTTP/1.1 504 Gateway Timeout", "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n",
               ""),
        answer("HTTP/1.1 500 Internal Server Error", "Content-Type: application/json\r\n",
               R"({"code":13,"message":"oops"})"),
        answer("HTTP/1.1 200 OK", "Content-Type: application/x-protobuf\r\n", "\xff\xff"),
    });
    HttpClientOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(server.port()) + "/base";
    options.compression = otlp::Compression::kZstd;
    options.headers = {{"Authorization", "Bearer t0ken"}, {"X-Tenant", "blue"}};
    HttpExporterClient client(options);
    const std::string body = testing::request_bytes(otlp::Signal::kLogs, 3);

    ExportResult ok = export_blocking(client, otlp::Signal::kLogs, body);
    EXPECT_TRUE(ok.status.ok()) << ok.status;
    EXPECT_EQ(ok.rejected_items, 2);
    EXPECT_EQ(ok.partial_message, "two");

    ExportResult bad_gateway = export_blocking(client, otlp::Signal::kLogs, body);
    EXPECT_EQ(bad_gateway.status, absl::UnavailableError("HTTP 502 Bad Gateway: upstream is down"));
    EXPECT_EQ(bad_gateway.retry_after, 7000ms);

    ExportResult timeout = export_blocking(client, otlp::Signal::kLogs, body);
    EXPECT_EQ(timeout.status, absl::UnavailableError("HTTP 504 Gateway Timeout"));
    EXPECT_EQ(timeout.retry_after, std::nullopt);  // HTTP-dates are not honoured

    ExportResult internal = export_blocking(client, otlp::Signal::kLogs, body);
    EXPECT_EQ(internal.status, absl::InternalError("HTTP 500 Internal Server Error: oops"));

    // A success whose body we cannot read is still a success.
    ExportResult unreadable = export_blocking(client, otlp::Signal::kLogs, body);
    EXPECT_TRUE(unreadable.status.ok());
    EXPECT_EQ(client.connections_dialed(), 1u);
  }
}

TEST(HttpClientWire, TheRequestOnTheWire) {
  namespace http = boost::beast::http;
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    CannedServer server({answer("HTTP/1.1 200 OK", "", "")});
    HttpClientOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(server.port()) + "/base/";
    options.encoding = encoding;
    options.compression = otlp::Compression::kZstd;
    options.headers = {{"Authorization", "Bearer t0ken"}, {"X-Tenant", "blue"}};
    HttpExporterClient client(options);
    const std::string body = testing::request_bytes(otlp::Signal::kProfiles, 3);
    ASSERT_TRUE(export_blocking(client, otlp::Signal::kProfiles, body).status.ok());
    server.join();
    ASSERT_EQ(server.requests.size(), 1u);
    const auto& r = server.requests[0];
    EXPECT_EQ(r.method(), http::verb::post);
    EXPECT_EQ(r.target(), "/base/v1development/profiles");
    EXPECT_EQ(r[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(r[http::field::user_agent], "otlpd/0.1.0");
    EXPECT_EQ(r[http::field::content_encoding], "zstd");
    EXPECT_EQ(r["Authorization"], "Bearer t0ken");
    EXPECT_EQ(r["X-Tenant"], "blue");
    absl::StatusOr<std::string> plain =
        otlp::decompress(otlp::Compression::kZstd, std::string(r.body()));
    ASSERT_TRUE(plain.ok()) << plain.status();
    if (encoding == HttpEncoding::kProto) {
      EXPECT_EQ(r[http::field::content_type], "application/x-protobuf");
      EXPECT_EQ(*plain, body);
    } else {
      EXPECT_EQ(r[http::field::content_type], "application/json");
      otlp::ProfilesRequest decoded;
      ASSERT_TRUE(otlp::decode_json(*plain, decoded).ok());
      EXPECT_TRUE(
          testing::same_request(otlp::Signal::kProfiles, decoded.SerializeAsString(), body));
    }
  }
}

}  // namespace
}  // namespace transport
