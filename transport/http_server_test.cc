// HttpServer against a raw HTTP client (transport/testing/raw_http.h) that sends exactly the
// bytes a test gives it: every encoding and compression, every refusal with its exact status and
// body, keep-alive, 100-continue, CORS, and shutdown with requests in flight.

#include "transport/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "csp/internal/test_util.h"
#include "google/rpc/status.pb.h"
#include "otlp/compression.h"
#include "otlp/json_codec.h"
#include "otlp/testing/examples.h"
#include "transport/testing/raw_http.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using ::testing::HasSubstr;
using testing::raw_exchange;
using testing::raw_request;
using testing::RawHttpConnection;
using testing::RawResponse;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kProto[] = "application/x-protobuf";
constexpr char kJson[] = "application/json";

std::string path_of(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "/v1/traces";
    case otlp::Signal::kMetrics:
      return "/v1/metrics";
    case otlp::Signal::kLogs:
      return "/v1/logs";
    case otlp::Signal::kProfiles:
      return "/v1development/profiles";
  }
  return "";
}

std::string json_request(otlp::Signal signal, std::uint64_t seed) {
  return *otlp::encode_json(*otlp::testing::random_request(signal, seed));
}

google::rpc::Status parse_status(const RawResponse& r) {
  google::rpc::Status status;
  if (r.header("content-type") == kJson) {
    EXPECT_TRUE(otlp::decode_json(r.body, status).ok()) << r.body;
  } else {
    EXPECT_EQ(r.header("content-type"), kProto);
    EXPECT_TRUE(status.ParseFromString(r.body));
  }
  return status;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}, ExportHandler handler = {}) {
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options, handler ? handler : recorder_.handler());
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    EXPECT_EQ(server_->port(), port_);
  }

  RawResponse post(const std::string& path, const std::string& content_type,
                   const std::string& body, Headers headers = {}) {
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    absl::StatusOr<RawResponse> r = raw_exchange(port_, raw_request("POST", path, headers, body));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RawResponse{};
  }

  testing::RecordingHandler recorder_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, EverySignalEncodingAndCompressionReachesTheHandlerAsBinary) {
  start();
  const std::pair<otlp::Compression, const char*> compressions[] = {
      {otlp::Compression::kNone, ""},
      {otlp::Compression::kGzip, "gzip"},
      {otlp::Compression::kDeflate, "deflate"},
      {otlp::Compression::kZstd, "zstd"}};
  std::size_t sent = 0;
  for (otlp::Signal signal : otlp::kAllSignals) {
    for (bool json : {false, true}) {
      for (const auto& [compression, name] : compressions) {
        std::string body = json ? json_request(signal, 5) : testing::request_bytes(signal, 5);
        Headers headers;
        if (compression != otlp::Compression::kNone) {
          body = *otlp::compress(compression, body);
          headers.emplace_back("Content-Encoding", name);
        }
        RawResponse r = post(path_of(signal), json ? kJson : kProto, body, headers);
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.header("content-type"), json ? kJson : kProto);
        EXPECT_EQ(r.body, json ? "{}" : "");
        ++sent;
        ASSERT_EQ(recorder_.count(), sent);
        const ExportRequest got = recorder_.requests().back();
        EXPECT_EQ(got.signal, signal);
        EXPECT_TRUE(testing::same_request(signal, got.body, testing::request_bytes(signal, 5)));
        if (!json) {
          EXPECT_EQ(got.body, testing::request_bytes(signal, 5));
        }
        EXPECT_THAT(got.peer, StartsWith("127.0.0.1:"));
      }
    }
  }
}

TEST_F(HttpServerTest, TheSpecsJsonExamplesAreAccepted) {
  start();
  std::vector<otlp::testing::Example> examples = otlp::testing::load_examples();
  ASSERT_FALSE(examples.empty());
  for (const auto& example : examples) {
    RawResponse r = post(path_of(example.signal), "application/json; charset=utf-8", example.json);
    EXPECT_EQ(r.status, 200) << example.name << ": " << r.body;
  }
  EXPECT_EQ(recorder_.count(), examples.size());
}

