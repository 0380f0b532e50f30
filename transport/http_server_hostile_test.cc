// HttpServer against hostile clients on raw sockets: oversized trailers, chunk extensions and
// chunk-size lines, request smuggling through Transfer-Encoding / Content-Length, missing and
// duplicate Host, the connection limit and the memory reservation. Each hostile connection gets
// its exact answer and is closed; a well-behaved client on another connection is served before,
// during and after; and the handler receives exactly the valid requests (nothing smuggled).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "csp/scheduler.h"
#include "google/rpc/status.pb.h"
#include "otlp/compression.h"
#include "transport/http_server.h"
#include "transport/testing/raw_http.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using testing::raw_exchange;
using testing::raw_request;
using testing::RawHttpConnection;
using testing::RawResponse;
using namespace std::chrono_literals;

constexpr char kProto[] = "application/x-protobuf";

// A head for POST /v1/traces with the given extra header lines (each ending in CRLF).
std::string head_with(const std::string& lines, const std::string& version = "HTTP/1.1") {
  return absl::StrCat("POST /v1/traces ", version,
                      "\r\nHost: localhost\r\nContent-Type: application/x-protobuf\r\n", lines,
                      "\r\n");
}

std::string chunk(const std::string& data) {
  return absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}

// A valid request that would be stored if a server read it as a second request.
std::string smuggled_request() {
  return raw_request("POST", "/v1/logs", {{"Content-Type", kProto}},
                     testing::request_bytes(otlp::Signal::kLogs, 666));
}

// Counts the bytes a server has reserved, refuses above a budget, remembers the peak. The
// counts live in a shared block, so claims may outlive the reserver (a recorded request keeps
// its claims).
class CountingReserver {
 public:
  explicit CountingReserver(std::int64_t budget) : counts_(std::make_shared<Counts>()) {
    counts_->budget = budget;
  }

  MemoryReserver reserver() const {
    return [counts = counts_](std::int64_t bytes) -> MemoryClaim {
      std::lock_guard lock(counts->mu);
      if (bytes <= 0 || counts->in_use + bytes > counts->budget) {
        ++counts->refused;
        return nullptr;
      }
      counts->in_use += bytes;
      counts->peak = std::max(counts->peak, counts->in_use);
      return std::make_shared<Claim>(counts, bytes);
    };
  }
  void set_budget(std::int64_t budget) {
    std::lock_guard lock(counts_->mu);
    counts_->budget = budget;
  }
  std::int64_t in_use() const {
    std::lock_guard lock(counts_->mu);
    return counts_->in_use;
  }
  std::int64_t peak() const {
    std::lock_guard lock(counts_->mu);
    return counts_->peak;
  }
  int refused() const {
    std::lock_guard lock(counts_->mu);
    return counts_->refused;
  }

 private:
  struct Counts {
    std::mutex mu;
    std::int64_t budget = 0;
    std::int64_t in_use = 0;
    std::int64_t peak = 0;
    int refused = 0;
  };
  struct Claim {
    Claim(std::shared_ptr<Counts> counts, std::int64_t bytes)
        : counts(std::move(counts)), bytes(bytes) {}
    ~Claim() {
      std::lock_guard lock(counts->mu);
      counts->in_use -= bytes;
    }
    std::shared_ptr<Counts> counts;
    std::int64_t bytes;
  };
  std::shared_ptr<Counts> counts_;
};

class HttpServerHostileTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options, recorder_.handler());
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  void TearDown() override {
    if (server_) server_->shutdown();
    // Exactly the valid requests, in order: nothing smuggled, nothing refused.
    const std::vector<ExportRequest> got = recorder_.requests();
    ASSERT_EQ(got.size(), valid_.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].signal, otlp::Signal::kTraces);
      EXPECT_TRUE(testing::same_request(otlp::Signal::kTraces, got[i].body, valid_[i]));
    }
  }

  // A well-behaved client on its own connection gets 200.
  void expect_healthy() {
    const std::string body = testing::request_bytes(otlp::Signal::kTraces, valid_.size() + 1);
    absl::StatusOr<RawResponse> r =
        raw_exchange(port_, raw_request("POST", "/v1/traces", {{"Content-Type", kProto}}, body));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200) << r->body;
    valid_.push_back(body);
  }

  // Sends `bytes` on a new connection and expects exactly this answer, then the close.
  void expect_refused(const std::string& bytes, int status, const std::string& body) {
    expect_healthy();
    RawHttpConnection c(port_);
    ASSERT_TRUE(c.connect().ok());
    ASSERT_TRUE(c.send(bytes).ok());
    absl::StatusOr<RawResponse> r = c.read_response();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->body, body);
    EXPECT_FALSE(r->keep_alive);
    c.shutdown_send();
    EXPECT_TRUE(c.wait_closed());
    expect_healthy();
  }

  testing::RecordingHandler recorder_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::vector<std::string> valid_;  // bodies the handler must have received, in order
};

// ---- trailers, chunk extensions, chunk-size lines ----------------------------------------

TEST_F(HttpServerHostileTest, TrailerValueOf64KiBIs431AndTheServerLivesOn) {
  start();
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 7);
  for (const std::size_t size : {std::size_t{64} << 10, std::size_t{70000}, std::size_t{1} << 20}) {
    expect_refused(absl::StrCat(head_with("Transfer-Encoding: chunked\r\n"), chunk(body),
                                "0\r\nX-Big: ", std::string(size, 'a'), "\r\n\r\n"),
                   431, "431 request trailer fields too large");
  }
}

TEST_F(HttpServerHostileTest, ManyTrailerFieldsAre431) {
  start();
  std::string trailer;
  for (int i = 0; i < 4000; ++i) absl::StrAppend(&trailer, "X-T", i, ": v\r\n");
  expect_refused(
      absl::StrCat(head_with("Transfer-Encoding: chunked\r\n"), "0\r\n", trailer, "\r\n"), 431,
      "431 request trailer fields too large");
}

TEST_F(HttpServerHostileTest, SmallTrailersAndExtensionsAreAccepted) {
  start();
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 1);
  absl::StatusOr<RawResponse> r =
      raw_exchange(port_, absl::StrCat(head_with("Transfer-Encoding:  Chunked \r\n"),
                                       absl::Hex(body.size()), ";name=value;x\r\n", body,
                                       "\r\n0;last\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  valid_.push_back(body);
}

TEST_F(HttpServerHostileTest, ChunkExtensionOf1MiBIsRefusedLongBeforeItIsAllSent) {
  start();
  expect_healthy();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(head_with("Transfer-Encoding: chunked\r\n") + "10;ext=").ok());
  const std::string piece(4096, 'a');
  // 16 KiB of the 1 MiB extension: the limit is 1 KiB, so the answer must come now; a server
  // that kept buffering would wait for the rest and this read would time out.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.send(piece).ok());
  expect_healthy();  // during
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "400 malformed HTTP request: chunk extensions longer than 1024 bytes");
  EXPECT_FALSE(r->keep_alive);
  // The client is still able to send (the server swallows a little before closing).
  EXPECT_TRUE(c.send(piece).ok());
  c.shutdown_send();
  EXPECT_TRUE(c.wait_closed());
  expect_healthy();  // after
}

TEST_F(HttpServerHostileTest, HugeChunkSizeLineIsRefused) {
  start();
  expect_healthy();
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(head_with("Transfer-Encoding: chunked\r\n")).ok());
  const std::string zeros(4096, '0');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.send(zeros).ok());
  expect_healthy();
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "400 malformed HTTP request: chunk size line too long");
  c.shutdown_send();
  EXPECT_TRUE(c.wait_closed());
  expect_healthy();
}

