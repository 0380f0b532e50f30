// GrpcServer against hostile and broken HTTP/2 clients: the contract of the server on our own
// HTTP/2 stack. A raw client (testing/raw_http2.h) writes exactly the frames each case needs —
// bad flags, lying lengths, floods — and reads what the server answers.
//
// Every case also checks that the attack stays contained: a well-behaved client on its own
// channel gets OK (during the attack where the case allows it, and always after it, in
// TearDown), and the handler saw exactly the requests that were answered OK — nothing from a
// hostile stream.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "otlp/compression.h"
#include "transport/grpc_server.h"
#include "transport/internal/messages.h"
#include "transport/testing/raw_http2.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using ::testing::AnyOf;
using ::testing::Contains;
using testing::H2Response;
using testing::HeaderList;
using testing::RawHttp2Connection;
using ::testing::StartsWith;
using namespace std::chrono_literals;
namespace h2 = testing::h2;

constexpr int kGrpcOk = 0;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnimplemented = 12;
constexpr int kGrpcInternal = 13;

std::string path_of(otlp::Signal signal) { return std::string(internal::export_method(signal)); }

// A MemoryReserver that keeps the running and the peak total of the bytes claimed. Claims give
// their bytes back when the last copy is dropped; the state outlives the ledger while claims do.
class MemoryLedger {
 public:
  MemoryReserver reserver() {
    return [state = state_](std::int64_t bytes) -> MemoryClaim {
      ++state->calls;
      if (state->refuse.load()) return nullptr;
      const std::int64_t now = state->running += bytes;
      std::int64_t peak = state->peak.load();
      while (now > peak && !state->peak.compare_exchange_weak(peak, now)) {
      }
      return std::make_shared<Claim>(state, bytes);
    };
  }
  void set_refuse(bool on) { state_->refuse = on; }
  std::int64_t running() const { return state_->running.load(); }
  std::int64_t peak() const { return state_->peak.load(); }
  std::int64_t calls() const { return state_->calls.load(); }
  // Waits (bounded) until every claim was given back; the server may drop its last claim just
  // after the answer left.
  bool wait_released(std::chrono::milliseconds timeout = 10s) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (running() != 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    return running() == 0;
  }

 private:
  struct State {
    std::atomic<std::int64_t> running{0};
    std::atomic<std::int64_t> peak{0};
    std::atomic<std::int64_t> calls{0};
    std::atomic<bool> refuse{false};
  };
  struct Claim {
    Claim(std::shared_ptr<State> s, std::int64_t b) : state(std::move(s)), bytes(b) {}
    ~Claim() { state->running -= bytes; }
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    std::shared_ptr<State> state;
    std::int64_t bytes;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// One unary call with grpc++ (a well-behaved client on its own channel).
grpc::Status grpc_call(int port, otlp::Signal signal, const std::string& body) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, path_of(signal), grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

class GrpcServerHostileTest : public ::testing::Test {
 protected:
  void start(GrpcServerOptions options = {}) {
    options.endpoint = "127.0.0.1:0";
    if (!options.reserve_memory) options.reserve_memory = ledger_.reserver();
    // The recorder keeps requests for the whole test; it drops their memory claims so that the
    // ledger can show the server gave back everything it took.
    ExportHandler record = recorder_.handler();
    ExportHandler handler = [record](ExportRequest request) {
      request.memory.reset();
      return record(std::move(request));
    };
    server_ = std::make_unique<GrpcServer>(options, handler);
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  void TearDown() override {
    if (server_ == nullptr) return;
    if (!shut_down_) {
      // After the attack, the server still serves a well-behaved client.
      expect_grpc_client_served();
    }
    // The handler saw exactly the requests that were answered OK.
    std::vector<std::pair<otlp::Signal, std::string>> got;
    for (const ExportRequest& r : recorder_.requests()) got.emplace_back(r.signal, r.body);
    std::vector<std::pair<otlp::Signal, std::string>> want = accepted_;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got.size(), want.size()) << "the handler saw a request that was not answered OK, "
                                          "or missed one that was";
    EXPECT_TRUE(got == want) << "the handler's requests differ from those answered OK";
    server_->shutdown(csp::Clock::now() + std::chrono::seconds(5));
  }

  std::string next_body(otlp::Signal signal = otlp::Signal::kTraces) {
    return testing::request_bytes(signal, ++seed_);
  }

  // A valid call through grpc++ on a fresh channel must get OK.
  void expect_grpc_client_served() {
    const std::string body = next_body(otlp::Signal::kLogs);
    const grpc::Status status = grpc_call(port_, otlp::Signal::kLogs, body);
    EXPECT_TRUE(status.ok()) << "a well-behaved gRPC client was refused: "
                             << static_cast<int>(status.error_code()) << " "
                             << status.error_message();
    if (status.ok()) accepted_.emplace_back(otlp::Signal::kLogs, body);
  }

