// GrpcServer against plain gRPC clients: grpc::GenericStub sends raw (also broken) bytes, so
// these tests see exactly what any OTLP/gRPC client would.

#include "transport/grpc_server.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "csp/internal/test_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "otlp/compression.h"
#include "otlp/testing/nesting.h"
#include "transport/internal/messages.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

std::string flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// One unary call through grpc::GenericStub; start() returns at once, wait() blocks.
class RawCall {
 public:
  RawCall(std::shared_ptr<grpc::Channel> channel, std::string method, const std::string& body,
          grpc_compression_algorithm compression = GRPC_COMPRESS_NONE)
      : stub_(std::move(channel)), method_(std::move(method)) {
    grpc::Slice slice(body);
    request_ = grpc::ByteBuffer(&slice, 1);
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    context_.set_compression_algorithm(compression);
  }
  void start() {
    stub_.UnaryCall(&context_, method_, grpc::StubOptions(), &request_, &response_,
                    [this](grpc::Status s) { done_.set_value(std::move(s)); });
  }
  grpc::Status wait() { return done_.get_future().get(); }
  std::string response() const { return flatten(response_); }

 private:
  grpc::GenericStub stub_;
  std::string method_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::promise<grpc::Status> done_;
};

struct CallResult {
  grpc::Status status;
  std::string response;
};

CallResult call(std::shared_ptr<grpc::Channel> channel, const std::string& method,
                const std::string& body,
                grpc_compression_algorithm compression = GRPC_COMPRESS_NONE) {
  RawCall c(std::move(channel), method, body, compression);
  c.start();
  grpc::Status status = c.wait();
  return {status, c.response()};
}

std::string method_of(otlp::Signal signal) { return std::string(internal::export_method(signal)); }

class GrpcServerTest : public ::testing::Test {
 protected:
  void start(GrpcServerOptions options = {}, ExportHandler handler = {}) {
    options.endpoint = "127.0.0.1:0";
    server_ = std::make_unique<GrpcServer>(options, handler ? handler : recorder_.handler());
    absl::StatusOr<int> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_GT(*port, 0);
    EXPECT_EQ(server_->port(), *port);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(*port),
                                   grpc::InsecureChannelCredentials());
  }

  testing::RecordingHandler recorder_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcServerTest, EverySignalReachesTheHandlerAsSent) {
  start();
  for (otlp::Signal signal : otlp::kAllSignals) {
    const std::string body = testing::request_bytes(signal, 7);
    CallResult r = call(channel_, method_of(signal), body);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(r.response, "");  // full success: an empty Export*ServiceResponse
  }
  std::vector<ExportRequest> got = recorder_.requests();
  ASSERT_EQ(got.size(), 4u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].signal, otlp::kAllSignals[i]);
    EXPECT_EQ(got[i].body, testing::request_bytes(otlp::kAllSignals[i], 7));
    EXPECT_THAT(got[i].peer, StartsWith("127.0.0.1:"));
  }
}

TEST_F(GrpcServerTest, GzipAndDeflateRequestsAreInflatedByGrpc) {
  start();
  for (grpc_compression_algorithm c : {GRPC_COMPRESS_GZIP, GRPC_COMPRESS_DEFLATE}) {
    for (otlp::Signal signal : otlp::kAllSignals) {
      const std::string body = testing::request_bytes(signal, 11);
      CallResult r = call(channel_, method_of(signal), body, c);
      ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    }
  }
  for (const ExportRequest& r : recorder_.requests()) {
    EXPECT_EQ(r.body, testing::request_bytes(r.signal, 11));
  }
  EXPECT_EQ(recorder_.count(), 8u);
}

TEST_F(GrpcServerTest, EmptyRequestIsValid) {
  start();
  CallResult r = call(channel_, method_of(otlp::Signal::kLogs), "");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_EQ(recorder_.requests()[0].body, "");
}

