// UdpServer against raw datagrams from a plain socket: what any third-party sender would send,
// good and bad.

#include "transport/udp_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/wire.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"

namespace transport {
namespace {

using csp::testing::eventually;

// A plain UDP socket sending to 127.0.0.1:port.
class RawSender {
 public:
  explicit RawSender(int port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }
  ~RawSender() { ::close(fd_); }
  void send(std::string_view datagram) const {
    ASSERT_EQ(::send(fd_, datagram.data(), datagram.size(), 0),
              static_cast<ssize_t>(datagram.size()));
  }
  void send(otlp::Signal signal, std::string_view request) const {
    std::string d(1, static_cast<char>(udp_tag_of(signal)));
    d.append(request);
    send(d);
  }
  int local_port() const {
    sockaddr_in me{};
    socklen_t len = sizeof me;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&me), &len);
    return ntohs(me.sin_port);
  }

 private:
  int fd_;
};

UdpServerOptions local_options() {
  UdpServerOptions o;
  o.endpoint = "127.0.0.1:0";
  return o;
}

TEST(UdpTag, EverySignalHasATagThatMapsBack) {
  for (otlp::Signal s : otlp::kAllSignals) EXPECT_EQ(signal_of_udp_tag(udp_tag_of(s)), s);
  EXPECT_EQ(udp_tag_of(otlp::Signal::kTraces), 1);
  EXPECT_EQ(udp_tag_of(otlp::Signal::kProfiles), 4);
  EXPECT_EQ(signal_of_udp_tag(0), std::nullopt);
  EXPECT_EQ(signal_of_udp_tag(5), std::nullopt);
  EXPECT_EQ(signal_of_udp_tag('{'), std::nullopt);
}

TEST(UdpServer, EverySignalReachesTheHandlerWithTheSendersAddress) {
  testing::RecordingHandler recorder;
  UdpServer server(local_options(), recorder.handler());
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_GT(*port, 0);
  RawSender sender(*port);
  for (otlp::Signal s : otlp::kAllSignals) sender.send(s, testing::request_bytes(s, 5));
  ASSERT_TRUE(eventually([&] { return recorder.count() == 4; }));
  std::vector<ExportRequest> got = recorder.requests();
  for (const ExportRequest& r : got) {
    EXPECT_EQ(r.body, testing::request_bytes(r.signal, 5));
    EXPECT_EQ(r.peer, "127.0.0.1:" + std::to_string(sender.local_port()));
  }
  server.shutdown(csp::Clock::now() + std::chrono::seconds(5));
  const UdpServerStats stats = server.stats();
  EXPECT_EQ(stats.datagrams, 4u);
  EXPECT_EQ(stats.accepted, 4u);
  EXPECT_EQ(stats.dropped_total(), 0u);
}

// Each kind of bad datagram is dropped, counted under its reason, and costs the good ones
// around it nothing.
TEST(UdpServer, BadDatagramsAreDroppedAndCountedAndTheRestGetThrough) {
  testing::RecordingHandler recorder;
  std::atomic<int> reported[kUdpDropReasons] = {};
  const std::string good = testing::request_bytes(otlp::Signal::kLogs, 2);
  UdpServerOptions options = local_options();
  options.max_datagram_size = good.size() + 100;
  UdpServer server(options, recorder.handler(), [&](UdpDrop why, otlp::Signal, std::int64_t) {
    ++reported[static_cast<std::size_t>(why)];
  });
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawSender sender(*port);
  sender.send(otlp::Signal::kLogs, good);
  sender.send("");                                     // no tag
  sender.send(std::string("\x09") + good);             // unknown tag
  sender.send("{\"resourceSpans\":[]}");               // JSON is not this protocol
  sender.send(otlp::Signal::kTraces, "\xff\xff\xff");  // not protobuf
  sender.send(otlp::Signal::kTraces, std::string(good.size() + 500, '\x0a'));  // too large
  sender.send(otlp::Signal::kLogs, good);
  ASSERT_TRUE(eventually([&] { return server.stats().datagrams == 7; }));
  ASSERT_TRUE(eventually([&] { return recorder.count() == 2; }))
      << recorder.count() << " accepted " << server.stats().accepted << " malformed "
      << server.stats().dropped[1] << " too large " << server.stats().dropped[0];
  server.shutdown(csp::Clock::now() + std::chrono::seconds(5));
  const UdpServerStats stats = server.stats();
  EXPECT_EQ(stats.accepted, 2u);
  EXPECT_EQ(stats.dropped[static_cast<int>(UdpDrop::kMalformed)], 4u);
  EXPECT_EQ(stats.dropped[static_cast<int>(UdpDrop::kTooLarge)], 1u);
  EXPECT_EQ(reported[static_cast<int>(UdpDrop::kMalformed)].load(), 4);
  EXPECT_EQ(reported[static_cast<int>(UdpDrop::kTooLarge)].load(), 1);
  EXPECT_EQ(stats.datagrams, stats.accepted + stats.dropped_total());
}

