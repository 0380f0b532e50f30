// GrpcExporterClient against GrpcServer (and, for metadata, a bare gRPC generic service):
// round trips of every signal and compression, retryable refusals with RetryInfo, partial
// success, timeouts, cancellation and unreachable servers.

#include "transport/grpc_client.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "csp/context.h"
#include "csp/internal/test_util.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "csp/wait_group.h"
#include "transport/grpc_server.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

ExportResult export_blocking(GrpcExporterClient& client, otlp::Signal signal, std::string body,
                             csp::Context ctx = csp::Context::background()) {
  return csp::block_on(client.export_request(signal, std::move(body), ctx));
}

class GrpcClientTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(recorder_.handler()); }

  void start_server(ExportHandler handler) {
    GrpcServerOptions options;
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<GrpcServer>(options, std::move(handler));
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    endpoint_ = "127.0.0.1:" + std::to_string(*port);
  }

  GrpcClientOptions client_options(otlp::Compression compression = otlp::Compression::kGzip) {
    GrpcClientOptions options;
    options.endpoint = endpoint_;
    options.insecure = true;
    options.compression = compression;
    return options;
  }

  testing::RecordingHandler recorder_;
  std::unique_ptr<GrpcServer> server_;
  std::string endpoint_;
};

TEST_F(GrpcClientTest, EverySignalAndCompressionRoundTrips) {
  for (otlp::Compression compression :
       {otlp::Compression::kNone, otlp::Compression::kGzip, otlp::Compression::kDeflate}) {
    GrpcExporterClient client(client_options(compression));
    for (otlp::Signal signal : otlp::kAllSignals) {
      const std::string body = testing::request_bytes(signal, 21);
      ExportResult result = export_blocking(client, signal, body);
      EXPECT_TRUE(result.status.ok()) << result.status;
      EXPECT_EQ(result.rejected_items, 0);
      EXPECT_EQ(result.retry_after, std::nullopt);
    }
  }
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 12u);
  for (const ExportRequest& r : got) EXPECT_EQ(r.body, testing::request_bytes(r.signal, 21));
}

// include_metadata on the server hands the call's metadata (no pseudo-headers) and the
// client's address to the handler; a per-request header list replaces the options' headers.
TEST_F(GrpcClientTest, PerRequestHeadersReachAServerThatIncludesMetadata) {
  GrpcServerOptions server;
  server.endpoint = "127.0.0.1:0";
  server.include_metadata = true;
  server_ = std::make_unique<GrpcServer>(server, recorder_.handler());
  absl::StatusOr<int> port = server_->start();
  ASSERT_TRUE(port.ok()) << port.status();
  endpoint_ = "127.0.0.1:" + std::to_string(*port);
  GrpcClientOptions options = client_options();
  options.headers = {{"X-Static", "s"}, {"X-Tenant", "default"}};
  GrpcExporterClient client(options);
  const std::string body = testing::request_bytes(otlp::Signal::kMetrics, 3);
  const Headers per_request = {{"X-Tenant", "acme"}};
  ExportResult result = csp::block_on(client.export_borrowed(
      otlp::Signal::kMetrics, body, csp::Context::background(), &per_request));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_TRUE(export_blocking(client, otlp::Signal::kMetrics, body).status.ok());
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 2u);
  const auto value_of = testing::metadata_values;
  EXPECT_THAT(value_of(got[0], "x-tenant"), ::testing::ElementsAre("acme"));
  EXPECT_TRUE(value_of(got[0], "x-static").empty()) << "replaced by the per-request list";
  EXPECT_THAT(value_of(got[0], "content-type"), ::testing::ElementsAre("application/grpc"));
  EXPECT_THAT(value_of(got[1], "x-tenant"), ::testing::ElementsAre("default"));
  EXPECT_THAT(value_of(got[1], "x-static"), ::testing::ElementsAre("s"));
  for (const auto& [k, v] : got[0].metadata) EXPECT_NE(k.front(), ':') << k;
  EXPECT_THAT(got[0].peer, StartsWith("127.0.0.1:"));
  // The fixture's server (no include_metadata) passes none.
}

TEST_F(GrpcClientTest, PartialSuccessIsReported) {
  recorder_.set_result(ExportResult{absl::OkStatus(), std::nullopt, 5, "five points dropped"});
  GrpcExporterClient client(client_options());
  for (otlp::Signal signal : otlp::kAllSignals) {
    ExportResult result = export_blocking(client, signal, testing::request_bytes(signal));
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_EQ(result.rejected_items, 5);
    EXPECT_EQ(result.partial_message, "five points dropped");
  }
}

