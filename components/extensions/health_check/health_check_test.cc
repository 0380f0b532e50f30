#include "components/extensions/health_check/health_check.h"

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
using namespace std::chrono_literals;

class HealthCheckTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    auto node = pipeline::ConfigNode::parse(yaml, "health_check");
    ASSERT_TRUE(node.ok()) << node.status();
    auto config = parse_health_check_config(*node);
    ASSERT_TRUE(config.ok()) << config.status();
    check_ = std::make_unique<HealthCheck>("health_check", *config, host_);
    ASSERT_TRUE(csp::block_on(check_->start()).ok());
    const std::string address = host_.endpoints().at(0).address;
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
  }
  void TearDown() override {
    if (check_) csp::block_on(check_->shutdown(csp::Context::background()));
  }
  RawResponse probe(std::string_view method = "GET", std::string_view path = "/") {
    auto r = raw_exchange(port_, raw_request(method, path, {}, ""));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RawResponse{};
  }

  pipeline::Host host_{pipeline::LogLevel::kError};
  std::unique_ptr<HealthCheck> check_;
  int port_ = 0;
};

TEST_F(HealthCheckTest, UnavailableWhileStartingAndStoppingAvailableWhileRunning) {
  start("{endpoint: '127.0.0.1:0'}");
  RawResponse r = probe();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_THAT(r.body, StartsWith("{\"status\":\"Server not available\",\"upSince\":\""));
  EXPECT_THAT(r.body, HasSubstr("\"reason\":\"starting\""));

  host_.set_phase(pipeline::Phase::kRunning);
  r = probe();
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, StartsWith("{\"status\":\"Server available\",\"upSince\":\""));
  EXPECT_THAT(r.body, HasSubstr("\"uptime\":\""));
  EXPECT_TRUE(r.keep_alive) << "a probe may reuse its connection";

  host_.set_phase(pipeline::Phase::kStopping);
  r = probe();
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("\"reason\":\"stopping\""));
}

TEST_F(HealthCheckTest, AnExporterFailingLongerThanTheIntervalMakesItUnhealthy) {
  start(
      "{endpoint: '127.0.0.1:0', path: /health/status,"
      " check_collector_pipeline: {enabled: true, interval: 1m}}");
  host_.set_phase(pipeline::Phase::kRunning);
  EXPECT_EQ(probe("GET", "/health/status").status, 200);
  EXPECT_EQ(probe("GET", "/").status, 404);
  EXPECT_EQ(probe("POST", "/health/status").status, 405);

  // Failing for less than the interval: still healthy.
  host_.exporter_failing("otlp/near", csp::Clock::now() - 10s);
  EXPECT_EQ(probe("GET", "/health/status").status, 200);
  // Failing for longer: unhealthy, and the answer says which exporter and for how long.
  host_.exporter_failing("otlp/far", csp::Clock::now() - 2min);
  RawResponse r = probe("GET", "/health/status");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("\"reason\":\"exporters failing\""));
  EXPECT_THAT(r.body, HasSubstr("{\"exporter\":\"otlp/far\",\"failing_for\":\"2m0"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("otlp/near")));
  // A success clears it.
  host_.exporter_delivering("otlp/far");
  EXPECT_EQ(probe("GET", "/health/status").status, 200);
}

TEST_F(HealthCheckTest, ExporterFailuresAreIgnoredUnlessThePipelineCheckIsOn) {
  start("{endpoint: '127.0.0.1:0'}");
  host_.set_phase(pipeline::Phase::kRunning);
  host_.exporter_failing("otlp", csp::Clock::now() - 1h);
  EXPECT_EQ(probe().status, 200);
}

TEST(HealthCheckConfig, ErrorsNameTheKey) {
  auto parse = [](const std::string& yaml) {
    auto node = pipeline::ConfigNode::parse(yaml, "extensions::health_check");
    EXPECT_TRUE(node.ok()) << node.status();
    return parse_health_check_config(*node).status();
  };
  EXPECT_TRUE(parse("{}").ok());
  EXPECT_THAT(parse("{path: health}").message(), HasSubstr("path"));
  EXPECT_THAT(parse("{check_collector_pipeline: {interval: soon}}").message(),
              HasSubstr("interval"));
  EXPECT_THAT(parse("{check_collector_pipeline: {exporter_failure_threshold: 5}}").message(),
              HasSubstr("exporter_failure_threshold"));
  EXPECT_THAT(parse("{endpiont: ':1'}").message(), HasSubstr("endpiont"));
}

}  // namespace
}  // namespace components
