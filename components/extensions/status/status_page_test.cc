#include "components/extensions/status/status_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "csp/csp.h"
#include "transport/testing/raw_http.h"

namespace components {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using transport::testing::raw_exchange;
using transport::testing::raw_request;
using transport::testing::RawResponse;

class StatusPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto node = pipeline::ConfigNode::parse("{endpoint: '127.0.0.1:0'}", "status");
    ASSERT_TRUE(node.ok()) << node.status();
    auto config = parse_status_page_config(*node);
    ASSERT_TRUE(config.ok()) << config.status();
    host_.set_pipelines({{"traces", {"otlp"}, {"batch"}, {"otlp/backend", "debug"}}});
    page_ = std::make_unique<StatusPage>("status", *config, host_);
    ASSERT_TRUE(csp::block_on(page_->start()).ok());
    const std::string address = host_.endpoints().at(0).address;
    EXPECT_EQ(host_.endpoints().at(0).what, "http");
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
  }
  void TearDown() override {
    if (page_) csp::block_on(page_->shutdown(csp::Context::background()));
  }
  RawResponse get(std::string_view path) {
    auto r = raw_exchange(port_, raw_request("GET", path, {}, ""));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RawResponse{};
  }

  pipeline::Host host_{pipeline::LogLevel::kError};
  std::unique_ptr<StatusPage> page_;
  int port_ = 0;
};

TEST_F(StatusPageTest, ThePageIsSelfContainedHtml) {
  const RawResponse r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_THAT(r.body, StartsWith("<!doctype html>"));
  EXPECT_THAT(r.body, HasSubstr("fetch(\"status.json\""));
  // Nothing from elsewhere: no external scripts, styles or fonts.
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("http://")));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("https://")));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("src=")));
}

TEST_F(StatusPageTest, TheJsonHasThePipelinesTheMetricsAndTheRuntime) {
  host_.set_phase(pipeline::Phase::kRunning);
  host_.telemetry()
      .counter("otelcol_receiver_accepted_spans", "spans", {{"receiver", "otlp"}})
      .add(42);
  host_.telemetry()
      .histogram("otlpd_exporter_latency_seconds", "latency", {0.1, 1}, {{"exporter", "debug"}})
      .record(0.5);
  const RawResponse r = get("/status.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_THAT(r.body, StartsWith("{\"version\":\""));
  EXPECT_THAT(r.body, HasSubstr("\"phase\":\"running\""));
  EXPECT_THAT(r.body,
              HasSubstr(R"("pipelines":[{"id":"traces","receivers":["otlp"],)"
                        R"("processors":["batch"],"exporters":["otlp/backend","debug"]}])"));
  EXPECT_THAT(r.body, HasSubstr(R"({"name":"otelcol_receiver_accepted_spans","kind":"counter",)"
                                R"("samples":[{"labels":{"receiver":"otlp"},"value":42}]})"));
  EXPECT_THAT(r.body, HasSubstr(R"("bounds":[0.10000000000000001,1],"cumulative":[0,1,1],)"
                                R"("sum":0.5,"count":1)"));
  EXPECT_THAT(r.body, HasSubstr("\"runtime\":{\"workers\":"));
  // The goroutine dump has at least the server's accept loop, parked on I/O, and the
  // connection goroutine answering this very request.
  EXPECT_THAT(r.body, HasSubstr("\"goroutine_groups\":[{\"origin\":"));
  EXPECT_THAT(r.body, HasSubstr(R"("origin":"transport/http_server.cc:)"));
  EXPECT_THAT(r.body, HasSubstr(R"("state":"I/O wait")"));
  EXPECT_THAT(r.body, HasSubstr(R"("state":"running or runnable")"));
  // The named channels include the page's own server's connection slots.
  EXPECT_THAT(r.body, HasSubstr("\"channels\":[{\"name\":"));
  EXPECT_THAT(r.body, HasSubstr(" connections\",\"capacity\":64,\"length\":"));
  EXPECT_EQ(r.body.back(), '}');
}

TEST(StatusPageConfig, BadKeysAreNamed) {
  auto node = pipeline::ConfigNode::parse("{endpoint: nowhere, colour: blue}", "status");
  ASSERT_TRUE(node.ok());
  EXPECT_THAT(std::string(parse_status_page_config(*node).status().message()),
              HasSubstr("endpoint: expected host:port, got \"nowhere\""));
  node = pipeline::ConfigNode::parse("{colour: blue}", "status");
  EXPECT_THAT(std::string(parse_status_page_config(*node).status().message()),
              HasSubstr("unknown key \"colour\""));
}

}  // namespace
}  // namespace components
