// OTLP over WebSocket on the HTTP receiver, against a raw client (testing/raw_websocket.h) that
// sends exactly the bytes a test gives it: the handshake and its refusals, both encodings,
// answers in order under pipelining, the window, fragmentation and control frames, deflate,
// every protocol error with its close code, memory refusals, keep-alive, idle, a client that
// never reads, and shutdown with requests in flight.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "csp/timer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/json_codec.h"
#include "otlp/testing/random_requests.h"
#include "transport/http_server.h"
#include "transport/internal/websocket_frame.h"
#include "transport/testing/raw_websocket.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using ::testing::HasSubstr;
using testing::RawResponse;
using testing::RawWebSocket;
using testing::WsFrame;
using testing::WsOpcode;
using namespace std::chrono_literals;
namespace ws = internal::websocket;
using TraceResponse = opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

// An answer decoded as the contract says: a google.rpc.Status whose code is not 0 is a refusal;
// otherwise the same bytes are the Export*ServiceResponse.
struct Answer {
  google::rpc::Status status;
  TraceResponse response;
};

Answer decode_answer(const WsFrame& frame) {
  Answer answer;
  if (frame.opcode == WsOpcode::kText) {
    // Unknown fields are skipped either way: each decode takes what it knows.
    EXPECT_TRUE(otlp::decode_json(frame.payload, answer.status).ok() || answer.status.code() == 0)
        << frame.payload;
    if (answer.status.code() == 0) {
      EXPECT_TRUE(otlp::decode_json(frame.payload, answer.response).ok()) << frame.payload;
    }
  } else {
    EXPECT_EQ(frame.opcode, WsOpcode::kBinary);
    EXPECT_TRUE(answer.status.ParseFromString(frame.payload));
    if (answer.status.code() == 0) {
      EXPECT_TRUE(answer.response.ParseFromString(frame.payload));
    }
  }
  return answer;
}

std::string json_request(otlp::Signal signal, std::uint64_t seed) {
  return *otlp::encode_json(*otlp::testing::random_request(signal, seed));
}

class WebSocketServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}, ExportHandler handler = {}) {
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options, handler ? handler : recorder_.handler());
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  // A client that has completed the handshake on `path`.
  std::unique_ptr<RawWebSocket> open(const std::string& path = "/v1/traces",
                                     std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto client = std::make_unique<RawWebSocket>(port_);
    absl::StatusOr<RawResponse> answer = client->handshake(path, extra);
    EXPECT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer.ok() ? answer->status : 0, 101) << (answer.ok() ? answer->body : "");
    return client;
  }

  WsFrame read(RawWebSocket& client) {
    absl::StatusOr<WsFrame> frame = client.read_frame();
    EXPECT_TRUE(frame.ok()) << frame.status();
    return frame.ok() ? *frame : WsFrame{};
  }

  // Reads frames until the close frame and returns its code (0: the connection ended without).
  std::uint16_t close_code(RawWebSocket& client) {
    absl::StatusOr<WsFrame> close = client.read_until_close();
    return close.ok() ? close->close_code() : 0;
  }

  testing::RecordingHandler recorder_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(WebSocketServerTest, TheHandshakeAnswers101WithTheAcceptKey) {
  start();
  RawWebSocket client(port_);
  absl::StatusOr<RawResponse> answer = client.handshake("/v1/traces");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 101);
  EXPECT_EQ(answer->header("upgrade"), "websocket");
  EXPECT_EQ(answer->header("sec-websocket-accept"), ws::accept_key(client.key()));
  EXPECT_EQ(answer->header("sec-websocket-extensions"), "");  // none offered
}

TEST_F(WebSocketServerTest, BinaryAndTextMessagesReachTheHandlerAndAreAnsweredInKind) {
  start();
  for (otlp::Signal signal : otlp::kAllSignals) {
    const std::string path = signal == otlp::Signal::kTraces    ? "/v1/traces"
                             : signal == otlp::Signal::kMetrics ? "/v1/metrics"
                             : signal == otlp::Signal::kLogs    ? "/v1/logs"
                                                                : "/v1development/profiles";
    std::unique_ptr<RawWebSocket> client = open(path);
    const std::string binary = testing::request_bytes(signal, 7);
    ASSERT_TRUE(client->send_message(binary).ok());
    WsFrame first = read(*client);
    EXPECT_EQ(first.opcode, WsOpcode::kBinary);
    EXPECT_EQ(decode_answer(first).status.code(), 0);
    ASSERT_TRUE(client->send_message(json_request(signal, 8), /*text=*/true).ok());
    WsFrame second = read(*client);
    EXPECT_EQ(second.opcode, WsOpcode::kText);
    EXPECT_EQ(second.payload, "{}");
  }
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t i = 0; i < got.size(); i += 2) {
    const otlp::Signal signal = otlp::kAllSignals[i / 2];
    EXPECT_EQ(got[i].signal, signal);
    EXPECT_TRUE(testing::same_request(signal, got[i].body, testing::request_bytes(signal, 7)));
    EXPECT_TRUE(testing::same_request(signal, got[i + 1].body, testing::request_bytes(signal, 8)));
  }
}