  // A valid call on `c` (already handshaken) must get OK.
  void expect_raw_call_ok(RawHttp2Connection& c, otlp::Signal signal = otlp::Signal::kMetrics) {
    const std::string body = next_body(signal);
    absl::StatusOr<std::uint32_t> id =
        c.unary_call(path_of(signal), {}, {testing::grpc_message(body)});
    ASSERT_TRUE(id.ok()) << id.status();
    const H2Response r = c.read_response(*id);
    EXPECT_EQ(r.grpc_status(), kGrpcOk) << r.describe();
    if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(signal, body);
  }

  // One call on a new raw connection; returns its answer.
  H2Response raw_call(const HeaderList& extra, const std::vector<std::string>& body_frames,
                      otlp::Signal signal = otlp::Signal::kTraces) {
    RawHttp2Connection c(port_);
    if (absl::Status s = c.handshake(); !s.ok()) {
      ADD_FAILURE() << "handshake: " << s;
      return {};
    }
    absl::StatusOr<std::uint32_t> id = c.unary_call(path_of(signal), extra, body_frames);
    if (!id.ok()) {
      ADD_FAILURE() << "send: " << id.status();
      return {};
    }
    return c.read_response(*id);
  }

  // True if, among the frames that already arrived, the server refused stream `id` or the
  // connection (GOAWAY, close, RST_STREAM or an answer on the stream). Does not wait.
  static bool refused_yet(RawHttp2Connection& c, std::uint32_t id) {
    while (!c.closed() && c.inbound_pending()) {
      if (!c.read_frame(1s).ok()) break;
    }
    if (c.closed() || c.goaway()) return true;
    for (const testing::Frame& f : c.frames()) {
      if (f.stream_id == id && (f.type == h2::kRstStream || f.type == h2::kHeaders)) return true;
    }
    return false;
  }