TEST_F(HttpServerHostileTest, TunedLimitsAreEnforced) {
  HttpServerOptions options;
  options.max_trailer_bytes = 300;
  options.max_chunk_extension_bytes = 0;
  start(options);
  expect_refused(absl::StrCat(head_with("Transfer-Encoding: chunked\r\n"), "0;a\r\n\r\n"), 400,
                 "400 malformed HTTP request: chunk extensions longer than 0 bytes");
  expect_refused(absl::StrCat(head_with("Transfer-Encoding: chunked\r\n"),
                              "0\r\nX: ", std::string(400, 'b'), "\r\n\r\n"),
                 431, "431 request trailer fields too large");
}

// ---- request smuggling ----------------------------------------------------------------------

TEST_F(HttpServerHostileTest, ContentLengthWithTransferEncodingIs400InEitherOrder) {
  start();
  const std::string want = "400 malformed HTTP request: both Transfer-Encoding and Content-Length";
  const std::string chunked_end = "0\r\n\r\n";
  expect_refused(absl::StrCat(head_with(absl::StrCat("Content-Length: ", chunked_end.size(),
                                                     "\r\nTransfer-Encoding: chunked\r\n")),
                              chunked_end, smuggled_request()),
                 400, want);
  expect_refused(
      absl::StrCat(head_with(absl::StrCat("Transfer-Encoding: chunked\r\nContent-Length: ",
                                          chunked_end.size(), "\r\n")),
                   chunked_end, smuggled_request()),
      400, want);
  expect_refused(absl::StrCat(head_with("Transfer-Encoding: gzip\r\nContent-Length: 0\r\n"),
                              smuggled_request()),
                 400, want);
}

TEST_F(HttpServerHostileTest, TransferEncodingMustBeExactlyChunked) {
  start();
  const std::string body = smuggled_request();  // read as a 2nd request if the body were empty
  const std::string not_final =
      "400 malformed HTTP request: Transfer-Encoding does not end in chunked";
  expect_refused(head_with("Transfer-Encoding: chunked, chunked\r\n") + body, 400,
                 "400 malformed HTTP request: chunked applied more than once");
  expect_refused(head_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + body,
                 400, "400 malformed HTTP request: chunked applied more than once");
  expect_refused(head_with("Transfer-Encoding: gzip, chunked\r\n") + body, 501,
                 "501 transfer coding \"gzip\" is not implemented");
  expect_refused(head_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n") + body, 501,
                 "501 transfer coding \"gzip\" is not implemented");
  expect_refused(head_with("Transfer-Encoding: chunked, gzip\r\n") + body, 400, not_final);
  expect_refused(head_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n") + body, 400,
                 not_final);
  expect_refused(head_with("Transfer-Encoding: identity\r\n") + body, 400, not_final);
  expect_refused(head_with("Transfer-Encoding: \r\n") + body, 400, not_final);
  expect_refused(head_with("Transfer-Encoding: chunked;x=1\r\n") + body, 400, not_final);
  expect_refused(head_with("Transfer-Encoding: gzip,\r\n chunked\r\n") + body, 400,
                 "400 malformed HTTP request: obsolete line folding in the request head");
  expect_refused(head_with("X-Note: a\r\n\tb\r\nContent-Length: 0\r\n"), 400,
                 "400 malformed HTTP request: obsolete line folding in the request head");
}

TEST_F(HttpServerHostileTest, TransferEncodingOnHttp10Is400) {
  start();
  expect_refused(
      head_with("Transfer-Encoding: chunked\r\n", "HTTP/1.0") + "0\r\n\r\n" + smuggled_request(),
      400, "400 malformed HTTP request: Transfer-Encoding in an HTTP/1.0 request");
}