TEST_F(HttpServerTest, EmptyBodyIsAnEmptyRequest) {
  start();
  EXPECT_EQ(post("/v1/logs", kProto, "").status, 200);
  RawResponse json = post("/v1/logs", kJson, "");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.body, "{}");
  ASSERT_EQ(recorder_.count(), 2u);
  EXPECT_EQ(recorder_.requests()[0].body, "");
  EXPECT_EQ(recorder_.requests()[1].body, "");
}

// The Authenticator sees the head before the body is read: a request without the right
// Authorization is answered 401 even though its announced body never comes, and the handler
// never sees it.
TEST_F(HttpServerTest, RequestsWithoutTheRightCredentialsAre401BeforeTheirBody) {
  HttpServerOptions options;
  options.authenticate = [](std::string_view authorization) {
    return authorization == "Bearer s3cret";
  };
  start(options);
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 3);
  for (const Headers& h : {Headers{}, Headers{{"Authorization", "Bearer wrong"}}}) {
    RawResponse r = post("/v1/traces", kProto, body, h);
    EXPECT_EQ(r.status, 401);
    google::rpc::Status status;
    ASSERT_TRUE(status.ParseFromString(r.body));
    EXPECT_EQ(status.code(), 16);
    EXPECT_EQ(status.message(), kUnauthenticatedMessage);
  }
  // A head that announces 10 MB and sends none of it: answered at once, connection closed.
  absl::StatusOr<RawResponse> early =
      raw_exchange(port_,
                   "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                   "Content-Length: 10000000\r\n\r\n");
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->status, 401);
  EXPECT_FALSE(early->keep_alive);
  EXPECT_EQ(recorder_.count(), 0u);
  RawResponse ok = post("/v1/traces", kProto, body, {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(HttpServerTest, UnknownPathIs404AndCloses) {
  start();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(raw_request("POST", "/v1/nope", {{"Content-Type", kProto}}, "")).ok());
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->body, "404 page not found");
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(HttpServerTest, MethodsOtherThanPostAre405WithAllow) {
  start();
  for (const char* method : {"GET", "PUT", "DELETE", "OPTIONS"}) {
    absl::StatusOr<RawResponse> r = raw_exchange(port_, raw_request(method, "/v1/traces", {}, ""));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->header("allow"), "POST");
    EXPECT_EQ(r->body, "405 method not allowed, supported: [POST]");
  }
}

TEST_F(HttpServerTest, OtherContentTypesAre415) {
  start();
  for (const char* type : {"text/plain", "application/grpc", "", "application/jsonx"}) {
    RawResponse r = post("/v1/traces", type, "{}");
    EXPECT_EQ(r.status, 415) << type;
    EXPECT_EQ(r.body,
              "415 unsupported media type, supported: [application/json, application/x-protobuf]");
  }
  EXPECT_EQ(post("/v1/traces", "Application/X-Protobuf ; foo=bar", "").status, 200);
}

TEST_F(HttpServerTest, UnknownContentEncodingIs400InTheRequestsEncoding) {
  start();
  RawResponse proto = post("/v1/traces", kProto, "x", {{"Content-Encoding", "br"}});
  EXPECT_EQ(proto.status, 400);
  google::rpc::Status status = parse_status(proto);
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.message(),
            "unsupported Content-Encoding \"br\", supported: gzip, deflate, zstd, identity");
  RawResponse json = post("/v1/traces", kJson, "x", {{"Content-Encoding", "gzip, br"}});
  EXPECT_EQ(json.status, 400);
  EXPECT_EQ(json.header("content-type"), kJson);
  EXPECT_EQ(json.body,
            R"({"code":3,"message":"unsupported Content-Encoding \"gzip, br\", supported: gzip, )"
            R"(deflate, zstd, identity"})");
}