TEST_F(GrpcServerTest, MalformedProtobufIsInvalidArgumentAndNeverReachesTheHandler) {
  start();
  const std::string garbage = "\x0a\xff\xff\xff\xff\x0f garbage";
  CallResult r = call(channel_, method_of(otlp::Signal::kTraces), garbage);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(), testing::invalid_message(otlp::Signal::kTraces, garbage));
  EXPECT_THAT(r.status.error_message(), StartsWith("invalid ExportTraceServiceRequest: "));

  // A truncated request: a valid one cut in the middle.
  const std::string whole = testing::request_bytes(otlp::Signal::kMetrics, 3);
  const std::string cut = whole.substr(0, whole.size() / 2);
  r = call(channel_, method_of(otlp::Signal::kMetrics), cut);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(), testing::invalid_message(otlp::Signal::kMetrics, cut));
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(GrpcServerTest, HostileNestingIsRefusedWithOtlpsMessage) {
  start();
  otlp::TracesRequest request;
  auto* span = request.add_resource_spans()->add_scope_spans()->add_spans();
  auto* attribute = span->add_attributes();
  attribute->set_key("deep");
  otlp::testing::nest_any_value(*attribute->mutable_value(), 200);
  const std::string bytes = request.SerializeAsString();
  CallResult r = call(channel_, method_of(otlp::Signal::kTraces), bytes);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(), testing::invalid_message(otlp::Signal::kTraces, bytes));
  EXPECT_THAT(r.status.error_message(), HasSubstr("nesting"));
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(GrpcServerTest, UnknownMethodIsUnimplemented) {
  start();
  CallResult r = call(channel_, "/opentelemetry.proto.collector.trace.v1.TraceService/Nope", "");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(r.status.error_message(),
            "unknown method /opentelemetry.proto.collector.trace.v1.TraceService/Nope");
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(GrpcServerTest, OversizedAndBombCompressedRequestsAreRefusedByTheSizeLimit) {
  GrpcServerOptions options;
  options.max_recv_msg_size_mib = 1;
  start(options);
  // 2 MiB of a valid request (a big attribute) sent plainly, and the same gzip-compressed: the
  // wire carries a few KiB, the limit applies to the inflated message.
  otlp::LogsRequest request;
  auto* record = request.add_resource_logs()->add_scope_logs()->add_log_records();
  record->mutable_body()->set_string_value(std::string(2 << 20, 'a'));
  const std::string big = request.SerializeAsString();
  for (grpc_compression_algorithm c : {GRPC_COMPRESS_NONE, GRPC_COMPRESS_GZIP}) {
    CallResult r = call(channel_, method_of(otlp::Signal::kLogs), big, c);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << r.status.error_message();
  }
  EXPECT_EQ(recorder_.count(), 0u);
  // Just under the limit passes.
  record->mutable_body()->set_string_value(std::string((1 << 20) - 64, 'a'));
  CallResult ok = call(channel_, method_of(otlp::Signal::kLogs), request.SerializeAsString(),
                       GRPC_COMPRESS_GZIP);
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
}

TEST_F(GrpcServerTest, PartialSuccessIsSentInTheResponse) {
  start();
  recorder_.set_result(ExportResult{absl::OkStatus(), std::nullopt, 3, "3 spans dropped"});
  CallResult r = call(channel_, method_of(otlp::Signal::kTraces),
                      testing::request_bytes(otlp::Signal::kTraces));
  ASSERT_TRUE(r.status.ok());
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(r.response));
  EXPECT_EQ(response.partial_success().rejected_spans(), 3);
  EXPECT_EQ(response.partial_success().error_message(), "3 spans dropped");
}

TEST_F(GrpcServerTest, RetryableRefusalsCarryRetryInfo) {
  start();
  for (absl::Status refusal :
       {absl::UnavailableError("queue full"), absl::ResourceExhaustedError("memory limit")}) {
    recorder_.set_result(ExportResult{refusal, std::chrono::milliseconds(1500)});
    CallResult r = call(channel_, method_of(otlp::Signal::kMetrics),
                        testing::request_bytes(otlp::Signal::kMetrics));
    EXPECT_EQ(static_cast<int>(r.status.error_code()), static_cast<int>(refusal.code()));
    EXPECT_EQ(r.status.error_message(), refusal.message());
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(r.status.error_details()));
    EXPECT_EQ(details.code(), static_cast<int>(refusal.code()));
    ASSERT_EQ(details.details_size(), 1);
    google::rpc::RetryInfo info;
    ASSERT_TRUE(details.details(0).UnpackTo(&info));
    EXPECT_EQ(info.retry_delay().seconds(), 1);
    EXPECT_EQ(info.retry_delay().nanos(), 500000000);
  }
  // Without retry_after: no details.
  recorder_.set_result(ExportResult{absl::InvalidArgumentError("bad data")});
  CallResult r = call(channel_, method_of(otlp::Signal::kMetrics),
                      testing::request_bytes(otlp::Signal::kMetrics));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(), "bad data");
  EXPECT_EQ(r.status.error_details(), "");
}

