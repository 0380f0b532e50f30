#pragma once
// Listener: a server's listening socket and its accept loop, shared by the gRPC and HTTP
// servers.
//
// Contract:
//  - open() binds "host:port" (port 0 picks one; ":port" is every interface, dual stack; a
//    name listens on its first IPv4 address, as Go's net.Listen does) with SO_REUSEADDR but not
//    SO_REUSEPORT, so a taken port is an error (UNAVAILABLE) instead of a silent share.
//  - run(on_connection) — a goroutine — accepts until close(). At most max_connections are
//    alive at once: at the limit it stops accepting (the kernel's backlog holds the rest, as
//    Go's netutil.LimitListener does) until a ConnectionSlot is dropped. Accept errors never end
//    the loop: running out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) backs off 5 ms,
//    doubling to 1 s, and resumes once accepting works again; one log line per episode.
//  - on_connection(socket, peer, slot) is called on the loop's goroutine for each connection;
//    it must not block (start a goroutine) and keeps `slot` for as long as the connection lives.
//  - close() — any thread, idempotent — stops the loop; run() returns soon after.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "csp/chan.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/poller_object.h"

namespace transport::internal {

using TcpSocket = PollerObject<boost::asio::ip::tcp::socket>;
using TcpAcceptor = PollerObject<boost::asio::ip::tcp::acceptor>;

// Held by a connection; dropping it frees its place under max_connections.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(csp::Chan<csp::Unit> slots) : slots_(std::move(slots)), held_(true) {}
  ConnectionSlot(ConnectionSlot&& o) noexcept
      : slots_(std::move(o.slots_)), held_(std::exchange(o.held_, false)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (held_) slots_.try_recv();
  }

 private:
  csp::Chan<csp::Unit> slots_;
  bool held_ = false;
};

class Listener {
  struct Private {};

 public:
  using OnConnection =
      std::function<void(std::shared_ptr<TcpSocket>, std::string peer, ConnectionSlot slot)>;

  // `server` names the server in messages ("GrpcServer").
  static absl::StatusOr<std::shared_ptr<Listener>> open(std::string_view endpoint,
                                                        std::string_view server,
                                                        std::size_t max_connections);

  Listener(Private, std::shared_ptr<TcpAcceptor> acceptor, int port, std::string server,
           std::size_t max_connections);

  int port() const { return port_; }
  csp::Task<void> run(OnConnection on_connection);
  void close();

 private:
  const std::shared_ptr<TcpAcceptor> acceptor_;
  const int port_;
  const std::string server_;
  csp::Chan<csp::Unit> slots_;   // one element per live connection
  csp::Chan<csp::Unit> closed_;  // closed by close()
  std::atomic<bool> closing_{false};
};

// The last step of both servers' shutdown: waits until `drained` is closed; if `deadline` passes
// first, calls abort_all() once (it closes every connection) and keeps waiting.
csp::Task<void> await_drained(csp::Chan<csp::Unit> drained, csp::TimePoint deadline,
                              std::function<void()> abort_all);

// The address a server binds for `hp`: every interface (dual stack) for an empty host, a
// literal as written, a name's first IPv4 address (else its first). UNAVAILABLE when a name
// does not resolve.
absl::StatusOr<boost::asio::ip::address> resolve_listen_address(const HostPort& hp);

// "ip:port" ("[v6]:port"), IPv4-mapped IPv6 addresses shown as IPv4.
std::string format_peer(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace transport::internal