TEST_F(HttpServerTest, MalformedProtobufIs400AndKeepsTheConnection) {
  start();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  const std::string garbage = "\x0a\x05\x0a\x03\xff\xff";
  ASSERT_TRUE(c.send(raw_request("POST", "/v1/metrics", {{"Content-Type", kProto}}, garbage)).ok());
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  google::rpc::Status status = parse_status(*r);
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.message(), testing::invalid_message(otlp::Signal::kMetrics, garbage));
  EXPECT_TRUE(r->keep_alive);
  // The same connection still serves.
  ASSERT_TRUE(c.send(raw_request("POST", "/v1/metrics", {{"Content-Type", kProto}},
                                 testing::request_bytes(otlp::Signal::kMetrics)))
                  .ok());
  r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(HttpServerTest, MalformedJsonIs400WithAJsonStatusNamingThePath) {
  start();
  const std::string bad_id =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]})";
  otlp::TracesRequest scratch;
  const absl::Status expected = otlp::decode_json(bad_id, scratch);
  RawResponse r = post("/v1/traces", kJson, bad_id);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("content-type"), kJson);
  google::rpc::Status status = parse_status(r);
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.message(),
            "invalid ExportTraceServiceRequest (JSON): " + std::string(expected.message()));
  EXPECT_THAT(status.message(), HasSubstr("resourceSpans[0].scopeSpans[0].spans[0].traceId"));

  RawResponse not_json = post("/v1/traces", kJson, "{not json");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_THAT(parse_status(not_json).message(),
              StartsWith("invalid ExportTraceServiceRequest (JSON): "));
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(HttpServerTest, BodiesOverTheLimitAre413) {
  HttpServerOptions options;
  options.max_request_body_bytes = 1024;
  start(options);
  RawResponse sized = post("/v1/logs", kProto, std::string(4096, 'x'));
  EXPECT_EQ(sized.status, 413);
  google::rpc::Status status = parse_status(sized);
  EXPECT_EQ(status.code(), 8);
  EXPECT_EQ(status.message(), "request body of 4096 bytes exceeds the limit of 1024 bytes");

  // Chunked: no length up front; refused while reading.
  std::string chunked = "1000\r\n" + std::string(4096, 'x') + "\r\n0\r\n\r\n";
  RawResponse streamed = post("/v1/logs", kJson, chunked, {{"Transfer-Encoding", "chunked"}});
  EXPECT_EQ(streamed.status, 413);
  EXPECT_EQ(streamed.body,
            R"({"code":8,"message":"request body exceeds the limit of 1024 bytes"})");
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(HttpServerTest, CompressionBombsAre413) {
  HttpServerOptions options;
  options.max_request_body_bytes = 64 << 10;
  start(options);
  const std::string zeros(4 << 20, '\0');
  for (auto [compression, name] :
       {std::pair{otlp::Compression::kGzip, "gzip"}, std::pair{otlp::Compression::kZstd, "zstd"},
        std::pair{otlp::Compression::kDeflate, "deflate"}}) {
    const std::string bomb = *otlp::compress(compression, zeros);
    ASSERT_LT(bomb.size(), options.max_request_body_bytes);
    RawResponse r = post("/v1/traces", kProto, bomb, {{"Content-Encoding", name}});
    EXPECT_EQ(r.status, 413) << name;
    google::rpc::Status status = parse_status(r);
    EXPECT_EQ(status.code(), 8);
    EXPECT_EQ(status.message(), "decompressed request body exceeds the limit of 65536 bytes");
  }
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(HttpServerTest, CorruptCompressionIs400) {
  start();
  const std::string corrupt = "definitely not gzip";
  const absl::Status expected =
      otlp::decompress(otlp::Compression::kGzip, corrupt, kDefaultMaxRequestBodyBytes).status();
  RawResponse r = post("/v1/traces", kProto, corrupt, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(parse_status(r).message(),
            "cannot decompress the gzip request body: " + std::string(expected.message()));
}

TEST_F(HttpServerTest, TruncatedBodyIs400) {
  start();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(
      c.send(raw_request("POST", "/v1/traces",
                         {{"Content-Type", kProto}, {"Content-Length", "100"}}, "0123456789"))
          .ok());
  c.shutdown_send();
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(parse_status(*r).message(),
            "truncated request body: the connection was closed before the whole body arrived");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpServerTest, GarbageAndHugeHeadsAreRefused) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  start(options);
  absl::StatusOr<RawResponse> garbage = raw_exchange(port_, "\x16\x03\x01\x02\x00 hello\r\n\r\n");
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  EXPECT_EQ(garbage->status, 400);
  EXPECT_THAT(garbage->body, StartsWith("400 malformed HTTP request: "));

  absl::StatusOr<RawResponse> huge = raw_exchange(
      port_, raw_request("POST", "/v1/traces", {{"X-Big", std::string(4096, 'a')}}, ""));
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(huge->status, 431);
  EXPECT_EQ(huge->body, "431 request header fields too large");
}

TEST_F(HttpServerTest, HandlerAnswersMapToHttpStatuses) {
  start();
  struct Case {
    ExportResult result;
    int status;
    std::string retry_after;
  };
  const Case cases[] = {
      {{absl::UnavailableError("queue full"), 1500ms}, 503, "2"},
      {{absl::ResourceExhaustedError("memory limit"), 3000ms}, 429, "3"},
      {{absl::UnavailableError("no hint")}, 503, ""},
      {{absl::DeadlineExceededError("slow"), 1000ms}, 503, "1"},
      {{absl::InvalidArgumentError("bad data"), 1000ms}, 400, ""},
      {{absl::UnauthenticatedError("who")}, 401, ""},
      {{absl::PermissionDeniedError("no")}, 403, ""},
      {{absl::InternalError("boom")}, 500, ""},
  };
  for (const Case& c : cases) {
    recorder_.set_result(c.result);
    for (bool json : {false, true}) {
      RawResponse r = post("/v1/traces", json ? kJson : kProto, "");
      EXPECT_EQ(r.status, c.status) << c.result.status;
      EXPECT_EQ(r.header("retry-after"), c.retry_after) << c.result.status;
      google::rpc::Status status = parse_status(r);
      EXPECT_EQ(status.code(), static_cast<int>(c.result.status.code()));
      EXPECT_EQ(status.message(), c.result.status.message());
    }
  }
}

TEST_F(HttpServerTest, PartialSuccessIsAnsweredInTheRequestsEncoding) {
  start();
  recorder_.set_result(ExportResult{absl::OkStatus(), std::nullopt, 3, "3 spans dropped"});
  RawResponse proto = post("/v1/traces", kProto, "");
  EXPECT_EQ(proto.status, 200);
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(proto.body));
  EXPECT_EQ(response.partial_success().rejected_spans(), 3);
  EXPECT_EQ(response.partial_success().error_message(), "3 spans dropped");
  RawResponse json = post("/v1/traces", kJson, "");
  EXPECT_EQ(json.body,
            R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"3 spans dropped"}})");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  const std::string request = raw_request("POST", "/v1/logs", {{"Content-Type", kProto}},
                                          testing::request_bytes(otlp::Signal::kLogs));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(request).ok());
    absl::StatusOr<RawResponse> r = c.read_response();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->keep_alive);
  }
  // Pipelined: two requests in one write, two answers in order.
  ASSERT_TRUE(c.send(request + request).ok());
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RawResponse> r = c.read_response();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
  }
  // Connection: close is honoured.
  ASSERT_TRUE(c.send(raw_request("POST", "/v1/logs",
                                 {{"Content-Type", kProto}, {"Connection", "close"}}, ""))
                  .ok());
  absl::StatusOr<RawResponse> last = c.read_response();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->status, 200);
  EXPECT_FALSE(last->keep_alive);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(recorder_.count(), 6u);
}