TEST_F(WebSocketServerTest, PipelinedRequestsAreAnsweredInOrderWhateverOrderTheyFinishIn) {
  // The n-th request takes longer the earlier it came, so handlers finish in reverse; each
  // answer's rejected_items says which request it answers (known by its bytes: handlers may
  // start in any order).
  std::map<std::string, int> index;
  for (int i = 0; i < 10; ++i) index[testing::request_bytes(otlp::Signal::kTraces, i)] = i;
  ExportHandler handler = [&](ExportRequest request) -> csp::Task<ExportResult> {
    const auto found = index.find(request.body);
    const int n = found == index.end() ? -1 : found->second;
    co_await csp::sleep(std::chrono::milliseconds(5 * (10 - n)));
    ExportResult result;
    result.rejected_items = n;
    result.partial_message = "numbered";
    co_return result;
  };
  start({}, handler);
  std::unique_ptr<RawWebSocket> client = open();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces, i)).ok());
  }
  for (int i = 0; i < 10; ++i) {
    Answer answer = decode_answer(read(*client));
    EXPECT_EQ(answer.status.code(), 0);
    EXPECT_EQ(answer.response.partial_success().rejected_spans(), i);
  }
}

TEST_F(WebSocketServerTest, AFullWindowStopsReadingUntilAnAnswerGoesOut) {
  testing::GatedHandler gate;
  HttpServerOptions options;
  options.websocket.window = 2;
  start(options, gate.handler());
  std::unique_ptr<RawWebSocket> client = open();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces, i)).ok());
  }
  std::vector<ExportRequest> entered;
  for (int i = 0; i < 2; ++i) {
    std::optional<ExportRequest> request = gate.entered.recv_blocking();
    ASSERT_TRUE(request.has_value());
    entered.push_back(*std::move(request));
  }
  // Not yet: a third request is not even read while two are unanswered.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(gate.entered.size(), 0u);
  for (int i = 0; i < 5; ++i) {
    gate.release.try_send(ExportResult{});
    if (i >= 2) {
      ASSERT_TRUE(gate.entered.recv_blocking().has_value());
    }
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
}

