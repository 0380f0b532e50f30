// Unit tests of transport/internal: endpoints, URLs, CORS matching, status mapping and the small
// messages around payloads.

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "transport/internal/cors.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/messages.h"
#include "transport/internal/status_mapping.h"
#include "transport/internal/url.h"

namespace transport::internal {
namespace {

using std::chrono::milliseconds;

TEST(Endpoint, ParsesHostPortForms) {
  auto a = parse_host_port("localhost:4317", "endpoint");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 4317);
  auto b = parse_host_port("[::1]:0", "endpoint");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  auto c = parse_host_port(":4318", "endpoint");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "");
  EXPECT_EQ(format_host_port("::1", 80), "[::1]:80");
  EXPECT_EQ(format_host_port("127.0.0.1", 80), "127.0.0.1:80");
}

TEST(Endpoint, RefusesWhatIsNotHostPort) {
  for (const char* bad :
       {"localhost", "host:", "host:65536", "host:12a", "::1:80", "[::1", "[::1]80", "host:-1"}) {
    auto r = parse_host_port(bad, "endpoint");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(parse_host_port("host:99999", "endpoint").status().message(),
            "endpoint \"host:99999\": want a port number in [0, 65535]");
}

TEST(Url, ParsesAndDefaultsPorts) {
  auto u = parse_url("http://collector:4318/v1/traces?x=1", "traces_endpoint");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "collector");
  EXPECT_EQ(u->port, 4318);
  EXPECT_EQ(u->target, "/v1/traces?x=1");
  EXPECT_EQ(u->host_header(), "collector:4318");
  auto d = parse_url("HTTP://example.com", "endpoint");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->target, "/");
  EXPECT_EQ(d->host_header(), "example.com");
  auto v6 = parse_url("http://[::1]:9/p", "endpoint");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->host_header(), "[::1]:9");
  auto s = parse_url("https://example.com", "endpoint");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->port, 443);
}

TEST(Url, RefusesOtherShapes) {
  for (const char* bad : {"example.com:4318", "ftp://x", "http://", "http://u@x/", "http://x/#f",
                          "http://::1/", "http://x:0/", "http://x/a b"}) {
    EXPECT_FALSE(parse_url(bad, "endpoint").ok()) << bad;
  }
}

TEST(Url, JoinsPathsWithOneSlash) {
  EXPECT_EQ(join_url_path("http://h:1", "v1/traces"), "http://h:1/v1/traces");
  EXPECT_EQ(join_url_path("http://h:1/base/", "/v1/traces"), "http://h:1/base/v1/traces");
}

TEST(Cors, WildcardOrigins) {
  EXPECT_TRUE(wildcard_match("*", "https://anything"));
  EXPECT_TRUE(wildcard_match("https://*.example.com", "https://a.b.example.com"));
  EXPECT_TRUE(wildcard_match("https://*.example.com", "HTTPS://A.EXAMPLE.COM"));
  EXPECT_FALSE(wildcard_match("https://*.example.com", "https://example.com"));
  EXPECT_FALSE(wildcard_match("https://*.example.com", "https://a.example.com.evil"));
  EXPECT_TRUE(wildcard_match("http://*:*", "http://host:8080"));
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(cors_origin_allowed({}, "https://x"));
  EXPECT_FALSE(cors_origin_allowed({"*"}, ""));
  EXPECT_TRUE(cors_origin_allowed({"https://a", "https://*.b"}, "https://x.b"));
}

TEST(Cors, RequestedHeaders) {
  EXPECT_TRUE(cors_headers_allowed({}, ""));
  EXPECT_TRUE(cors_headers_allowed({}, "Content-Type, accept"));
  EXPECT_FALSE(cors_headers_allowed({}, "content-type, x-api-key"));
  EXPECT_TRUE(cors_headers_allowed({"X-Api-Key"}, "content-type, x-api-key"));
  EXPECT_TRUE(cors_headers_allowed({"*"}, "anything,  else"));
}

TEST(StatusMapping, ServerTable) {
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kOk), 200);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kDeadlineExceeded), 503);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kUnimplemented), 404);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(http_status_for_code(absl::StatusCode::kFailedPrecondition), 500);
}