TEST_F(HttpServerTest, KeepAliveCanBeTurnedOff) {
  HttpServerOptions options;
  options.keep_alive = false;
  start(options);
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(raw_request("POST", "/v1/logs", {{"Content-Type", kProto}}, "")).ok());
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpServerTest, ExpectContinueIsHonoured) {
  start();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  const std::string body = testing::request_bytes(otlp::Signal::kTraces);
  const std::string request = raw_request(
      "POST", "/v1/traces", {{"Content-Type", kProto}, {"Expect", "100-continue"}}, body);
  ASSERT_TRUE(c.send(request.substr(0, request.size() - body.size())).ok());  // the head only
  absl::StatusOr<RawResponse> interim = c.read_response();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send(body).ok());
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_EQ(recorder_.requests()[0].body, body);
}

TEST_F(HttpServerTest, CorsPreflightAndSimpleRequests) {
  HttpServerOptions options;
  options.cors.allowed_origins = {"https://*.example.com"};
  options.cors.allowed_headers = {"X-Api-Key"};
  options.cors.max_age = 600s;
  start(options);

  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(raw_request("OPTIONS", "/v1/traces",
                                 {{"Origin", "https://app.example.com"},
                                  {"Access-Control-Request-Method", "POST"},
                                  {"Access-Control-Request-Headers", "content-type, x-api-key"}},
                                 ""))
                  .ok());
  absl::StatusOr<RawResponse> preflight = c.read_response();
  ASSERT_TRUE(preflight.ok()) << preflight.status();
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(preflight->header("access-control-allow-methods"), "POST");
  EXPECT_EQ(preflight->header("access-control-allow-headers"), "content-type, x-api-key");
  EXPECT_EQ(preflight->header("access-control-max-age"), "600");
  EXPECT_TRUE(preflight->keep_alive);
  // The actual request, on the same connection.
  ASSERT_TRUE(
      c.send(raw_request("POST", "/v1/traces",
                         {{"Content-Type", kProto}, {"Origin", "https://app.example.com"}}, ""))
          .ok());
  absl::StatusOr<RawResponse> actual = c.read_response();
  ASSERT_TRUE(actual.ok()) << actual.status();
  EXPECT_EQ(actual->status, 200);
  EXPECT_EQ(actual->header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(actual->header("vary"), "Origin");

  // A foreign origin, or a header not allowed: the preflight carries no permission.
  for (const Headers& headers :
       {Headers{{"Origin", "https://evil.com"}, {"Access-Control-Request-Method", "POST"}},
        Headers{{"Origin", "https://a.example.com"},
                {"Access-Control-Request-Method", "POST"},
                {"Access-Control-Request-Headers", "x-other"}},
        Headers{{"Origin", "https://a.example.com"}, {"Access-Control-Request-Method", "PUT"}}}) {
    absl::StatusOr<RawResponse> r =
        raw_exchange(port_, raw_request("OPTIONS", "/v1/traces", headers, ""));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(r->header("access-control-allow-origin"), "");
  }
  RawResponse foreign = post("/v1/traces", kProto, "", {{"Origin", "https://evil.com"}});
  EXPECT_EQ(foreign.status, 200);
  EXPECT_EQ(foreign.header("access-control-allow-origin"), "");
}

