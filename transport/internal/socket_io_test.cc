// Direct socket I/O from goroutines (socket_io.h) against a plain blocking client socket.

#include "transport/internal/socket_io.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <string>

#include "csp/csp.h"
#include "transport/internal/listener.h"

namespace transport::internal {
namespace {

using namespace std::chrono_literals;

// A listener on a free loopback port and one accepted connection, with the client's end.
class DirectIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Listener::open("127.0.0.1:0", "test", 4);
    ASSERT_TRUE(opened.ok()) << opened.status();
    listener_ = *opened;
    csp::go([](std::shared_ptr<Listener> l, csp::Chan<std::shared_ptr<TcpSocket>> out,
               csp::Chan<ConnectionSlot> slots) -> csp::Task<void> {
      // Named, not a temporary in the co_await operand (g++ 12 pitfall, docs/csp.md).
      Listener::OnConnection on_connection = [out, slots](std::shared_ptr<TcpSocket> s, std::string,
                                                          ConnectionSlot slot) {
        out.try_send(std::move(s));
        slots.try_send(std::move(slot));
      };
      co_await l->run(std::move(on_connection));
    }(listener_, accepted_, slots_));
    client_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{30, 0};
    setsockopt(client_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(listener_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(client_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::optional<std::shared_ptr<TcpSocket>> s = accepted_.recv_blocking();
    ASSERT_TRUE(s.has_value());
    server_ = *s;
  }
  void TearDown() override {
    listener_->close();
    if (client_ >= 0) close(client_);
  }

  std::shared_ptr<Listener> listener_;
  csp::Chan<std::shared_ptr<TcpSocket>> accepted_{1};
  csp::Chan<ConnectionSlot> slots_{1};
  std::shared_ptr<TcpSocket> server_;
  int client_ = -1;
};

TEST_F(DirectIoTest, ReadsWaitForBytesAndWritesArriveWhole) {
  const std::string big(1 << 20, 'x');  // more than a socket buffer: the writer must park
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    while (got.size() < big.size()) {
      const ssize_t n = read(client_, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    (void)!write(client_, "ping", 4);
  });
  const bool ok = csp::block_on([&]() -> csp::Task<bool> {
    if (co_await write_all(*server_, big.data(), big.size(), csp::Clock::now() + 30s)) {
      co_return false;
    }
    char buf[16];
    std::size_t n = 0;
    // Nothing has been sent yet when the read starts: it parks until "ping" comes.
    if (co_await read_some(*server_, buf, sizeof buf, n, csp::Clock::now() + 30s)) {
      co_return false;
    }
    co_return std::string(buf, n) == "ping";
  }());
  reader.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(got, big);
}

// After abort() nothing more is read, not even bytes the kernel already holds, and nothing is
// written; the peer sees the connection end.
TEST_F(DirectIoTest, AfterAbortNothingIsReadOrWrittenEvenWithBytesQueued) {
  ASSERT_EQ(write(client_, "queued", 6), 6);
  const bool readable = csp::block_on([&]() -> csp::Task<bool> {
    co_return !co_await wait_ready(*server_, boost::asio::ip::tcp::socket::wait_read,
                                   csp::Clock::now() + 30s);
  }());
  ASSERT_TRUE(readable);
  server_->abort();
  char buf[16];
  std::size_t n = 0;
  EXPECT_EQ(try_read(*server_, buf, sizeof buf, n), boost::asio::error::operation_aborted);
  EXPECT_EQ(n, 0u);
  const ErrorCode wrote = csp::block_on([&]() -> csp::Task<ErrorCode> {
    co_return co_await write_all(*server_, "x", 1, csp::Clock::now() + 30s);
  }());
  EXPECT_EQ(wrote, boost::asio::error::operation_aborted);
  char got[16];
  EXPECT_EQ(read(client_, got, sizeof got), 0) << "the client sees the end of the stream";
}

}  // namespace
}  // namespace transport::internal
