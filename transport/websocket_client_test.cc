// WebSocketExporterClient against otlpd's own server (HttpServer with WebSocket) on loopback:
// many exports pipelined on one connection, both encodings, with and without deflate, how
// refusals and a refused upgrade read, a connection lost with requests in flight, and dialing
// again after the server went away.

#include "transport/websocket_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "csp/scheduler.h"
#include "csp/wait_group.h"
#include "transport/http_server.h"
#include "transport/internal/websocket_frame.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class WebSocketClientTest : public ::testing::Test {
 protected:
  int start(HttpServerOptions options = {}, ExportHandler handler = {}) {
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options, handler ? handler : recorder_.handler());
    absl::StatusOr<int> port = server_->start();
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.value_or(0);
    return port_;
  }

  WebSocketClientOptions client_options() const {
    WebSocketClientOptions o;
    o.endpoint = "ws://127.0.0.1:" + std::to_string(port_);
    o.timeout = 20s;
    return o;
  }

  static ExportResult send(WebSocketExporterClient& client, otlp::Signal signal,
                           const std::string& body) {
    return csp::block_on(client.export_borrowed(signal, body, csp::Context::background()));
  }

  void expect_refusals_read(const WebSocketClientOptions& options);

  testing::RecordingHandler recorder_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(WebSocketClientTest, ManyConcurrentExportsShareOneConnectionAndAllArrive) {
  start();
  WebSocketExporterClient client(client_options());
  constexpr int kExports = 200;
  std::vector<std::string> bodies;
  for (int i = 0; i < kExports; ++i)
    bodies.push_back(testing::request_bytes(otlp::Signal::kLogs, i));
  std::atomic<int> ok{0};
  csp::WaitGroup done;
  done.add(kExports);
  for (int i = 0; i < kExports; ++i) {
    csp::go([&, i]() -> csp::Task<void> {
      ExportResult r = co_await client.export_borrowed(otlp::Signal::kLogs, bodies[i],
                                                       csp::Context::background());
      if (r.status.ok()) ok.fetch_add(1);
      done.done();
    });
  }
  done.wait_blocking();
  EXPECT_EQ(ok.load(), kExports);
  EXPECT_EQ(client.connections_dialed(), 1u);
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kExports));
  // Each body arrived exactly once.
  std::multiset<std::string> sent(bodies.begin(), bodies.end());
  for (const ExportRequest& r : got) {
    EXPECT_EQ(r.signal, otlp::Signal::kLogs);
    auto it = std::find_if(sent.begin(), sent.end(), [&](const std::string& b) {
      return testing::same_request(otlp::Signal::kLogs, r.body, b);
    });
    ASSERT_NE(it, sent.end());
    sent.erase(it);
  }
}

TEST_F(WebSocketClientTest, EveryEncodingAndCompressionDeliversTheSameRequest) {
  start();
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    for (bool compression : {true, false}) {
      WebSocketClientOptions o = client_options();
      o.encoding = encoding;
      o.compression = compression;
      WebSocketExporterClient client(o);
      for (otlp::Signal signal : otlp::kAllSignals) {
        const std::string body = testing::request_bytes(signal, 11);
        ExportResult r = send(client, signal, body);
        ASSERT_TRUE(r.status.ok()) << r.status;
        std::vector<ExportRequest> got = recorder_.requests();
        EXPECT_EQ(got.back().signal, signal);
        EXPECT_TRUE(testing::same_request(signal, got.back().body, body));
      }
      EXPECT_EQ(client.connections_dialed(), 4u);  // one per signal
    }
  }
}

TEST_F(WebSocketClientTest, RefusalsAndPartialSuccessReadAsTheServerMeantThem) {
  start();
  for (HttpEncoding encoding : {HttpEncoding::kProto, HttpEncoding::kJson}) {
    SCOPED_TRACE(encoding == HttpEncoding::kJson ? "json" : "proto");
    WebSocketClientOptions o = client_options();
    o.encoding = encoding;
    expect_refusals_read(o);
  }
}

void WebSocketClientTest::expect_refusals_read(const WebSocketClientOptions& options) {
  WebSocketExporterClient client(options);
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 2);
  ExportResult partial;
  partial.rejected_items = 3;
  partial.partial_message = "three spans too old";
  recorder_.set_result(partial);
  ExportResult r = send(client, otlp::Signal::kTraces, body);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.rejected_items, 3);
  EXPECT_EQ(r.partial_message, "three spans too old");

  ExportResult refused{absl::UnavailableError("pipeline is full")};
  refused.retry_after = 2s;
  recorder_.set_result(refused);
  r = send(client, otlp::Signal::kTraces, body);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("pipeline is full"));
  EXPECT_EQ(r.retry_after, std::optional<std::chrono::milliseconds>(2s));
  EXPECT_TRUE(r.not_received);

  recorder_.set_result(ExportResult{absl::InvalidArgumentError("no")});
  EXPECT_EQ(send(client, otlp::Signal::kTraces, body).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.connections_dialed(), 1u);
}