  testing::RecordingHandler recorder_;
  MemoryLedger ledger_;
  std::unique_ptr<GrpcServer> server_;
  int port_ = 0;
  bool shut_down_ = false;
  std::uint64_t seed_ = 100;
  // Requests the test saw answered OK (grpc-status 0).
  std::vector<std::pair<otlp::Signal, std::string>> accepted_;
};

std::vector<std::string> accept_encodings(const H2Response& r) {
  std::optional<std::string> value = r.header("grpc-accept-encoding");
  if (!value) value = r.trailer("grpc-accept-encoding");
  std::vector<std::string> out;
  if (!value) return out;
  for (absl::string_view part : absl::StrSplit(*value, ',')) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

// ---- Valid requests over raw HTTP/2 ----

TEST_F(GrpcServerHostileTest, ValidUnaryExportOnEveryPath) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  for (otlp::Signal signal : otlp::kAllSignals) {
    const std::string body = next_body(signal);
    absl::StatusOr<std::uint32_t> id =
        c.unary_call(path_of(signal), {}, {testing::grpc_message(body)});
    ASSERT_TRUE(id.ok()) << id.status();
    const H2Response r = c.read_response(*id);
    ASSERT_EQ(r.end, H2Response::End::kEndStream) << r.describe();
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_THAT(r.header("content-type").value_or(""), StartsWith("application/grpc"));
    auto messages = testing::split_grpc_messages(r.data);
    ASSERT_TRUE(messages.ok()) << messages.status();
    ASSERT_EQ(messages->size(), 1u) << r.describe();
    EXPECT_EQ((*messages)[0].first, 0);
    std::unique_ptr<google::protobuf::Message> response =
        internal::make_export_response(signal, 0, "");
    EXPECT_TRUE(response->ParseFromString((*messages)[0].second));
    ASSERT_FALSE(r.trailers.empty()) << "grpc-status must come in trailers: " << r.describe();
    EXPECT_EQ(r.trailer("grpc-status"), "0") << r.describe();
    if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(signal, body);
  }
  ASSERT_EQ(recorder_.count(), 4u);
  for (const ExportRequest& got : recorder_.requests()) {
    EXPECT_THAT(got.peer, StartsWith("127.0.0.1:"));
  }
}

// ---- Credentials ----

// The Authenticator sees the call's headers before any DATA: a call without the right
// `authorization` is answered UNAUTHENTICATED while its body has not even been sent, the
// handler never sees it, and the header's value appears in no answer.
TEST_F(GrpcServerHostileTest, CallsWithoutTheRightCredentialsAreRefusedBeforeTheirBody) {
  GrpcServerOptions options;
  options.authenticate = [](std::string_view authorization) {
    return authorization == "Bearer s3cret";
  };
  start(options);
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::string path = path_of(otlp::Signal::kTraces);
  for (const HeaderList& extra :
       {HeaderList{}, HeaderList{{"authorization", "Bearer wrong"}},
        HeaderList{{"authorization", "Bearer s3cret2"}}, HeaderList{{"authorization", "s3cret"}}}) {
    const std::uint32_t id = c.next_stream_id();
    ASSERT_TRUE(c.send_headers(id, testing::grpc_request_headers(path, extra)).ok());
    const H2Response r = c.read_response(id);  // no DATA sent: the answer cannot wait for it
    EXPECT_EQ(r.grpc_status(), 16) << r.describe();
    EXPECT_EQ(r.grpc_message(), kUnauthenticatedMessage) << r.describe();
    EXPECT_EQ(r.describe().find("s3cret"), std::string::npos) << r.describe();
    EXPECT_EQ(r.describe().find("wrong"), std::string::npos) << r.describe();
  }
  // The same connection then serves a call with the right credentials.
  const std::string body = next_body();
  absl::StatusOr<std::uint32_t> id =
      c.unary_call(path, {{"authorization", "Bearer s3cret"}}, {testing::grpc_message(body)});
  ASSERT_TRUE(id.ok()) << id.status();
  const H2Response ok = c.read_response(*id);
  EXPECT_EQ(ok.grpc_status(), kGrpcOk) << ok.describe();
  if (ok.grpc_status() == kGrpcOk) accepted_.emplace_back(otlp::Signal::kTraces, body);
  // grpc++ without credentials is refused too (TearDown's check needs them, so not there).
  EXPECT_EQ(grpc_call(port_, otlp::Signal::kLogs, next_body(otlp::Signal::kLogs)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  server_->shutdown(csp::Clock::now() + std::chrono::seconds(5));
  shut_down_ = true;
}

TEST_F(GrpcServerHostileTest, HeaderBlockSplitIntoContinuationsIsAccepted) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::string body = next_body();
  const std::uint32_t id = c.next_stream_id();
  // HEADERS + 3 CONTINUATION, cut at arbitrary bytes (inside fields), as RFC 9113 allows.
  ASSERT_TRUE(c.send_headers(id, testing::grpc_request_headers(path_of(otlp::Signal::kTraces)),
                             {.continuations = 3})
                  .ok());
  ASSERT_TRUE(c.send_data(id, testing::grpc_message(body), true).ok());
  const H2Response r = c.read_response(id);
  EXPECT_EQ(r.grpc_status(), kGrpcOk) << r.describe();
  if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(otlp::Signal::kTraces, body);
}

TEST_F(GrpcServerHostileTest, PaddedDataIsAccepted) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::string body = next_body();
  const std::uint32_t id = c.next_stream_id();
  ASSERT_TRUE(
      c.send_headers(id, testing::grpc_request_headers(path_of(otlp::Signal::kTraces))).ok());
  ASSERT_TRUE(c.send_data(id, testing::grpc_message(body), true, std::uint8_t{17}).ok());
  const H2Response r = c.read_response(id);
  EXPECT_EQ(r.grpc_status(), kGrpcOk) << r.describe();
  if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(otlp::Signal::kTraces, body);
}

// ---- Message framing and compression ----

TEST_F(GrpcServerHostileTest, CompressedFlagOtherThanZeroOrOneIsInternal) {
  start();
  for (std::uint8_t flag : {std::uint8_t{2}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
    const H2Response r = raw_call({}, {testing::grpc_message(next_body(), flag)});
    EXPECT_EQ(r.end, H2Response::End::kEndStream) << "flag " << int{flag} << ": " << r.describe();
    EXPECT_EQ(r.grpc_status(), kGrpcInternal) << "flag " << int{flag} << ": " << r.describe();
  }
}

TEST_F(GrpcServerHostileTest, CompressedFlagWithoutAnEncodingIsInternal) {
  start();
  const std::string gz = *otlp::compress(otlp::Compression::kGzip, next_body());
  for (const HeaderList& extra : {HeaderList{}, HeaderList{{"grpc-encoding", "identity"}}}) {
    const H2Response r = raw_call(extra, {testing::grpc_message(gz, 1)});
    EXPECT_EQ(r.grpc_status(), kGrpcInternal)
        << (extra.empty() ? "no grpc-encoding: " : "identity: ") << r.describe();
  }
}

TEST_F(GrpcServerHostileTest, UnknownGrpcEncodingIsUnimplementedAndListsTheSupportedOnes) {
  start();
  const std::string gz = *otlp::compress(otlp::Compression::kGzip, next_body());
  for (const char* name : {"br", "snappy2"}) {
    const H2Response r = raw_call({{"grpc-encoding", name}}, {testing::grpc_message(gz, 1)});
    EXPECT_EQ(r.grpc_status(), kGrpcUnimplemented) << name << ": " << r.describe();
    const std::vector<std::string> supported = accept_encodings(r);
    for (const char* want : {"identity", "gzip", "deflate", "zstd"}) {
      EXPECT_THAT(supported, Contains(want)) << name << ": " << r.describe();
    }
  }
}

TEST_F(GrpcServerHostileTest, GzipDeflateAndZstdBodiesReachTheHandlerInflated) {
  start();
  const std::pair<const char*, otlp::Compression> codecs[] = {
      {"gzip", otlp::Compression::kGzip},
      {"deflate", otlp::Compression::kDeflate},
      {"zstd", otlp::Compression::kZstd}};
  for (const auto& [name, codec] : codecs) {
    for (otlp::Signal signal : otlp::kAllSignals) {
      const std::string body = next_body(signal);
      absl::StatusOr<std::string> packed = otlp::compress(codec, body);
      ASSERT_TRUE(packed.ok()) << packed.status();
      const H2Response r =
          raw_call({{"grpc-encoding", name}}, {testing::grpc_message(*packed, 1)}, signal);
      EXPECT_EQ(r.grpc_status(), kGrpcOk) << name << ": " << r.describe();
      if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(signal, body);
    }
  }
  EXPECT_EQ(recorder_.count(), 12u);  // TearDown compares the bodies: uncompressed, as sent
}

TEST_F(GrpcServerHostileTest, CorruptGzipIsInternalNotAReset) {
  start();
  std::string gz = *otlp::compress(otlp::Compression::kGzip, next_body());
  ASSERT_GT(gz.size(), 40u);
  for (std::size_t i = 12; i < 32; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  const std::string truncated = gz.substr(0, gz.size() / 2);
  for (const std::string& bad : {gz, truncated}) {
    const H2Response r = raw_call({{"grpc-encoding", "gzip"}}, {testing::grpc_message(bad, 1)});
    EXPECT_EQ(r.end, H2Response::End::kEndStream) << r.describe();
    EXPECT_EQ(r.grpc_status(), kGrpcInternal) << r.describe();
  }
}

TEST_F(GrpcServerHostileTest, AnnouncedLengthOverTheLimitIsRefusedBeforeTheBodyIsSent) {
  GrpcServerOptions options;
  options.max_recv_msg_size_mib = 1;
  start(options);
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::uint32_t id = c.next_stream_id();
  ASSERT_TRUE(
      c.send_headers(id, testing::grpc_request_headers(path_of(otlp::Signal::kTraces))).ok());
  // The prefix announces 64 MiB; only 4 KiB of it follow, and the stream stays open.
  std::string prefix = testing::grpc_message("", 0);
  prefix[1] = 0x04;  // 0x04000000 = 64 MiB
  ASSERT_TRUE(c.send_data(id, prefix + std::string(4096, '\0'), false).ok());
  const H2Response r = c.read_response(id);
  EXPECT_EQ(r.grpc_status(), kGrpcResourceExhausted) << r.describe();
  EXPECT_LT(c.bytes_sent(), 64u * 1024);
}

TEST_F(GrpcServerHostileTest, GzipBombIsResourceExhaustedWithinAMemoryBudget) {
  GrpcServerOptions options;
  options.max_recv_msg_size_mib = 1;
  start(options);
  // 32 MiB of zeros: about 32 KiB on the wire, 32 times the limit once inflated.
  absl::StatusOr<std::string> bomb =
      otlp::compress(otlp::Compression::kGzip, std::string(32u << 20, '\0'), 9);
  ASSERT_TRUE(bomb.ok());
  ASSERT_LT(bomb->size(), 60000u);  // fits the initial flow-control windows
  const H2Response r = raw_call({{"grpc-encoding", "gzip"}}, {testing::grpc_message(*bomb, 1)});
  EXPECT_EQ(r.grpc_status(), kGrpcResourceExhausted) << r.describe();
  EXPECT_GT(ledger_.calls(), 0) << "the server did not ask the MemoryReserver before buffering";
  EXPECT_LT(ledger_.peak(), 4 << 20) << "peak claimed bytes while inflating the bomb";
  EXPECT_TRUE(ledger_.wait_released()) << ledger_.running() << " bytes still claimed";
}

TEST_F(GrpcServerHostileTest, MemoryRefusalIsResourceExhaustedWithRetryInfo) {
  start();
  ledger_.set_refuse(true);
  const H2Response r = raw_call({}, {testing::grpc_message(next_body())});
  ledger_.set_refuse(false);
  EXPECT_EQ(r.grpc_status(), kGrpcResourceExhausted) << r.describe();
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(r.grpc_status_details())) << r.describe();
  EXPECT_EQ(details.code(), kGrpcResourceExhausted);
  bool has_retry_info = false;
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo info;
    if (any.UnpackTo(&info)) {
      has_retry_info = true;
      EXPECT_GT(info.retry_delay().seconds() * 1000 + info.retry_delay().nanos() / 1000000, 0);
    }
  }
  EXPECT_TRUE(has_retry_info) << r.describe();
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(GrpcServerHostileTest, TwoMessagesInOneUnaryCallAreUnimplemented) {
  start();
  const H2Response r =
      raw_call({}, {testing::grpc_message(next_body()), testing::grpc_message(next_body())});
  EXPECT_EQ(r.grpc_status(), kGrpcUnimplemented) << r.describe();
  // Both messages in one DATA frame, too.
  const H2Response one_frame =
      raw_call({}, {testing::grpc_message(next_body()) + testing::grpc_message(next_body())});
  EXPECT_EQ(one_frame.grpc_status(), kGrpcUnimplemented) << one_frame.describe();
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(GrpcServerHostileTest, ZeroMessagesAreUnimplemented) {
  start();
  const H2Response r = raw_call({}, {});  // HEADERS with END_STREAM
  EXPECT_EQ(r.grpc_status(), kGrpcUnimplemented) << r.describe();
  const H2Response empty_data = raw_call({}, {""});  // an empty DATA with END_STREAM
  EXPECT_EQ(empty_data.grpc_status(), kGrpcUnimplemented) << empty_data.describe();
  EXPECT_EQ(recorder_.count(), 0u);
}

// ---- Routing and headers ----

TEST_F(GrpcServerHostileTest, NonGrpcContentTypeIs415) {
  start();
  for (const char* type : {"application/json", "application/x-protobuf", "text/plain"}) {
    RawHttp2Connection c(port_);
    ASSERT_TRUE(c.handshake().ok());
    HeaderList headers = testing::grpc_request_headers(path_of(otlp::Signal::kTraces));
    for (auto& [name, value] : headers) {
      if (name == "content-type") value = type;
    }
    const std::uint32_t id = c.next_stream_id();
    ASSERT_TRUE(c.send_headers(id, headers).ok());
    ASSERT_TRUE(c.send_data(id, testing::grpc_message(next_body()), true).ok());
    const H2Response r = c.read_response(id);
    EXPECT_EQ(r.status, 415) << type << ": " << r.describe();
  }
}

TEST_F(GrpcServerHostileTest, UnknownPathIsUnimplemented) {
  start();
  for (const char* path : {"/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
                           "/grpc.health.v1.Health/Check", "/"}) {
    RawHttp2Connection c(port_);
    ASSERT_TRUE(c.handshake().ok());
    absl::StatusOr<std::uint32_t> id = c.unary_call(path, {}, {testing::grpc_message(next_body())});
    ASSERT_TRUE(id.ok());
    const H2Response r = c.read_response(*id);
    EXPECT_EQ(r.grpc_status(), kGrpcUnimplemented) << path << ": " << r.describe();
  }
}

TEST_F(GrpcServerHostileTest, HeaderListAboveTheAdvertisedLimitIsRefused) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  auto settings = c.read_server_settings();
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->contains(h2::kMaxHeaderListSize))
      << "the server must advertise SETTINGS_MAX_HEADER_LIST_SIZE";
  const std::uint32_t limit = settings->at(h2::kMaxHeaderListSize);
  EXPECT_EQ(limit, 16384u);
  const std::uint32_t id = c.next_stream_id();
  ASSERT_TRUE(
      c.send_headers(id, testing::grpc_request_headers(path_of(otlp::Signal::kTraces),
                                                       {{"x-big", std::string(limit + 1024, 'b')}}))
          .ok());
  c.send_data(id, testing::grpc_message(next_body()), true).IgnoreError();
  const H2Response r = c.read_response(id);
  const bool refused = r.end == H2Response::End::kRstStream ||
                       (r.grpc_status().has_value() && *r.grpc_status() != kGrpcOk) ||
                       r.status >= 400 || r.end == H2Response::End::kGoaway ||
                       r.end == H2Response::End::kClosed;
  EXPECT_TRUE(refused) << r.describe();
  EXPECT_EQ(recorder_.count(), 0u);
}

// ---- Streams and SETTINGS ----

TEST_F(GrpcServerHostileTest, MaxConcurrentStreamsIsAdvertisedWithADefaultOf100) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  auto settings = c.read_server_settings();
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->contains(h2::kMaxConcurrentStreams));
  EXPECT_EQ(settings->at(h2::kMaxConcurrentStreams), 100u);
  expect_raw_call_ok(c);
}