TEST(UdpServer, WhatThePipelineRefusesOrHasNoRoomForIsDroppedAsSuch) {
  // A handler that holds every request: the in-flight limit (2) fills, then datagrams are
  // dropped as busy; released with a refusal, the held ones count as refused.
  testing::GatedHandler gate;
  UdpServerOptions options = local_options();
  options.max_requests_in_flight = 2;
  UdpServer server(options, gate.handler());
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok());
  RawSender sender(*port);
  const std::string body = testing::request_bytes(otlp::Signal::kMetrics, 3);
  for (int i = 0; i < 5; ++i) sender.send(otlp::Signal::kMetrics, body);
  ASSERT_TRUE(eventually([&] { return server.stats().datagrams == 5; }));
  UdpServerStats stats = server.stats();
  EXPECT_EQ(stats.in_flight, 2u);
  EXPECT_EQ(stats.dropped[static_cast<int>(UdpDrop::kBusy)], 3u);
  for (int i = 0; i < 2; ++i) {
    ExportResult refused;
    refused.status = absl::UnavailableError("pipeline full");
    ASSERT_TRUE(gate.release.try_send(refused));
  }
  ASSERT_TRUE(eventually([&] { return server.stats().in_flight == 0; }));
  stats = server.stats();
  EXPECT_EQ(stats.dropped[static_cast<int>(UdpDrop::kRefused)], 2u);
  EXPECT_EQ(stats.accepted, 0u);
  EXPECT_EQ(stats.datagrams, stats.accepted + stats.dropped_total());
  server.shutdown(csp::Clock::now() + std::chrono::seconds(5));
}

TEST(UdpServer, NoMemoryMeansBusyNotBuffered) {
  testing::RecordingHandler recorder;
  UdpServerOptions options = local_options();
  std::atomic<int> asked{0};
  options.reserve_memory = [&](std::int64_t) -> MemoryClaim {
    ++asked;
    return nullptr;  // the budget is spent
  };
  UdpServer server(options, recorder.handler());
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok());
  RawSender sender(*port);
  sender.send(otlp::Signal::kTraces, testing::request_bytes(otlp::Signal::kTraces, 1));
  ASSERT_TRUE(eventually([&] { return server.stats().datagrams == 1; }));
  server.shutdown(csp::Clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(server.stats().dropped[static_cast<int>(UdpDrop::kBusy)], 1u);
  EXPECT_EQ(recorder.count(), 0u);
  EXPECT_GE(asked.load(), 1);
}

TEST(UdpServer, OptionsAreCheckedAndMisuseIsAnError) {
  UdpServerOptions bad = local_options();
  bad.max_datagram_size = 70000;
  EXPECT_NE(bad.validate().message().find("max_datagram_size"), std::string_view::npos);
  bad = local_options();
  bad.max_requests_in_flight = 0;
  EXPECT_NE(bad.validate().message().find("max_requests_in_flight"), std::string_view::npos);
  bad = local_options();
  bad.endpoint = "nowhere";
  EXPECT_FALSE(bad.validate().ok());

  testing::RecordingHandler recorder;
  UdpServer server(local_options(), recorder.handler());
  absl::StatusOr<int> port = server.start();
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(server.start().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_GT(server.receive_buffer_size(), 0u);
  // The port is taken: a second server on it fails with a message naming the endpoint.
  UdpServerOptions same = local_options();
  same.endpoint = "127.0.0.1:" + std::to_string(*port);
  UdpServer second(same, recorder.handler());
  absl::StatusOr<int> taken = second.start();
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find(same.endpoint), std::string_view::npos);
  server.shutdown(csp::Clock::now() + std::chrono::seconds(5));
  server.shutdown(csp::Clock::now());  // twice is fine
}

}  // namespace
}  // namespace transport
