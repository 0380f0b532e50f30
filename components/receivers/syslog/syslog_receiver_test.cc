// The syslog receiver against util-linux `logger` (a client nobody here wrote) over UDP and TCP,
// and against raw TCP streams for framing and limits.

#include "components/receivers/syslog/syslog_receiver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <set>

#include "components/receivers/syslog/factory.h"
#include "components/testing/recording_consumer.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/binary_codec.h"

namespace components {
namespace {

using csp::testing::eventually;
using namespace std::chrono_literals;

struct Received {
  std::string body;
  std::map<std::string, std::string> attrs;
  int severity = 0;
};

std::vector<Received> received(const testing::RecordingConsumer& sink) {
  std::vector<Received> out;
  for (const pipeline::Batch& b : sink.batches()) {
    otlp::LogsRequest request;
    EXPECT_TRUE(otlp::decode_binary(b.bytes, request).ok());
    for (const auto& rl : request.resource_logs()) {
      for (const auto& sl : rl.scope_logs()) {
        for (const auto& r : sl.log_records()) {
          Received got{r.body().string_value(), {}, r.severity_number()};
          for (const auto& kv : r.attributes()) {
            got.attrs[kv.key()] = kv.value().has_int_value()
                                      ? std::to_string(kv.value().int_value())
                                      : kv.value().string_value();
          }
          out.push_back(std::move(got));
        }
      }
    }
  }
  return out;
}

class SyslogReceiverTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    auto node = pipeline::ConfigNode::parse(yaml, "receivers::syslog");
    ASSERT_TRUE(node.ok()) << node.status();
    auto config = parse_syslog_receiver_config(*node);
    ASSERT_TRUE(config.ok()) << config.status();
    receiver_ = std::make_shared<SyslogReceiver>("syslog", *config, host_);
    receiver_->connect(otlp::Signal::kLogs, sink_);
    ASSERT_TRUE(csp::block_on(receiver_->start()).ok());
  }
  void TearDown() override {
    if (receiver_) {
      csp::block_on(receiver_->shutdown(csp::with_timeout(csp::Context::background(), 5s).first));
    }
  }
  int port(const std::string& what) const {
    for (const pipeline::Host::Endpoint& e : host_.endpoints()) {
      if (e.component == "syslog" && e.what == what) {
        return std::stoi(e.address.substr(e.address.rfind(':') + 1));
      }
    }
    ADD_FAILURE() << "no " << what << " endpoint";
    return 0;
  }
  // Runs util-linux logger with `args`; its exit code.
  static int logger(const std::string& args) {
    return std::system(("logger " + args + " >/dev/null 2>&1").c_str());
  }

  pipeline::Host host_{pipeline::LogLevel::kError};
  std::shared_ptr<testing::RecordingConsumer> sink_ =
      std::make_shared<testing::RecordingConsumer>();
  std::shared_ptr<SyslogReceiver> receiver_;
};

TEST_F(SyslogReceiverTest, LoggerOverUdpAndTcpInRfc5424) {
  start(R"(
udp: {listen_address: "127.0.0.1:0"}
tcp: {listen_address: "127.0.0.1:0"}
protocol: rfc5424
)");
  const std::string udp = std::to_string(port("udp"));
  const std::string tcp = std::to_string(port("tcp"));
  ASSERT_EQ(logger("-n 127.0.0.1 -P " + udp +
                   " -d --rfc5424 -t checkout -i -p local3.err --msgid ORDER "
                   "--sd-id order@32473 --sd-param 'id=\"42\"' 'payment declined'"),
            0);
  ASSERT_EQ(logger("-n 127.0.0.1 -P " + tcp + " -T --rfc5424 -t checkout -p user.info 'over tcp'"),
            0);
  ASSERT_TRUE(eventually([&] { return sink_->items() == 2; })) << sink_->items();
  std::map<std::string, Received> by_message;
  for (Received& r : received(*sink_)) by_message[r.attrs["message"]] = r;
  ASSERT_EQ(by_message.count("payment declined"), 1u);
  const Received& err = by_message["payment declined"];
  EXPECT_EQ(err.attrs.at("appname"), "checkout");
  EXPECT_EQ(err.attrs.at("msg_id"), "ORDER");
  EXPECT_EQ(err.attrs.at("facility"), "19");  // local3
  EXPECT_EQ(err.attrs.at("priority"), std::to_string(19 * 8 + 3));
  EXPECT_EQ(err.severity, 17);  // err → ERROR
  EXPECT_EQ(err.attrs.count("hostname"), 1u);
  EXPECT_EQ(err.attrs.count("proc_id"), 1u);
  ASSERT_EQ(by_message.count("over tcp"), 1u);
  EXPECT_EQ(by_message["over tcp"].severity, 9);  // info
  EXPECT_EQ(receiver_->count(SyslogReceiver::kAccepted), 2);
  EXPECT_EQ(receiver_->count(SyslogReceiver::kMalformed), 0);
}