TEST_F(GrpcServerHostileTest, StreamsBeyondTheLimitAreRefusedOrEndTheConnection) {
  GrpcServerOptions options;
  options.max_concurrent_streams = 4;
  start(options);
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  auto settings = c.read_server_settings();
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->contains(h2::kMaxConcurrentStreams));
  EXPECT_EQ(settings->at(h2::kMaxConcurrentStreams), 4u);

  const HeaderList headers = testing::grpc_request_headers(path_of(otlp::Signal::kTraces));
  std::vector<std::uint32_t> open;
  std::string batch;
  for (int i = 0; i < 4; ++i) {
    open.push_back(c.next_stream_id());
    batch += testing::headers_bytes(open.back(), testing::hpack_block(headers), {});
  }
  const std::uint32_t extra = c.next_stream_id();
  batch += testing::headers_bytes(extra, testing::hpack_block(headers), {});
  ASSERT_TRUE(c.send_raw(batch).ok());
  const H2Response refused = c.read_response(extra);
  if (refused.end != H2Response::End::kRstStream) {
    // nghttp2 treats a stream beyond an acknowledged limit as a connection error: the whole
    // connection goes (GOAWAY PROTOCOL_ERROR) and none of its requests reach the handler.
    ASSERT_TRUE(refused.goaway.has_value()) << refused.describe();
    EXPECT_EQ(refused.goaway->error_code(), h2::kProtocolError);
    EXPECT_TRUE(c.wait_closed());
    expect_grpc_client_served();
    return;
  }
  EXPECT_THAT(refused.rst_error_code, AnyOf(h2::kRefusedStream, h2::kProtocolError));

  // The four within the limit are still served.
  std::vector<std::string> bodies;
  for (std::uint32_t id : open) {
    bodies.push_back(next_body());
    ASSERT_TRUE(c.send_data(id, testing::grpc_message(bodies.back()), true).ok());
  }
  for (std::size_t i = 0; i < open.size(); ++i) {
    const H2Response r = c.read_response(open[i]);
    EXPECT_EQ(r.grpc_status(), kGrpcOk) << "stream " << open[i] << ": " << r.describe();
    if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(otlp::Signal::kTraces, bodies[i]);
  }
}