TEST_F(HttpServerTest, CustomPathsReplaceTheDefaults) {
  HttpServerOptions options;
  options.traces_path = "/custom/traces";
  start(options);
  EXPECT_EQ(post("/custom/traces?x=1", kProto, "").status, 200);
  EXPECT_EQ(post("/v1/traces", kProto, "").status, 404);
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_EQ(recorder_.requests()[0].signal, otlp::Signal::kTraces);
}

TEST_F(HttpServerTest, GarbageFromOneClientDoesNotDisturbOthers) {
  start();
  constexpr int kGoodThreads = 4;
  constexpr int kRequestsEach = 20;
  std::atomic<int> good{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kGoodThreads; ++t) {
    threads.emplace_back([&, t] {
      RawHttpConnection c(port_);
      if (!c.connect().ok()) return;
      for (int i = 0; i < kRequestsEach; ++i) {
        const otlp::Signal signal = otlp::kAllSignals[(t + i) % 4];
        if (!c.send(raw_request("POST", path_of(signal), {{"Content-Type", kProto}},
                                testing::request_bytes(signal, i)))
                 .ok()) {
          return;
        }
        absl::StatusOr<RawResponse> r = c.read_response();
        if (r.ok() && r->status == 200) ++good;
      }
    });
  }
  std::thread vandal([&] {
    const std::string attacks[] = {
        "\x00\x01\x02\x03garbage\r\n\r\n",
        raw_request("POST", "/v1/traces", {{"Content-Type", kProto}}, "\xff\xff\xff\xff"),
        raw_request("POST", "/v1/traces", {{"Content-Type", kProto}, {"Content-Encoding", "gzip"}},
                    "nope"),
        raw_request("POST", "/v1/traces", {{"Content-Type", kJson}}, "[[[[[[[[[["),
        "POST /v1/traces HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",  // then hang up
    };
    while (!stop.load()) {
      for (const std::string& attack : attacks) {
        RawHttpConnection c(port_);
        if (!c.connect().ok()) continue;
        (void)c.send(attack);
        c.shutdown_send();
        (void)c.read_response();
      }
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  vandal.join();
  EXPECT_EQ(good.load(), kGoodThreads * kRequestsEach);
}

TEST_F(HttpServerTest, ShutdownClosesIdleConnectionsAndFinishesInFlightRequests) {
  csp::testing::LeakCheck leaks;
  testing::GatedHandler gate;
  start({}, gate.handler());

  RawHttpConnection busy(port_);
  ASSERT_TRUE(busy.connect().ok());
  ASSERT_TRUE(busy.send(raw_request("POST", "/v1/logs", {{"Content-Type", kProto}},
                                    testing::request_bytes(otlp::Signal::kLogs)))
                  .ok());
  ASSERT_TRUE(gate.entered.recv_blocking().has_value());  // in the handler now
  RawHttpConnection idle(port_);
  ASSERT_TRUE(idle.connect().ok());

  std::thread stopper([&] { server_->shutdown(); });
  EXPECT_TRUE(idle.wait_closed());
  // The listener is closed before idle connections are (both on the poller, in that order).
  RawHttpConnection late(port_);
  EXPECT_FALSE(late.connect().ok());

  gate.release.send_blocking(ExportResult{absl::OkStatus(), std::nullopt, 2, "two dropped"});
  absl::StatusOr<RawResponse> r = busy.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->keep_alive);
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(r->body));
  EXPECT_EQ(response.partial_success().rejected_log_records(), 2);
  EXPECT_TRUE(busy.wait_closed());
  stopper.join();
  server_->shutdown();  // idempotent
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST_F(HttpServerTest, ShutdownDeadlineClosesConnectionsStillReading) {
  start();
  RawHttpConnection slow(port_);
  ASSERT_TRUE(slow.connect().ok());
  ASSERT_TRUE(slow.send("POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-pro").ok());
  RawHttpConnection idle(port_);
  ASSERT_TRUE(idle.connect().ok());
  server_->shutdown(csp::Clock::now());
  EXPECT_TRUE(slow.wait_closed());
  EXPECT_TRUE(idle.wait_closed());
}

TEST_F(HttpServerTest, StartMisuseAndBadOptionsAreErrors) {
  start();
  EXPECT_EQ(server_->start().status().code(), absl::StatusCode::kFailedPrecondition);
  server_->shutdown();
  EXPECT_EQ(server_->start().status().code(), absl::StatusCode::kFailedPrecondition);

  HttpServerOptions relative;
  relative.logs_path = "v1/logs";
  EXPECT_EQ(relative.validate().message(), "logs_url_path: must start with '/', got \"v1/logs\"");
  HttpServerOptions twice;
  twice.metrics_path = "/v1/traces";
  EXPECT_EQ(twice.validate().message(),
            "traces_url_path and metrics_url_path: both are \"/v1/traces\"");
  HttpServerOptions zero;
  zero.max_request_body_bytes = 0;
  EXPECT_EQ(zero.validate().message(), "max_request_body_size: must be positive");
  HttpServerOptions endpoint;
  endpoint.endpoint = "nohost";
  EXPECT_EQ(endpoint.validate().code(), absl::StatusCode::kInvalidArgument);
  HttpServer refused(zero, recorder_.handler());
  EXPECT_EQ(refused.start().status().code(), absl::StatusCode::kInvalidArgument);

  HttpServerOptions taken;
  taken.endpoint = "127.0.0.1:" + std::to_string(port_);
  HttpServer first(taken, recorder_.handler());
  ASSERT_TRUE(first.start().ok());
  HttpServer second(taken, recorder_.handler());
  EXPECT_EQ(second.start().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace transport