TEST_F(HttpServerHostileTest, HostIsRequiredOnceOnHttp11) {
  start();
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 3);
  expect_refused(absl::StrCat("POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf"
                              "\r\nContent-Length: ",
                              body.size(), "\r\n\r\n", body),
                 400, "400 malformed HTTP request: missing Host header");
  expect_refused(
      absl::StrCat(head_with(absl::StrCat("Host: other\r\nContent-Length: ", body.size(), "\r\n")),
                   body),
      400, "400 malformed HTTP request: duplicate Host header");
  // HTTP/1.0 needs no Host.
  absl::StatusOr<RawResponse> r =
      raw_exchange(port_, absl::StrCat("POST /v1/traces HTTP/1.0\r\nContent-Type: "
                                       "application/x-protobuf\r\nContent-Length: ",
                                       body.size(), "\r\n\r\n", body));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  valid_.push_back(body);
}

// ---- connection limit -----------------------------------------------------------------------

TEST_F(HttpServerHostileTest, AtTheConnectionLimitTheNextConnectionWaitsForAFreeSlot) {
  HttpServerOptions options;
  options.max_connections = 2;
  start(options);
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 11);
  const std::string request = raw_request("POST", "/v1/traces", {{"Content-Type", kProto}}, body);
  auto a = std::make_unique<RawHttpConnection>(port_);
  RawHttpConnection b(port_);
  for (RawHttpConnection* c : {a.get(), &b}) {
    ASSERT_TRUE(c->connect().ok());
    ASSERT_TRUE(c->send(request).ok());
    absl::StatusOr<RawResponse> r = c->read_response();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 200);
    valid_.push_back(body);
  }
  RawHttpConnection third(port_);
  ASSERT_TRUE(third.connect().ok());  // the kernel's backlog takes it
  ASSERT_TRUE(third.send(request).ok());
  // The server keeps serving the connections it has...
  ASSERT_TRUE(a->send(request).ok());
  absl::StatusOr<RawResponse> r = a->read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  valid_.push_back(body);
  // ...but the third is not accepted, so it gets no answer.
  EXPECT_FALSE(third.readable_within(300ms));
  // Once one of the two closes, the third is accepted and served.
  a.reset();
  r = third.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  valid_.push_back(body);
}

// ---- memory reservation ---------------------------------------------------------------------

google::rpc::Status parse_status(const RawResponse& r) {
  google::rpc::Status status;
  EXPECT_EQ(r.header("content-type"), kProto);
  EXPECT_TRUE(status.ParseFromString(r.body));
  return status;
}

void expect_memory_refusal(const RawResponse& r) {
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "1");
  const google::rpc::Status status = parse_status(r);
  EXPECT_EQ(status.code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(status.message(), "data refused due to high memory usage");
}

TEST_F(HttpServerHostileTest, MemoryRefusalIsAnsweredBeforeTheBodyIsRead) {
  CountingReserver memory(1000);
  HttpServerOptions options;
  options.reserve_memory = memory.reserver();
  start(options);
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  // Only the head: a server that read the body first would wait, and this read would time out.
  ASSERT_TRUE(c.send(head_with("Content-Length: 5000\r\n")).ok());
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  expect_memory_refusal(*r);
  EXPECT_FALSE(r->keep_alive);
  c.shutdown_send();
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(memory.refused(), 1);
  EXPECT_EQ(memory.in_use(), 0);
}

