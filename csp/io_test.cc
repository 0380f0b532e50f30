#include "csp/io.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <string>

#include "csp/internal/test_util.h"
#include "csp/timer.h"
#include "csp/wait_group.h"

namespace csp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// An echo server and several clients, all goroutines, talking over loopback.
Task<void> echo_connection(tcp::socket socket) {
  char buf[1024];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), use_go);
    if (ec) break;  // eof or error
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(buf, n), use_go);
    if (wec) break;
  }
}

Task<void> echo_server(tcp::acceptor& acceptor, int connections, WaitGroup* done) {
  for (int i = 0; i < connections; ++i) {
    tcp::socket socket(io_context());
    error_code ec = co_await acceptor.async_accept(socket, use_go);
    if (ec) break;
    go(echo_connection(std::move(socket)));
  }
  done->done();
}

Task<std::string> echo_client(tcp::endpoint server, std::string message) {
  tcp::socket socket(io_context());
  error_code ec = co_await socket.async_connect(server, use_go);
  if (ec) co_return "connect: " + ec.message();
  std::string reply;
  for (int round = 0; round < 10; ++round) {
    auto [wec, w] = co_await asio::async_write(socket, asio::buffer(message), use_go);
    if (wec) co_return "write: " + wec.message();
    std::string in(message.size(), '\0');
    auto [rec, r] = co_await asio::async_read(socket, asio::buffer(in), use_go);
    if (rec) co_return "read: " + rec.message();
    reply = in;
  }
  co_return reply;
}

TEST(Io, TcpEchoBetweenGoroutines) {
  testing::LeakCheck leaks;
  constexpr int kClients = 8;
  tcp::acceptor acceptor(io_context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const tcp::endpoint server = acceptor.local_endpoint();
  ASSERT_NE(server.port(), 0);
  WaitGroup server_done;
  server_done.add(1);
  go(echo_server(acceptor, kClients, &server_done));

  WaitGroup clients;
  clients.add(kClients);
  std::vector<std::string> replies(kClients);
  for (int i = 0; i < kClients; ++i) {
    go([&, i]() -> Task<void> {
      replies[i] = co_await echo_client(server, "hello from client " + std::to_string(i));
      clients.done();
    });
  }
  clients.wait_blocking();
  server_done.wait_blocking();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(replies[i], "hello from client " + std::to_string(i));
  }
  EXPECT_EQ(leaks.goroutines_now(), leaks.goroutines_before());
}

TEST(Io, AsioTimerAndCancellation) {
  auto result = block_on([]() -> Task<std::string> {
    asio::steady_timer fires(io_context(), std::chrono::milliseconds(2));
    error_code ec = co_await fires.async_wait(use_go);
    if (ec) co_return "unexpected: " + ec.message();
    // A cancelled wait completes with operation_aborted.
    asio::steady_timer never(io_context(), std::chrono::hours(1));
    go([&never]() -> Task<void> {
      co_await sleep(std::chrono::milliseconds(5));
      // Asio objects are not thread-safe: cancel on the poller thread.
      asio::post(io_context(), [&never] { never.cancel(); });
    });
    ec = co_await never.async_wait(use_go);
    co_return ec == asio::error::operation_aborted ? "aborted" : "not aborted: " + ec.message();
  }());
  EXPECT_EQ(result, "aborted");
}

}  // namespace
}  // namespace csp