TEST_F(GrpcServerTest, GarbageFromOneClientDoesNotDisturbOthers) {
  start();
  constexpr int kGoodThreads = 4;
  constexpr int kCallsEach = 20;
  std::atomic<int> good_ok{0};
  std::atomic<int> bad_refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kGoodThreads; ++t) {
    threads.emplace_back([&, t] {
      auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                         grpc::InsecureChannelCredentials());
      for (int i = 0; i < kCallsEach; ++i) {
        const otlp::Signal signal = otlp::kAllSignals[(t + i) % 4];
        if (call(channel, method_of(signal), testing::request_bytes(signal, i)).status.ok()) {
          ++good_ok;
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) {
      CallResult r = call(channel_, method_of(otlp::Signal::kTraces),
                          std::string("\xff\xff\xff garbage ") + std::to_string(i));
      if (r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) ++bad_refused;
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good_ok.load(), kGoodThreads * kCallsEach);
  EXPECT_EQ(bad_refused.load(), 50);
  EXPECT_EQ(recorder_.count(), static_cast<std::size_t>(kGoodThreads * kCallsEach));
}

TEST_F(GrpcServerTest, ShutdownLetsInFlightCallsFinish) {
  csp::testing::LeakCheck leaks;
  testing::GatedHandler gate;
  start({}, gate.handler());
  RawCall in_flight(channel_, method_of(otlp::Signal::kLogs),
                    testing::request_bytes(otlp::Signal::kLogs));
  in_flight.start();
  std::optional<ExportRequest> entered = gate.entered.recv_blocking();
  ASSERT_TRUE(entered.has_value());

  std::thread stopper([&] { server_->shutdown(csp::Clock::now() + std::chrono::minutes(5)); });
  // The call is still being handled: answer it now.
  gate.release.send_blocking(ExportResult{absl::OkStatus(), std::nullopt, 1, "one dropped"});
  grpc::Status status = in_flight.wait();
  stopper.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(in_flight.response()));
  EXPECT_EQ(response.partial_success().rejected_log_records(), 1);

  // After shutdown nothing answers.
  CallResult after = call(channel_, method_of(otlp::Signal::kLogs), "");
  EXPECT_EQ(after.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  server_->shutdown(csp::Clock::now());  // idempotent
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST_F(GrpcServerTest, ShutdownPastItsDeadlineCancelsTheCallButWaitsForTheHandler) {
  testing::GatedHandler gate;
  start({}, gate.handler());
  RawCall in_flight(channel_, method_of(otlp::Signal::kTraces),
                    testing::request_bytes(otlp::Signal::kTraces));
  in_flight.start();
  ASSERT_TRUE(gate.entered.recv_blocking().has_value());
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->shutdown(csp::Clock::now());
    stopped = true;
  });
  grpc::Status status = in_flight.wait();  // cancelled on the wire by the deadline
  EXPECT_FALSE(status.ok());
  gate.release.send_blocking(ExportResult{});
  stopper.join();
  EXPECT_TRUE(stopped.load());
}

TEST_F(GrpcServerTest, StartMisuseAndBadOptionsAreErrors) {
  start();
  EXPECT_EQ(server_->start().status().code(), absl::StatusCode::kFailedPrecondition);
  server_->shutdown(csp::Clock::now());
  EXPECT_EQ(server_->start().status().code(), absl::StatusCode::kFailedPrecondition);

  GrpcServerOptions bad;
  bad.max_recv_msg_size_mib = 0;
  EXPECT_EQ(bad.validate().message(), "max_recv_msg_size_mib: must be in [1, 2047], got 0");
  GrpcServer refused(bad, recorder_.handler());
  EXPECT_EQ(refused.start().status().code(), absl::StatusCode::kInvalidArgument);

  GrpcServerOptions negative;
  negative.keepalive.time = std::chrono::milliseconds(-1);
  EXPECT_EQ(negative.validate().message(),
            "keepalive.server_parameters.time: must not be negative");
}

TEST_F(GrpcServerTest, PortInUseIsUnavailable) {
  start();
  GrpcServerOptions options;
  options.endpoint = "127.0.0.1:" + std::to_string(server_->port());
  GrpcServer second(options, recorder_.handler());
  absl::StatusOr<int> port = second.start();
  EXPECT_EQ(port.status().code(), absl::StatusCode::kUnavailable) << port.status();
}

TEST_F(GrpcServerTest, KeepaliveAndStreamOptionsAreAccepted) {
  GrpcServerOptions options;
  options.keepalive.time = std::chrono::seconds(30);
  options.keepalive.timeout = std::chrono::seconds(5);
  options.keepalive.max_connection_idle = std::chrono::minutes(5);
  options.keepalive_enforcement.min_time = std::chrono::seconds(10);
  options.keepalive_enforcement.permit_without_stream = true;
  options.max_concurrent_streams = 16;
  start(options);
  EXPECT_TRUE(call(channel_, method_of(otlp::Signal::kTraces), "").status.ok());
}

}  // namespace
}  // namespace transport