TEST_F(GrpcServerHostileTest, StreamsBeyondTheServerWideLimitAreRefusedOnAnyConnection) {
  GrpcServerOptions options;
  options.max_concurrent_streams_total = 3;
  start(options);
  const HeaderList headers = testing::grpc_request_headers(path_of(otlp::Signal::kTraces));
  // Two connections hold three streams between them, with their bodies not sent yet.
  RawHttp2Connection a(port_);
  RawHttp2Connection b(port_);
  ASSERT_TRUE(a.handshake().ok());
  ASSERT_TRUE(b.handshake().ok());
  const std::uint32_t a1 = a.next_stream_id();
  const std::uint32_t a2 = a.next_stream_id();
  const std::uint32_t b1 = b.next_stream_id();
  ASSERT_TRUE(a.send_headers(a1, headers).ok());
  ASSERT_TRUE(a.send_headers(a2, headers).ok());
  ASSERT_TRUE(b.send_headers(b1, headers).ok());
  // A third connection's stream is one too many: refused, so the client may retry it.
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::uint32_t refused_id = c.next_stream_id();
  // Sent after the others have arrived: a ping round trip on each proves they were read.
  ASSERT_TRUE(a.ping_round_trip().ok());
  ASSERT_TRUE(b.ping_round_trip().ok());
  ASSERT_TRUE(c.send_headers(refused_id, headers).ok());
  const H2Response refused = c.read_response(refused_id);
  EXPECT_EQ(refused.end, H2Response::End::kRstStream) << refused.describe();
  EXPECT_EQ(refused.rst_error_code, h2::kRefusedStream);

  // The held streams finish normally; then there is room again, on any connection.
  for (auto [conn, id] : {std::pair{&a, a1}, std::pair{&a, a2}, std::pair{&b, b1}}) {
    const std::string body = next_body();
    ASSERT_TRUE(conn->send_data(id, testing::grpc_message(body), true).ok());
    const H2Response r = conn->read_response(id);
    EXPECT_EQ(r.grpc_status(), kGrpcOk) << r.describe();
    if (r.grpc_status() == kGrpcOk) accepted_.emplace_back(otlp::Signal::kTraces, body);
  }
  expect_raw_call_ok(c);
}

