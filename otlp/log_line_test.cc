#include "otlp/log_line.h"

#include <gtest/gtest.h>

#include <string>

namespace otlp {
namespace {

class LogLineTest : public ::testing::Test {
 protected:
  void TearDown() override { set_log_format(LogFormat{}); }
};

TEST_F(LogLineTest, ConsoleIsTabSeparatedWithAMillisecondUtcStamp) {
  const std::string line = format_log_line("info", "otlp", "grpc listening on 127.0.0.1:4317");
  // 2026-12-01T04:17:58.123Z
  ASSERT_GE(line.size(), 24u);
  EXPECT_EQ(line[10], 'T');
  EXPECT_EQ(line[19], '.');
  EXPECT_EQ(line[23], 'Z');
  EXPECT_EQ(line.substr(24), "\tinfo\totlp\tgrpc listening on 127.0.0.1:4317");
}

TEST_F(LogLineTest, ConsoleAppendsInitialFieldsAsJson) {
  set_log_format(LogFormat{LogEncoding::kConsole, {{"service", "edge"}, {"zone", "eu-1"}}});
  const std::string line = format_log_line("warn", "config", "x");
  EXPECT_EQ(line.substr(24), "\twarn\tconfig\tx\t{\"service\":\"edge\",\"zone\":\"eu-1\"}");
}

TEST_F(LogLineTest, JsonIsOneObjectWithEscapedStrings) {
  set_log_format(LogFormat{LogEncoding::kJson, {{"service", "edge \"west\""}}});
  const std::string line = format_log_line("error", "otlp", "bad\tinput\n\x01 \\ done");
  ASSERT_EQ(line.rfind("{\"level\":\"error\",\"ts\":\"", 0), 0u) << line;
  const std::size_t ts_end = line.find("\",\"component\"");
  ASSERT_NE(ts_end, std::string::npos) << line;
  EXPECT_EQ(line.substr(ts_end),
            "\",\"component\":\"otlp\",\"msg\":\"bad\\tinput\\n\\u0001 \\\\ done\","
            "\"service\":\"edge \\\"west\\\"\"}");
}

}  // namespace
}  // namespace otlp