TEST_F(GrpcClientTest, RetryableRefusalsCarryRetryAfter) {
  GrpcExporterClient client(client_options());
  for (absl::Status refusal : {absl::UnavailableError("queue full"),
                               absl::ResourceExhaustedError("memory limit reached")}) {
    recorder_.set_result(ExportResult{refusal, 2500ms});
    ExportResult result =
        export_blocking(client, otlp::Signal::kLogs, testing::request_bytes(otlp::Signal::kLogs));
    EXPECT_EQ(result.status, refusal);
    EXPECT_EQ(result.retry_after, 2500ms);
    EXPECT_TRUE(result.not_received) << "the server answered with a google.rpc.Status";
  }
  recorder_.set_result(ExportResult{absl::UnavailableError("no hint")});
  ExportResult result = export_blocking(client, otlp::Signal::kLogs, "");
  EXPECT_EQ(result.status, absl::UnavailableError("no hint"));
  EXPECT_EQ(result.retry_after, std::nullopt);
  // A bare status looks like one gRPC makes up for a lost connection: unknown.
  EXPECT_FALSE(result.not_received);
}

TEST_F(GrpcClientTest, MalformedBodyComesBackAsTheServersInvalidArgument) {
  GrpcExporterClient client(client_options());
  const std::string garbage = "\x12\x34 not a request";
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, garbage);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status.message(), testing::invalid_message(otlp::Signal::kTraces, garbage));
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(GrpcClientTest, ManyConcurrentExportsFromGoroutines) {
  GrpcExporterClient client(client_options());
  // The server keeps one goroutine per connection: connect first, then count.
  ASSERT_TRUE(export_blocking(client, otlp::Signal::kTraces, "").status.ok());
  const std::size_t before = recorder_.count();
  csp::testing::LeakCheck leaks;
  constexpr int kExports = 64;
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
  EXPECT_EQ(recorder_.count() - before, static_cast<std::size_t>(kExports));
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST_F(GrpcClientTest, TimeoutIsDeadlineExceeded) {
  testing::GatedHandler gate;
  server_->shutdown(csp::Clock::now());
  start_server(gate.handler());
  GrpcClientOptions options = client_options();
  // Long enough for the request to reach the handler even under ThreadSanitizer.
  options.timeout = 1000ms;
  GrpcExporterClient client(options);
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded) << result.status;
  EXPECT_FALSE(result.not_received) << "the server has the request";
  // The handler was entered (bounded: a request that never arrived fails instead of hanging).
  const bool entered = csp::block_on([&]() -> csp::Task<bool> {
    csp::Chan<csp::TimePoint> give_up = csp::after(30s);
    co_return co_await csp::select(csp::recv(gate.entered), csp::recv(give_up)) == 0;
  }());
  ASSERT_TRUE(entered) << "the request never reached the handler";
  gate.release.send_blocking(ExportResult{});
}

TEST_F(GrpcClientTest, CancellingTheContextCancelsTheCall) {
  testing::GatedHandler gate;
  server_->shutdown(csp::Clock::now());
  start_server(gate.handler());
  GrpcExporterClient client(client_options());
  auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
  std::thread canceller([&, cancel = cancel] {
    gate.entered.recv_blocking();  // the call is in the handler
    cancel();
  });
  ExportResult result = export_blocking(client, otlp::Signal::kMetrics, "", ctx);
  canceller.join();
  EXPECT_EQ(result.status, ctx.err());
  EXPECT_EQ(result.status.code(), absl::StatusCode::kCancelled);
  gate.release.send_blocking(ExportResult{});

  // A context that is already done never sends.
  ExportResult early = export_blocking(client, otlp::Signal::kMetrics, "", ctx);
  EXPECT_EQ(early.status.code(), absl::StatusCode::kCancelled);
}