TEST_F(GrpcServerHostileTest, ARequestTrickledPastTheReadTimeoutIsResetAndItsMemoryFreed) {
  GrpcServerOptions options;
  options.request_read_timeout = 300ms;
  options.max_concurrent_streams_total = 1;
  start(options);
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::uint32_t slow = c.next_stream_id();
  ASSERT_TRUE(
      c.send_headers(slow, testing::grpc_request_headers(path_of(otlp::Signal::kTraces))).ok());
  // The prefix announces 100 bytes; 10 follow, then nothing (the memory for it is claimed).
  std::string partial = testing::grpc_message(std::string(100, 'x'));
  partial.resize(5 + 10);
  ASSERT_TRUE(c.send_data(slow, partial, false).ok());
  const H2Response r = c.read_response(slow);
  EXPECT_EQ(r.end, H2Response::End::kRstStream) << r.describe();
  EXPECT_EQ(r.rst_error_code, h2::kCancel);
  EXPECT_TRUE(ledger_.wait_released()) << ledger_.running() << " bytes still claimed";
  // Its place under the server-wide limit is free again: the next request is served (on the
  // same connection and by a gRPC client in TearDown).
  expect_raw_call_ok(c);
}

// ---- Floods ----

TEST_F(GrpcServerHostileTest, RapidResetGetsEnhanceYourCalm) {
  start();
  RawHttp2Connection bystander(port_);
  ASSERT_TRUE(bystander.handshake().ok());
  expect_raw_call_ok(bystander);

  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::string block =
      testing::hpack_block(testing::grpc_request_headers(path_of(otlp::Signal::kTraces)));
  std::string batch;
  for (int i = 0; i < 5000; ++i) {
    const std::uint32_t id = c.next_stream_id();
    batch += testing::headers_bytes(id, block, {});
    batch += testing::rst_stream_bytes(id, h2::kCancel);
  }
  c.send_raw(batch).IgnoreError();  // the server may close before it read everything
  EXPECT_TRUE(c.wait_goaway_or_close()) << "no GOAWAY and no close after 5000 rapid resets";
  ASSERT_TRUE(c.goaway().has_value()) << "closed without GOAWAY";
  EXPECT_EQ(c.goaway()->error_code(), h2::kEnhanceYourCalm);
  EXPECT_TRUE(c.wait_closed()) << "the server kept the connection open after its GOAWAY";

  // Only that connection was affected.
  expect_raw_call_ok(bystander);
  expect_grpc_client_served();
}