TEST_F(WebSocketClientTest, ARefusedUpgradeSaysWhy) {
  HttpServerOptions options;
  options.authenticate = [](std::string_view authorization) {
    return authorization == "Bearer right";
  };
  start(options);
  WebSocketClientOptions o = client_options();
  o.authorization = [] { return std::string("Bearer wrong"); };
  {
    WebSocketExporterClient client(o);
    ExportResult r =
        send(client, otlp::Signal::kTraces, testing::request_bytes(otlp::Signal::kTraces));
    EXPECT_EQ(r.status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(r.status.message()), HasSubstr("401"));
    EXPECT_TRUE(r.not_received);
  }
  o.authorization = [] { return std::string("Bearer right"); };
  WebSocketExporterClient client(o);
  EXPECT_TRUE(send(client, otlp::Signal::kTraces, testing::request_bytes(otlp::Signal::kTraces))
                  .status.ok());
}

TEST_F(WebSocketClientTest, AnAnswerLostWithTheConnectionIsRetryableAndNotCountedAsUnsent) {
  testing::GatedHandler gate;
  start({}, gate.handler());
  WebSocketExporterClient client(client_options());
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 9);
  std::optional<ExportResult> result;
  std::thread exporter([&] { result = send(client, otlp::Signal::kTraces, body); });
  ASSERT_TRUE(gate.entered.recv_blocking().has_value());  // the server holds it
  // The server goes away at once: the request was received, its answer never comes.
  std::thread stopper([&] { server_->shutdown(csp::Clock::now()); });
  exporter.join();
  gate.release.close();
  stopper.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(result->not_received);  // it may have been kept: the exporter retries it

  // Nobody listens now: the dial fails, and the next export within the back-off fails at once.
  ExportResult refused = send(client, otlp::Signal::kTraces, body);
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(refused.not_received);
}

// A server that breaks the protocol: it answers the upgrade as `handshake` says, then writes
// `after` once the client's first frame has arrived. Plain POSIX sockets on a thread.
class MisbehavingServer {
 public:
  MisbehavingServer(std::function<std::string(const std::string& key)> handshake, std::string after)
      : handshake_(std::move(handshake)), after_(std::move(after)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 4);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~MisbehavingServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  void serve() {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    const std::size_t at = request.find("Sec-WebSocket-Key: ");
    const std::string key =
        at == std::string::npos ? "" : request.substr(at + 19, request.find("\r\n", at) - at - 19);
    const std::string answer = handshake_(key);
    ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    if (::recv(fd, buf, sizeof buf, 0) > 0) {  // the client's request frame
      ::send(fd, after_.data(), after_.size(), MSG_NOSIGNAL);
    }
    ::recv(fd, buf, sizeof buf, 0);  // until the client gives up
    ::close(fd);
  }

  std::function<std::string(const std::string&)> handshake_;
  std::string after_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string good_handshake(const std::string& key) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         internal::websocket::accept_key(key) + "\r\n\r\n";
}

TEST_F(WebSocketClientTest, AServerThatBreaksTheProtocolFailsTheExportAndIsNotTrusted) {
  namespace ws = internal::websocket;
  struct Case {
    const char* what;
    std::function<std::string(const std::string&)> handshake;
    std::string after;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"a masked answer", good_handshake,
       ws::encode_frame(ws::Opcode::kBinary, "", true, false, ws::new_mask()),
       "server frame masked"},
      {"a wrong accept key",
       [](const std::string&) {
         return std::string(
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
             "Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n");
       },
       "", "not a WebSocket handshake"},
      {"an answer over the limit", good_handshake,
       ws::encode_frame_header(ws::Opcode::kBinary, kMaxWebSocketAnswerBytes + 1, true, false,
                               std::nullopt),
       "an answer over"},
      {"a continuation without a message", good_handshake,
       ws::encode_frame(ws::Opcode::kContinuation, ""), "stray continuation"},
      {"an extension nobody offered",
       [](const std::string& key) {
         return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                "Upgrade\r\nSec-WebSocket-Extensions: x-unknown\r\nSec-WebSocket-Accept: " +
                internal::websocket::accept_key(key) + "\r\n\r\n";
       },
       "", "did not offer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    MisbehavingServer server(c.handshake, c.after);
    WebSocketClientOptions o;
    o.endpoint = "ws://127.0.0.1:" + std::to_string(server.port());
    o.timeout = 20s;
    WebSocketExporterClient client(o);
    ExportResult r =
        send(client, otlp::Signal::kTraces, testing::request_bytes(otlp::Signal::kTraces));
    EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
    EXPECT_THAT(std::string(r.status.message()), HasSubstr(c.says));
  }
}

TEST_F(WebSocketClientTest, BadOptionsAreReportedByEveryExport) {
  WebSocketClientOptions o;
  o.endpoint = "http://127.0.0.1:1";
  WebSocketExporterClient client(o);
  ExportResult r = send(client, otlp::Signal::kLogs, "");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("ws://"));
  o.endpoint = "ws://127.0.0.1:1";
  o.window = 0;
  EXPECT_THAT(std::string(o.validate().message()), HasSubstr("window"));
}

}  // namespace
}  // namespace transport