// A lent body is read in place: the server gets exactly its bytes, and the caller may change
// and free it as soon as the export returns — even when the call ended early by cancellation.
// (Under AddressSanitizer a read by gRPC after the return is a use-after-free.)
TEST_F(GrpcClientTest, ALentBodyIsTheCallersAgainWhenTheExportReturns) {
  GrpcExporterClient client(client_options(otlp::Compression::kNone));
  std::string expected;
  for (int i = 0; i < 200; ++i) expected += testing::request_bytes(otlp::Signal::kLogs, 50);
  auto body = std::make_unique<std::string>(expected);
  ExportResult result =
      csp::block_on(client.export_borrowed(otlp::Signal::kLogs, *body, csp::Context::background()));
  ASSERT_TRUE(result.status.ok()) << result.status;
  body->assign(body->size(), 'x');
  body.reset();
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, expected);

  testing::GatedHandler gate;
  server_->shutdown(csp::Clock::now());
  start_server(gate.handler());
  GrpcExporterClient gated(client_options(otlp::Compression::kNone));
  auto [ctx, cancel] = csp::with_cancel(csp::Context::background());
  std::thread canceller([&, cancel = cancel] {
    gate.entered.recv_blocking();
    cancel();
  });
  body = std::make_unique<std::string>(expected);
  ExportResult cancelled = csp::block_on(gated.export_borrowed(otlp::Signal::kLogs, *body, ctx));
  canceller.join();
  body.reset();
  EXPECT_EQ(cancelled.status.code(), absl::StatusCode::kCancelled);
  gate.release.send_blocking(ExportResult{});
}

TEST_F(GrpcClientTest, UnreachableServerIsUnavailable) {
  const std::string endpoint = endpoint_;
  server_->shutdown(csp::Clock::now());
  GrpcClientOptions options = client_options();
  options.endpoint = endpoint;
  GrpcExporterClient client(options);
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable) << result.status;
  EXPECT_TRUE(result.not_received) << result.status;
}

TEST_F(GrpcClientTest, BadOptionsFailEveryExport) {
  GrpcClientOptions zstd = client_options(otlp::Compression::kZstd);
  EXPECT_EQ(zstd.validate().code(), absl::StatusCode::kInvalidArgument);
  GrpcExporterClient client(zstd);
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_EQ(result.status.message(),
            "compression: zstd is not supported over gRPC (gRPC 1.51 knows none, gzip, deflate)");

  GrpcClientOptions empty;
  EXPECT_EQ(empty.validate().message(), "endpoint: must be set");
  GrpcClientOptions missing_ca = client_options();
  missing_ca.insecure = false;
  missing_ca.tls.ca_file = "/nonexistent/ca.pem";
  GrpcExporterClient tls(missing_ca);
  EXPECT_EQ(export_blocking(tls, otlp::Signal::kTraces, "").status.message(),
            "ca_file \"/nonexistent/ca.pem\": cannot open");
  EXPECT_EQ(recorder_.count(), 0u);
}

// A bare generic service that records the metadata of the calls it answers.
class MetadataRecorder final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    {
      std::lock_guard lock(mu_);
      for (const auto& [key, value] : ctx->client_metadata()) {
        metadata_.emplace(std::string(key.data(), key.size()),
                          std::string(value.data(), value.size()));
      }
    }
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() {
        grpc::Slice empty(std::string{});
        response_ = grpc::ByteBuffer(&empty, 1);
        StartRead(&request_);
      }
      void OnReadDone(bool) override { StartWriteAndFinish(&response_, {}, grpc::Status::OK); }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer request_;
      grpc::ByteBuffer response_;
    };
    return new Reactor;
  }
  std::multimap<std::string, std::string> metadata() {
    std::lock_guard lock(mu_);
    return metadata_;
  }

 private:
  std::mutex mu_;
  std::multimap<std::string, std::string> metadata_;
};

TEST(GrpcClientHeaders, HeadersAreSentAsLowerCaseMetadata) {
  MetadataRecorder service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  GrpcClientOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(port);  // the scheme is dropped
  options.insecure = true;
  options.headers = {{"X-Api-Key", "secret"}, {"tenant", "a"}};
  GrpcExporterClient client(options);
  ExportResult result = export_blocking(client, otlp::Signal::kTraces, "");
  EXPECT_TRUE(result.status.ok()) << result.status;
  auto metadata = service.metadata();
  EXPECT_EQ(metadata.count("x-api-key"), 1u);
  EXPECT_EQ(metadata.find("x-api-key")->second, "secret");
  EXPECT_EQ(metadata.find("tenant")->second, "a");
  EXPECT_THAT(metadata.find("user-agent")->second, StartsWith("otlpd"));
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace transport