TEST_F(WebSocketServerTest, RefusalsAreStatusesWithTheCodeAndRetryDelay) {
  start();
  ExportResult refused{absl::UnavailableError("pipeline is full")};
  refused.retry_after = 3s;
  recorder_.set_result(refused);
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  Answer answer = decode_answer(read(*client));
  EXPECT_EQ(answer.status.code(), static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_THAT(answer.status.message(), HasSubstr("pipeline is full"));
  ASSERT_EQ(answer.status.details_size(), 1);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(answer.status.details(0).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 3);

  // The same in JSON.
  ASSERT_TRUE(client->send_message(json_request(otlp::Signal::kTraces, 2), true).ok());
  WsFrame text = read(*client);
  EXPECT_EQ(text.opcode, WsOpcode::kText);
  EXPECT_THAT(text.payload, HasSubstr("\"code\":14"));
}

TEST_F(WebSocketServerTest, MessagesThatAreNotOtlpAreInvalidArgumentAndTheConnectionStays) {
  start();
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_message("\xFF\xFF\xFF not protobuf").ok());
  Answer bad = decode_answer(read(*client));
  EXPECT_EQ(bad.status.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.status.message(), HasSubstr("ExportTraceServiceRequest"));
  ASSERT_TRUE(client->send_message("{\"resourceSpans\": 7}", true).ok());
  WsFrame bad_json = read(*client);
  EXPECT_THAT(bad_json.payload, HasSubstr("\"code\":3"));
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(WebSocketServerTest, FragmentsWithControlFramesBetweenThemMakeOneMessage) {
  start();
  std::unique_ptr<RawWebSocket> client = open();
  const std::string request = testing::request_bytes(otlp::Signal::kTraces, 3);
  const std::size_t third = request.size() / 3;
  ASSERT_TRUE(client->send_frame(WsOpcode::kBinary, request.substr(0, third), false).ok());
  ASSERT_TRUE(client->send_frame(WsOpcode::kPing, "are you there").ok());
  ASSERT_TRUE(
      client->send_frame(WsOpcode::kContinuation, request.substr(third, third), false).ok());
  ASSERT_TRUE(client->send_frame(WsOpcode::kContinuation, request.substr(2 * third)).ok());
  WsFrame pong = read(*client);
  EXPECT_EQ(pong.opcode, WsOpcode::kPong);
  EXPECT_EQ(pong.payload, "are you there");
  EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_TRUE(testing::same_request(otlp::Signal::kTraces, recorder_.requests()[0].body, request));
}

TEST_F(WebSocketServerTest, ProtocolErrorsCloseWithTheirCode) {
  start();
  struct Case {
    const char* what;
    std::function<void(RawWebSocket&)> send;
    std::uint16_t code;
  };
  const std::vector<Case> cases = {
      {"unmasked frame",
       [](RawWebSocket& c) {
         ASSERT_TRUE(c.send_frame(WsOpcode::kBinary, "x", true, false, false).ok());
       },
       ws::kCloseProtocolError},
      {"RSV1 without deflate",
       [](RawWebSocket& c) { ASSERT_TRUE(c.send_frame(WsOpcode::kBinary, "x", true, true).ok()); },
       ws::kCloseProtocolError},
      {"continuation without a message",
       [](RawWebSocket& c) { ASSERT_TRUE(c.send_frame(WsOpcode::kContinuation, "x").ok()); },
       ws::kCloseProtocolError},
      {"a new message inside a message",
       [](RawWebSocket& c) {
         ASSERT_TRUE(c.send_frame(WsOpcode::kBinary, "x", false).ok());
         ASSERT_TRUE(c.send_frame(WsOpcode::kBinary, "y").ok());
       },
       ws::kCloseProtocolError},
      {"text that is not UTF-8",
       [](RawWebSocket& c) { ASSERT_TRUE(c.send_message("{\"a\":\"\xC3\x28\"}", true).ok()); },
       ws::kCloseInvalidPayload},
      {"a message over the limit, refused on its header",
       [](RawWebSocket& c) {
         ASSERT_TRUE(c.send_raw(ws::encode_frame_header(WsOpcode::kBinary, 1ull << 40, true, false,
                                                        ws::new_mask()))
                         .ok());
       },
       ws::kCloseMessageTooBig},
      {"an invalid close frame",
       [](RawWebSocket& c) { ASSERT_TRUE(c.send_frame(WsOpcode::kClose, "x").ok()); },
       ws::kCloseProtocolError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::unique_ptr<RawWebSocket> client = open();
    c.send(*client);
    EXPECT_EQ(close_code(*client), c.code);
    EXPECT_TRUE(client->wait_closed());
  }
  EXPECT_EQ(recorder_.count(), 0u);
  // The server is fine for the next client.
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
}

TEST_F(WebSocketServerTest, MessagesOverTheLimitAcrossFragmentsAre1009) {
  HttpServerOptions options;
  options.websocket.max_message_bytes = 1000;
  start(options);
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_frame(WsOpcode::kBinary, std::string(600, 'a'), false).ok());
  ASSERT_TRUE(client->send_frame(WsOpcode::kContinuation, std::string(600, 'b')).ok());
  EXPECT_EQ(close_code(*client), ws::kCloseMessageTooBig);
}

TEST_F(WebSocketServerTest, DeflateIsNegotiatedAndInflatedWithinTheLimit) {
  HttpServerOptions options;
  options.websocket.max_message_bytes = 64u << 10;
  start(options);
  std::unique_ptr<RawWebSocket> client = std::make_unique<RawWebSocket>(port_);
  absl::StatusOr<RawResponse> answer = client->handshake(
      "/v1/traces", {{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}});
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->status, 101);
  EXPECT_TRUE(ws::deflate_accepted(answer->header("sec-websocket-extensions")));
  const std::string request = testing::request_bytes(otlp::Signal::kTraces, 4);
  ASSERT_TRUE(client->send_frame(WsOpcode::kBinary, ws::deflate_message(request), true, true).ok());
  EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_TRUE(testing::same_request(otlp::Signal::kTraces, recorder_.requests()[0].body, request));

  // A bomb: 1 MiB of zeros deflates to about a kilobyte.
  ASSERT_TRUE(client
                  ->send_frame(WsOpcode::kBinary, ws::deflate_message(std::string(1u << 20, '\0')),
                               true, true)
                  .ok());
  EXPECT_EQ(close_code(*client), ws::kCloseMessageTooBig);
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(WebSocketServerTest, HandshakeRefusals) {
  HttpServerOptions options;
  options.cors.allowed_origins = {"https://*.example.com"};
  options.authenticate = [](std::string_view authorization) {
    return authorization == "Bearer good";
  };
  start(options);
  struct Case {
    const char* what;
    std::string path;
    std::vector<std::pair<std::string, std::string>> extra;
    int status;
  };
  const std::vector<Case> cases = {
      {"unknown path", "/v1/nothing", {{"Authorization", "Bearer good"}}, 404},
      {"old version",
       "/v1/traces",
       {{"Authorization", "Bearer good"}, {"Sec-WebSocket-Version", "8"}},
       426},
      {"origin not allowed",
       "/v1/traces",
       {{"Authorization", "Bearer good"}, {"Origin", "https://evil.test"}},
       403},
      {"no credentials", "/v1/traces", {}, 401},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RawWebSocket client(port_);
    absl::StatusOr<RawResponse> answer = client.handshake(c.path, c.extra);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->status, c.status) << answer->body;
    if (c.status == 426) {
      EXPECT_EQ(answer->header("sec-websocket-version"), "13");
    }
  }
  // An allowed origin, and a client without one (not a browser), are served.
  open("/v1/traces", {{"Authorization", "Bearer good"}, {"Origin", "https://app.example.com"}});
  open("/v1/traces", {{"Authorization", "Bearer good"}});
}