TEST(StatusMapping, ClientTable) {
  EXPECT_EQ(code_for_http_status(200), absl::StatusCode::kOk);
  EXPECT_EQ(code_for_http_status(204), absl::StatusCode::kOk);
  EXPECT_EQ(code_for_http_status(429), absl::StatusCode::kResourceExhausted);
  for (int s : {502, 503, 504}) EXPECT_EQ(code_for_http_status(s), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code_for_http_status(400), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_for_http_status(413), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_for_http_status(401), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code_for_http_status(403), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code_for_http_status(404), absl::StatusCode::kNotFound);
  EXPECT_EQ(code_for_http_status(415), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(code_for_http_status(418), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(code_for_http_status(500), absl::StatusCode::kInternal);
  EXPECT_EQ(code_for_http_status(302), absl::StatusCode::kUnknown);
}

TEST(StatusMapping, RetryAfter) {
  EXPECT_EQ(retry_after_seconds(milliseconds(0)), 0);
  EXPECT_EQ(retry_after_seconds(milliseconds(1)), 1);
  EXPECT_EQ(retry_after_seconds(milliseconds(1000)), 1);
  EXPECT_EQ(retry_after_seconds(milliseconds(1500)), 2);
  EXPECT_EQ(parse_retry_after(" 7 "), milliseconds(7000));
  EXPECT_EQ(parse_retry_after("0"), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after(""), std::nullopt);
  EXPECT_EQ(parse_retry_after("99999999999999999999"), std::nullopt);
}

TEST(Messages, MethodsNameEverySignal) {
  for (otlp::Signal signal : otlp::kAllSignals) {
    EXPECT_EQ(signal_of_method(export_method(signal)), signal);
  }
  EXPECT_EQ(export_method(otlp::Signal::kTraces),
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export");
  EXPECT_EQ(export_method(otlp::Signal::kProfiles),
            "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export");
  EXPECT_EQ(signal_of_method("/x.Y/Export"), std::nullopt);
}

TEST(Messages, PartialSuccessRoundTripsInBothEncodings) {
  for (otlp::Signal signal : otlp::kAllSignals) {
    auto full = make_export_response(signal, 0, "");
    EXPECT_EQ(full->ByteSizeLong(), 0u);
    auto partial = make_export_response(signal, 7, "seven dropped");
    for (bool json : {false, true}) {
      std::string body;
      if (json) {
        body = "{\"partialSuccess\":{\"rejected" +
               std::string(signal == otlp::Signal::kTraces    ? "Spans"
                           : signal == otlp::Signal::kMetrics ? "DataPoints"
                           : signal == otlp::Signal::kLogs    ? "LogRecords"
                                                              : "Profiles") +
               "\":\"7\",\"errorMessage\":\"seven dropped\"}}";
      } else {
        body = partial->SerializeAsString();
      }
      auto parsed = parse_partial_success(signal, body, json);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(parsed->rejected_items, 7);
      EXPECT_EQ(parsed->message, "seven dropped");
    }
  }
  EXPECT_FALSE(parse_partial_success(otlp::Signal::kLogs, "\xff\xff", false).ok());
}

TEST(Messages, RpcStatusCarriesRetryInfo) {
  google::rpc::Status s = make_rpc_status(absl::UnavailableError("busy"), milliseconds(1500));
  EXPECT_EQ(s.code(), 14);
  EXPECT_EQ(s.message(), "busy");
  ASSERT_EQ(s.details_size(), 1);
  EXPECT_EQ(s.details(0).type_url(), "type.googleapis.com/google.rpc.RetryInfo");
  EXPECT_EQ(retry_info_of(s), milliseconds(1500));
  EXPECT_EQ(retry_info_of(make_rpc_status(absl::UnavailableError("x"), std::nullopt)),
            std::nullopt);

  google::rpc::Status hostile;
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(-5);
  info.mutable_retry_delay()->set_nanos(-1);
  hostile.add_details()->PackFrom(info);
  EXPECT_EQ(retry_info_of(hostile), milliseconds(0));
}

TEST(Messages, RpcStatusBodiesInBothEncodings) {
  google::rpc::Status s =
      make_rpc_status(absl::InvalidArgumentError("bad \"thing\""), std::nullopt);
  EXPECT_EQ(encode_rpc_status(s, true), R"({"code":3,"message":"bad \"thing\""})");
  for (bool json : {false, true}) {
    auto back = decode_rpc_status(encode_rpc_status(s, json), json);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->code(), 3);
    EXPECT_EQ(back->message(), "bad \"thing\"");
  }
  EXPECT_FALSE(decode_rpc_status("{", true).ok());
}

}  // namespace
}  // namespace transport::internal