TEST_F(SyslogReceiverTest, LoggerInRfc3164AndWithOctetCounting) {
  start(R"(
udp: {listen_address: "127.0.0.1:0"}
protocol: rfc3164
)");
  ASSERT_EQ(logger("-n 127.0.0.1 -P " + std::to_string(port("udp")) +
                   " -d --rfc3164 -t backup -i 'nightly run finished'"),
            0);
  ASSERT_TRUE(eventually([&] { return sink_->items() == 1; }));
  const Received r = received(*sink_).at(0);
  EXPECT_EQ(r.attrs.at("appname"), "backup");
  EXPECT_EQ(r.attrs.at("message"), "nightly run finished");
  EXPECT_EQ(r.attrs.count("proc_id"), 1u);
  EXPECT_EQ(r.attrs.count("hostname"), 1u);
}

TEST_F(SyslogReceiverTest, LoggerWithOctetCountingOverTcp) {
  start(R"(
tcp: {listen_address: "127.0.0.1:0"}
protocol: rfc5424
enable_octet_counting: true
)");
  const std::string tcp = std::to_string(port("tcp"));
  for (const char* m : {"first", "second line\nwith a newline inside", "third"}) {
    ASSERT_EQ(logger("-n 127.0.0.1 -P " + tcp + " -T --octet-count --rfc5424 -t app '" +
                     std::string(m) + "'"),
              0);
  }
  ASSERT_TRUE(eventually([&] { return sink_->items() == 3; })) << sink_->items();
  std::set<std::string> messages;
  for (Received& r : received(*sink_)) messages.insert(r.attrs["message"]);
  EXPECT_EQ(messages,
            (std::set<std::string>{"first", "second line\nwith a newline inside", "third"}));
}

// A raw TCP stream: newline framing with CRLF, a malformed line (kept as its body), an
// over-long line (dropped, and the stream carries on), split across writes.
TEST_F(SyslogReceiverTest, RawTcpFramingLimitsAndMalformedLines) {
  start(R"(
tcp: {listen_address: "127.0.0.1:0", max_log_size: 100}
protocol: rfc5424
)");
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port("tcp")));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  const std::string stream = "<14>1 - host app - - - one\r\n" + std::string("not syslog at all\n") +
                             "<14>1 - host app - - - " + std::string(300, 'x') + "\n" +
                             "<14>1 - host app - - - two\n";
  // In small pieces: frames cross reads.
  for (std::size_t at = 0; at < stream.size(); at += 7) {
    const std::string piece = stream.substr(at, 7);
    ASSERT_EQ(::send(fd, piece.data(), piece.size(), 0), static_cast<ssize_t>(piece.size()));
  }
  ASSERT_TRUE(eventually([&] { return sink_->items() == 3; }))
      << sink_->items() << " malformed " << receiver_->count(SyslogReceiver::kMalformed)
      << " too large " << receiver_->count(SyslogReceiver::kTooLarge);
  ::close(fd);
  std::vector<std::string> bodies;
  for (Received& r : received(*sink_)) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"<14>1 - host app - - - one", "not syslog at all",
                                              "<14>1 - host app - - - two"}));
  EXPECT_EQ(receiver_->count(SyslogReceiver::kMalformed), 1);
  EXPECT_EQ(receiver_->count(SyslogReceiver::kTooLarge), 1);
  EXPECT_EQ(receiver_->count(SyslogReceiver::kAccepted), 3);
}

TEST_F(SyslogReceiverTest, WhatThePipelineRefusesIsCounted) {
  start(R"(
udp: {listen_address: "127.0.0.1:0"}
protocol: rfc5424
)");
  sink_->refuse_next(1, absl::UnavailableError("full"));
  ASSERT_EQ(logger("-n 127.0.0.1 -P " + std::to_string(port("udp")) + " -d --rfc5424 'lost'"), 0);
  ASSERT_TRUE(eventually([&] { return receiver_->count(SyslogReceiver::kRefused) == 1; }));
  EXPECT_EQ(sink_->items(), 0);
}

TEST(SyslogReceiverConfig, MistakesNameTheirKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& c : {
           Case{"udp: {listen_address: ':1'}", "protocol"},
           Case{"protocol: rfc5424", "udp or tcp"},
           Case{"protocol: rfc9999\nudp: {listen_address: ':1'}", "protocol"},
           Case{"protocol: rfc3164\nlocation: Mars/Base\nudp: {listen_address: ':1'}", "location"},
           Case{"protocol: rfc3164\nenable_octet_counting: true\ntcp: {listen_address: ':1'}",
                "enable_octet_counting"},
           Case{"protocol: rfc5424\ntcp: {listen_address: ':1', max_log_size: 1}", "max_log_size"},
           Case{"protocol: rfc5424\nudp: {}", "listen_address"},
           Case{"protocol: rfc5424\nudp: {listen_address: ':1', tls: {}}", "tls"},
       }) {
    auto node = pipeline::ConfigNode::parse(c.yaml, "receivers::syslog");
    ASSERT_TRUE(node.ok()) << c.yaml;
    auto config = parse_syslog_receiver_config(*node);
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_NE(config.status().message().find(c.key), std::string_view::npos) << config.status();
  }
}

}  // namespace
}  // namespace components