TEST_F(WebSocketServerTest, AClientsCloseIsAnsweredAfterItsAnswers) {
  testing::GatedHandler gate;
  start({}, gate.handler());
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  ASSERT_TRUE(gate.entered.recv_blocking().has_value());
  ASSERT_TRUE(
      client->send_frame(WsOpcode::kClose, ws::encode_close_payload(ws::kCloseNormal, "bye")).ok());
  gate.release.try_send(ExportResult{});
  std::vector<WsFrame> before;
  absl::StatusOr<WsFrame> close = client->read_until_close(&before);
  ASSERT_TRUE(close.ok()) << close.status();
  EXPECT_EQ(close->close_code(), ws::kCloseNormal);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(decode_answer(before[0]).status.code(), 0);
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(WebSocketServerTest, ShutdownAnswersWhatItReadThenClosesWith1001) {
  testing::GatedHandler gate;
  start({}, gate.handler());
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  ASSERT_TRUE(gate.entered.recv_blocking().has_value());
  std::thread stopper([&] { server_->shutdown(csp::Clock::now() + 30s); });
  gate.release.try_send(ExportResult{});
  std::vector<WsFrame> before;
  absl::StatusOr<WsFrame> close = client->read_until_close(&before);
  ASSERT_TRUE(close.ok()) << close.status();
  EXPECT_EQ(close->close_code(), ws::kCloseGoingAway);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(decode_answer(before[0]).status.code(), 0);
  ASSERT_TRUE(client->send_frame(WsOpcode::kClose, ws::encode_close_payload(1000, "")).ok());
  EXPECT_TRUE(client->wait_closed());
  stopper.join();
}

TEST_F(WebSocketServerTest, IdleSessionsAreClosedAndSilentClientsDropped) {
  HttpServerOptions options;
  options.websocket.idle_timeout = 300ms;
  options.websocket.ping_interval = 0ms;
  start(options);
  std::unique_ptr<RawWebSocket> idle = open();
  absl::StatusOr<WsFrame> close = idle->read_until_close();
  ASSERT_TRUE(close.ok()) << close.status();
  EXPECT_EQ(close->close_code(), ws::kCloseNormal);
  EXPECT_THAT(close->payload, HasSubstr("idle timeout"));
  server_.reset();

  HttpServerOptions pinging;
  pinging.websocket.ping_interval = 100ms;
  start(pinging);
  std::unique_ptr<RawWebSocket> silent = open();
  WsFrame ping = read(*silent);
  EXPECT_EQ(ping.opcode, WsOpcode::kPing);
  // It never answers: the server gives up on it without a close frame.
  EXPECT_TRUE(silent->wait_closed());
}

TEST_F(WebSocketServerTest, MemoryRefusalsAreRetryableAndKeepTheConnection) {
  std::atomic<bool> refuse{true};
  HttpServerOptions options;
  options.reserve_memory = [&](std::int64_t) -> MemoryClaim {
    if (refuse.load()) return nullptr;
    return std::make_shared<int>(0);
  };
  start(options);
  std::unique_ptr<RawWebSocket> client = open();
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  Answer refused = decode_answer(read(*client));
  EXPECT_EQ(refused.status.code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(refused.status.details_size(), 1);  // RetryInfo
  refuse = false;
  ASSERT_TRUE(client->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(WebSocketServerTest, AMessageInManySmallFramesIsReservedInFewSteps) {
  std::atomic<int> reservations{0};
  HttpServerOptions options;
  options.reserve_memory = [&](std::int64_t) -> MemoryClaim {
    reservations.fetch_add(1);
    return std::make_shared<int>(0);
  };
  start(options);
  std::unique_ptr<RawWebSocket> client = open();
  const std::string request = testing::request_bytes(otlp::Signal::kTraces, 5);
  std::string frames;
  const std::array<std::uint8_t, 4> mask = ws::new_mask();
  for (std::size_t i = 0; i < request.size(); ++i) {
    frames += ws::encode_frame(i == 0 ? WsOpcode::kBinary : WsOpcode::kContinuation,
                               request.substr(i, 1), i + 1 == request.size(), false, mask);
  }
  ASSERT_TRUE(client->send_raw(frames).ok());
  EXPECT_EQ(decode_answer(read(*client)).status.code(), 0);
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_TRUE(testing::same_request(otlp::Signal::kTraces, recorder_.requests()[0].body, request));
  // One step for the message (64 KiB covers it) and one for the decode; not one per frame.
  EXPECT_LE(reservations.load(), 3) << request.size() << " frames";
}

TEST_F(WebSocketServerTest, AMessageThatTricklesPastTheReadTimeoutIs1008) {
  HttpServerOptions options;
  options.read_timeout = 300ms;
  start(options);
  std::unique_ptr<RawWebSocket> client = open();
  // A header that promises 100 bytes, then 10 of them.
  const std::array<std::uint8_t, 4> mask = ws::new_mask();
  ASSERT_TRUE(
      client->send_raw(ws::encode_frame_header(WsOpcode::kBinary, 100, true, false, mask)).ok());
  ASSERT_TRUE(client->send_raw(std::string(10, 'x')).ok());
  EXPECT_EQ(close_code(*client), ws::kClosePolicyViolation);
}

TEST_F(WebSocketServerTest, AClientThatNeverReadsIsDroppedAndOthersAreServed) {
  // Big answers fill the socket buffers of a client that does not read them.
  ExportResult big;
  big.rejected_items = 1;
  big.partial_message = std::string(1u << 20, 'm');
  recorder_.set_result(big);
  HttpServerOptions options;
  options.read_timeout = 500ms;  // also bounds each write of ours
  start(options);
  std::unique_ptr<RawWebSocket> stuck = open();
  const std::string frame =
      ws::encode_frame(WsOpcode::kBinary, testing::request_bytes(otlp::Signal::kTraces), true,
                       false, ws::new_mask());
  std::string many;
  for (int i = 0; i < 64; ++i) many += frame;
  stuck->send_until_full(many);

  std::unique_ptr<RawWebSocket> other = open();
  ASSERT_TRUE(other->send_message(testing::request_bytes(otlp::Signal::kTraces)).ok());
  EXPECT_EQ(decode_answer(read(*other)).status.code(), 0);

  // The stuck client's connection is dropped once a write of ours cannot finish in time: it
  // gets some answers and then the end, not all 64. (The pause only makes sure the server's
  // writes wait longer than read_timeout; nothing here is timed.)
  std::this_thread::sleep_for(2s);
  int answers = 0;
  for (;;) {
    absl::StatusOr<WsFrame> frame = stuck->read_frame();
    if (!frame.ok()) break;
    if (frame->opcode != WsOpcode::kPing) ++answers;
  }
  EXPECT_LT(answers, 64);
}

}  // namespace
}  // namespace transport