TEST_F(GrpcServerHostileTest, ContinuationFloodClosesTheConnection) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::uint32_t id = c.next_stream_id();
  std::string batch = testing::headers_bytes(
      id, testing::hpack_block(testing::grpc_request_headers(path_of(otlp::Signal::kTraces))),
      {.end_headers = false});
  for (int i = 0; i < 10000; ++i) batch += testing::continuation_bytes(id, "", false);
  batch += testing::continuation_bytes(id, testing::hpack_literal("x-end", "1"), true);
  batch += testing::data_bytes(id, testing::grpc_message(next_body()), true);
  c.send_raw(batch).IgnoreError();
  expect_grpc_client_served();  // while the hostile connection may still be open
  const H2Response r = c.read_response(id);
  EXPECT_NE(r.grpc_status(), kGrpcOk) << r.describe();
  EXPECT_TRUE(c.wait_closed()) << "the server kept a connection that sent 10000 CONTINUATIONs";
}

TEST_F(GrpcServerHostileTest, HugeHeaderBlockIsRefusedBeforeItIsRead) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  ASSERT_TRUE(c.read_server_settings().ok());
  const std::uint32_t id = c.next_stream_id();
  ASSERT_TRUE(c.send_headers(id, testing::grpc_request_headers(path_of(otlp::Signal::kTraces)),
                             {.end_headers = false})
                  .ok());
  // 32 MiB of literal fields in CONTINUATION frames of ~16 KiB, never finished.
  constexpr std::size_t kTotal = 32u << 20;
  std::string frame_block;
  for (int i = 0; frame_block.size() < 15000; ++i) {
    frame_block += testing::hpack_literal("x-filler-" + std::to_string(i), std::string(1000, 'f'));
  }
  const std::string frame = testing::continuation_bytes(id, frame_block, false);
  bool refused = false;
  bool write_failed = false;
  while (c.bytes_sent() < kTotal) {
    if (!c.send_raw(frame).ok()) {
      write_failed = true;
      break;
    }
    if (refused_yet(c, id)) {
      refused = true;
      break;
    }
  }
  const std::size_t sent = c.bytes_sent();
  EXPECT_TRUE(refused || write_failed)
      << "the server read all " << sent << " bytes of the header block without refusing it";
  EXPECT_LT(sent, kTotal);
  // Whatever it answered, it is not an OK, and the connection is or goes away eventually.
  const H2Response r = c.read_response(id, 3s);
  EXPECT_NE(r.grpc_status(), kGrpcOk) << r.describe();
}

// ---- Protocol errors ----

TEST_F(GrpcServerHostileTest, GarbageInsteadOfThePrefaceClosesTheConnection) {
  start();
  RawHttp2Connection bystander(port_);
  ASSERT_TRUE(bystander.handshake().ok());
  // A TLS ClientHello's first bytes (NULs included), then words.
  static constexpr char kTlsHello[] =
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not a preface at all";
  for (const std::string& garbage :
       {std::string(kTlsHello, sizeof kTlsHello - 1),
        std::string("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n") + std::string(64, 'z'),
        std::string(4096, '\xff')}) {
    RawHttp2Connection c(port_);
    ASSERT_TRUE(c.connect().ok());
    c.send_raw(garbage).IgnoreError();
    EXPECT_TRUE(c.wait_closed()) << "still open after " << garbage.size() << " garbage bytes";
  }
  expect_raw_call_ok(bystander);
}

