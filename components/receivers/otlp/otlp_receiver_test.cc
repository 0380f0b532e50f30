#include "components/receivers/otlp/otlp_receiver.h"

#include <gtest/gtest.h>

#include <atomic>

#include "components/receivers/otlp/factory.h"
#include "csp/csp.h"
#include "otlp/signals.h"

namespace components {
namespace {

// Records how many bytes were claimed while the pipeline held the batch.
class ClaimProbe final : public pipeline::Consumer {
 public:
  explicit ClaimProbe(pipeline::Host& host) : host_(host) {}
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch) override {
    claimed_during_consume = host_.admission().claimed();
    co_return absl::OkStatus();
  }
  std::atomic<std::int64_t> claimed_during_consume{-1};

 private:
  pipeline::Host& host_;
};

std::string one_span_request() {
  otlp::TracesRequest r;
  auto* span = r.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_name("s");
  return r.SerializeAsString();
}

struct Fixture {
  pipeline::Host host{pipeline::LogLevel::kError};
  std::shared_ptr<ClaimProbe> probe = std::make_shared<ClaimProbe>(host);
  OtlpReceiver receiver{"otlp", OtlpReceiverConfig{}, host};
  Fixture() { receiver.connect(otlp::Signal::kTraces, probe); }

  transport::ExportResult handle(transport::ExportRequest request) {
    csp::Task<transport::ExportResult> task = receiver.handle(std::move(request));
    return csp::block_on(std::move(task));
  }
};

TEST(OtlpReceiver, KeepsTheServersClaimUntilAnsweredWithoutCountingTheBodyAgain) {
  Fixture f;
  transport::ExportRequest request{otlp::Signal::kTraces, one_span_request(), "127.0.0.1:1",
                                   f.host.admission().claim(5000)};
  ASSERT_NE(request.memory, nullptr);
  transport::ExportResult result = f.handle(std::move(request));
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(f.probe->claimed_during_consume.load(), 5000);  // the server's claim, once
  EXPECT_EQ(f.host.admission().claimed(), 0);               // given back once answered
}

TEST(OtlpReceiver, ClaimsTheBodyWhenTheServerTookNoClaim) {
  Fixture f;
  const std::string body = one_span_request();
  transport::ExportResult result =
      f.handle(transport::ExportRequest{otlp::Signal::kTraces, body, "127.0.0.1:1", nullptr});
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(f.probe->claimed_during_consume.load(), static_cast<std::int64_t>(body.size()));
  EXPECT_EQ(f.host.admission().claimed(), 0);
}

TEST(OtlpReceiver, RefusesRetryablyWhenTheBudgetIsExhausted) {
  Fixture f;
  f.host.admission().configure(0, 1);  // a 1-byte budget
  transport::ExportResult result = f.handle(
      transport::ExportRequest{otlp::Signal::kTraces, one_span_request(), "127.0.0.1:1", nullptr});
  EXPECT_EQ(result.status.code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, transport::kMemoryRefusalRetryAfter);
  EXPECT_EQ(f.probe->claimed_during_consume.load(), -1);  // never reached the pipeline
  EXPECT_EQ(f.host.admission().claimed(), 0);
}

TEST(OtlpReceiverConfig, OptionsWithNoEffectAreRefusedNamingTheKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& c : {
           Case{"protocols: {grpc: {read_buffer_size: 512KiB}}", "read_buffer_size"},
           Case{"protocols: {grpc: {write_buffer_size: 512KiB}}", "write_buffer_size"},
       }) {
    auto node = pipeline::ConfigNode::parse(c.yaml, "otlp");
    ASSERT_TRUE(node.ok()) << node.status();
    auto config = parse_otlp_receiver_config(*node);
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_NE(config.status().message().find(c.key), std::string::npos) << config.status();
  }
  // Saying no is fine.
  auto node = pipeline::ConfigNode::parse("protocols: {grpc: {read_buffer_size: 0}}", "otlp");
  ASSERT_TRUE(node.ok());
  EXPECT_TRUE(parse_otlp_receiver_config(*node).ok());
}

}  // namespace
}  // namespace components