TEST_F(HttpServerHostileTest, ChunkedBodiesReserveAsTheyGrowAndAreRefusedAtTheBudget) {
  constexpr std::int64_t kBudget = 200 << 10;
  CountingReserver memory(kBudget);
  HttpServerOptions options;
  options.reserve_memory = memory.reserver();
  start(options);
  // 1 MiB of chunks, 16 KiB each: refused once the reservation passes the budget.
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(head_with("Transfer-Encoding: chunked\r\n")).ok());
  const std::string piece = chunk(std::string(16 << 10, 'x'));
  absl::StatusOr<RawResponse> r;
  for (int i = 0; i < 64; ++i) {
    if (!c.send(piece).ok()) break;
    if (c.readable_within(0ms)) break;
  }
  r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  expect_memory_refusal(*r);
  EXPECT_FALSE(r->keep_alive);
  EXPECT_LE(memory.peak(), kBudget);
  EXPECT_GE(memory.refused(), 1);

  // A chunked request within the budget is reserved for (at least its body) and served; the
  // claims travel with the request, so they stay counted while the handler keeps it.
  memory.set_budget(std::int64_t{64} << 20);
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 5);
  std::string chunks;
  for (std::size_t at = 0; at < body.size(); at += 100) chunks += chunk(body.substr(at, 100));
  r = raw_exchange(port_,
                   absl::StrCat(head_with("Transfer-Encoding: chunked\r\n"), chunks, "0\r\n\r\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  valid_.push_back(body);
  EXPECT_GE(memory.in_use(), static_cast<std::int64_t>(body.size()));
  const std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].memory, nullptr);
}

TEST_F(HttpServerHostileTest, InflationIsReservedAfterTheBodyAndARefusalKeepsTheConnection) {
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 9);
  const std::string compressed = *otlp::compress(otlp::Compression::kGzip, body);
  // Enough for the compressed body, not for the inflated output's first step (64 KiB).
  CountingReserver memory(static_cast<std::int64_t>(compressed.size()) + 1000);
  HttpServerOptions options;
  options.reserve_memory = memory.reserver();
  start(options);
  const std::string request = raw_request(
      "POST", "/v1/traces", {{"Content-Type", kProto}, {"Content-Encoding", "gzip"}}, compressed);
  RawHttpConnection c(port_);
  ASSERT_TRUE(c.connect().ok());
  ASSERT_TRUE(c.send(request).ok());
  absl::StatusOr<RawResponse> r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  expect_memory_refusal(*r);
  EXPECT_TRUE(r->keep_alive);  // the body was read: the connection stays in step
  EXPECT_EQ(memory.in_use(), 0);
  memory.set_budget(std::int64_t{64} << 20);
  ASSERT_TRUE(c.send(request).ok());
  r = c.read_response();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  valid_.push_back(body);
  EXPECT_GE(memory.in_use(), static_cast<std::int64_t>(body.size()));
}

TEST_F(HttpServerHostileTest, NewOptionsAreValidatedWithTheirNames) {
  HttpServerOptions o;
  o.max_trailer_bytes = 10;
  EXPECT_EQ(o.validate().message(), "max_trailer_bytes: must be in [256, 61440], got 10");
  o = {};
  o.max_chunk_extension_bytes = 1 << 20;
  EXPECT_EQ(o.validate().message(),
            "max_chunk_extension_bytes: must be at most 65536, got 1048576");
  o = {};
  o.max_connections = 0;
  EXPECT_EQ(o.validate().message(), "max_connections: must be in [1, 1048576], got 0");
  EXPECT_TRUE(HttpServerOptions{}.validate().ok());
}

// ---- the in-memory connection the fuzz target drives ----------------------------------------

TEST_F(HttpServerHostileTest, ServeBytesAnswersPipelinedRequestsInOneByteReads) {
  const std::string body = testing::request_bytes(otlp::Signal::kTraces, 21);
  const std::string good = raw_request("POST", "/v1/traces", {{"Content-Type", kProto}}, body);
  const std::string input = good + good + head_with("Transfer-Encoding: gzip, chunked\r\n");
  std::string output = csp::block_on([&]() -> csp::Task<std::string> {
    csp::Task<std::string> served =
        internal::serve_bytes(HttpServerOptions{}, recorder_.handler(), input, 1);
    co_return co_await std::move(served);
  }());
  valid_.push_back(body);
  valid_.push_back(body);
  EXPECT_THAT(output, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(output, ::testing::HasSubstr("HTTP/1.1 501 Not Implemented\r\n"));
  EXPECT_THAT(output, ::testing::EndsWith("501 transfer coding \"gzip\" is not implemented"));
}

}  // namespace
}  // namespace transport