TEST_F(GrpcServerHostileTest, DataOnAStreamNeverOpenedIsAConnectionError) {
  start();
  RawHttp2Connection bystander(port_);
  ASSERT_TRUE(bystander.handshake().ok());
  for (std::uint32_t stream : {5u, 0u}) {
    RawHttp2Connection c(port_);
    ASSERT_TRUE(c.handshake().ok());
    c.send_data(stream, testing::grpc_message(next_body()), true).IgnoreError();
    EXPECT_TRUE(c.wait_closed()) << "DATA on stream " << stream;
    ASSERT_TRUE(c.goaway().has_value()) << "DATA on stream " << stream << ": no GOAWAY";
    EXPECT_EQ(c.goaway()->error_code(), h2::kProtocolError) << "DATA on stream " << stream;
    expect_raw_call_ok(bystander);
  }
}

// ---- Slow and stuck clients ----

TEST_F(GrpcServerHostileTest, StalledBodyBlocksNobodyAndReleasesItsClaimsOnReset) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::uint32_t stalled = c.next_stream_id();
  ASSERT_TRUE(
      c.send_headers(stalled, testing::grpc_request_headers(path_of(otlp::Signal::kTraces))).ok());
  // The prefix announces 100 bytes; 10 follow, then nothing.
  std::string partial = testing::grpc_message(std::string(100, 'x'));
  partial.resize(5 + 10);
  ASSERT_TRUE(c.send_data(stalled, partial, false).ok());

  // Others are served meanwhile: a gRPC client, another raw connection, another stream on the
  // same connection.
  expect_grpc_client_served();
  RawHttp2Connection other(port_);
  ASSERT_TRUE(other.handshake().ok());
  expect_raw_call_ok(other);
  expect_raw_call_ok(c);

  // The stalled stream never got an answer.
  const H2Response pending = c.read_response(stalled, 300ms);
  EXPECT_EQ(pending.end, H2Response::End::kTimeout) << pending.describe();

  ASSERT_TRUE(c.send_rst_stream(stalled, h2::kCancel).ok());
  expect_raw_call_ok(c);  // the connection outlives the reset
  EXPECT_TRUE(ledger_.wait_released()) << ledger_.running() << " bytes still claimed";
}

TEST_F(GrpcServerHostileTest, ShutdownWithAnOpenStreamReturnsAndTheClientSeesGoawayOrClose) {
  start();
  RawHttp2Connection c(port_);
  ASSERT_TRUE(c.handshake().ok());
  const std::uint32_t id = c.next_stream_id();
  ASSERT_TRUE(
      c.send_headers(id, testing::grpc_request_headers(path_of(otlp::Signal::kTraces))).ok());
  std::string partial = testing::grpc_message(std::string(100, 'x'));
  partial.resize(20);
  ASSERT_TRUE(c.send_data(id, partial, false).ok());
  expect_grpc_client_served();

  std::future<void> stopped = std::async(std::launch::async, [this] {
    server_->shutdown(csp::Clock::now() + std::chrono::milliseconds(500));
  });
  shut_down_ = true;
  EXPECT_TRUE(c.wait_goaway_or_close()) << "the client saw neither GOAWAY nor close";
  ASSERT_EQ(stopped.wait_for(30s), std::future_status::ready) << "shutdown did not return";
  EXPECT_TRUE(c.wait_closed()) << "the connection outlived the server";
  EXPECT_TRUE(ledger_.wait_released()) << ledger_.running() << " bytes still claimed";
}

TEST_F(GrpcServerHostileTest, ConnectionsBeyondMaxConnectionsWaitForAFreeSlot) {
  GrpcServerOptions options;
  options.max_connections = 2;
  start(options);
  auto first = std::make_unique<RawHttp2Connection>(port_);
  RawHttp2Connection second(port_);
  for (RawHttp2Connection* c : {first.get(), &second}) {
    ASSERT_TRUE(c->handshake().ok());
    ASSERT_TRUE(c->read_server_settings().ok());
  }
  RawHttp2Connection third(port_);
  ASSERT_TRUE(third.handshake().ok());  // the kernel accepts it into the backlog
  EXPECT_FALSE(third.inbound_pending(300ms)) << "a third connection was served";
  EXPECT_FALSE(third.server_settings_seen());

  first.reset();  // frees a slot
  ASSERT_TRUE(third.read_server_settings().ok()) << "the third connection never got a slot";
  expect_raw_call_ok(third);
  expect_raw_call_ok(second);
}

}  // namespace
}  // namespace transport
