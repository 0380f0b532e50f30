#include "otlp/log_throttle.h"

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "otlp/binary_codec.h"
#include "otlp/signal.h"

namespace otlp {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  std::chrono::steady_clock::time_point now{};  // the fake clock
  std::mutex mu;
  std::vector<std::string> lines;
  LogThrottle throttle{[this](const std::string& l) {
                         std::lock_guard<std::mutex> lock(mu);
                         lines.push_back(l);
                       },
                       [this] { return now; }, 60s};
};

TEST(LogThrottle, FirstOccurrenceThenOneSummaryPerPeriod) {
  Fixture f;
  f.throttle.report("invalid_utf8", "10.0.0.1:5000", "span name is not UTF-8");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0],
            "bad input of kind invalid_utf8 from 10.0.0.1:5000: span name is not UTF-8");
  for (int i = 0; i < 1000; ++i) {
    f.now += 50ms;  // 50 s in all: still the same minute
    f.throttle.report("invalid_utf8", "10.0.0.2:6000", "again");
  }
  EXPECT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.throttle.pending("invalid_utf8"), 1000);
  f.now += 10s;
  f.throttle.report("invalid_utf8", "10.0.0.3:7000", "latest");
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[1],
            "bad input of kind invalid_utf8: 1001 more since the last line (latest from "
            "10.0.0.3:7000: latest)");
  EXPECT_EQ(f.throttle.pending("invalid_utf8"), 0);
  // The next period starts at that line.
  f.now += 59s;
  f.throttle.report("invalid_utf8", "p", "m");
  EXPECT_EQ(f.lines.size(), 2u);
}

TEST(LogThrottle, KindsAreThrottledSeparately) {
  Fixture f;
  f.throttle.report("a", "p", "first a");
  f.throttle.report("b", "p", "first b");
  f.throttle.report("a", "p", "second a");
  EXPECT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.throttle.pending("a"), 1);
  EXPECT_EQ(f.throttle.pending("b"), 0);
}

TEST(LogThrottle, FlushWritesSummariesOfPeriodsThatAreOver) {
  Fixture f;
  f.throttle.report("k", "p1", "m1");
  f.throttle.report("k", "p2", "m2");
  f.throttle.report("k", "p3", "m3");
  f.throttle.flush();  // the period is not over
  EXPECT_EQ(f.lines.size(), 1u);
  f.now += 61s;
  f.throttle.flush();
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[1], "bad input of kind k: 2 more since the last line (latest from p3: m3)");
  f.now += 61s;
  f.throttle.flush();  // nothing pending: no line
  EXPECT_EQ(f.lines.size(), 2u);
}

TEST(LogThrottle, CountsEveryReportFromManyThreads) {
  Fixture f;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f] {
      for (int i = 0; i < 10'000; ++i) f.throttle.report("k", "p", "m");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.throttle.pending("k"), 40'000 - 1);
}

TEST(LogThrottle, LibprotobufLinesGoThroughTheThrottle) {
  Fixture f;
  install_protobuf_log_handler(f.throttle);
  TracesRequest request;
  request.add_resource_spans()->add_scope_spans()->add_spans()->set_name("ok");
  std::string bytes = request.SerializeAsString();
  bytes[bytes.size() - 1] = '\xff';  // invalid UTF-8 in the span name: libprotobuf logs it
  for (int i = 0; i < 100; ++i) {
    TracesRequest out;
    EXPECT_FALSE(decode_binary(bytes, out).ok());
  }
  google::protobuf::SetLogHandler(nullptr);  // f.throttle goes away with this test
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_NE(f.lines[0].find("UTF-8"), std::string::npos) << f.lines[0];
  EXPECT_NE(f.lines[0].find("kind protobuf:"), std::string::npos) << f.lines[0];
}

}  // namespace
}  // namespace otlp
