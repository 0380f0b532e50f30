#include "transport/internal/listener.h"

#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "otlp/log_line.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/strings.h"

namespace transport::internal {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::chrono::milliseconds kFirstBackoff{5};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

// Errors that mean "no resources to accept right now": wait, then try again.
bool is_resource_shortage(const ErrorCode& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

absl::StatusOr<asio::ip::address> resolve_listen_address(const HostPort& hp) {
  if (hp.host.empty()) return asio::ip::address(asio::ip::address_v6::any());
  ErrorCode ec;
  asio::ip::address address = asio::ip::make_address(hp.host, ec);
  if (!ec) return address;
  asio::io_context io;
  tcp::resolver resolver(io);
  const tcp::resolver::results_type results =
      resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve \"", hp.host, "\": ", ec ? ec.message() : "no address"));
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) return entry.endpoint().address();
  }
  return results.begin()->endpoint().address();
}

std::string format_peer(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return format_host_port(address.to_string(), endpoint.port());
}

absl::StatusOr<std::shared_ptr<Listener>> Listener::open(std::string_view endpoint,
                                                         std::string_view server,
                                                         std::size_t max_connections) {
  absl::StatusOr<HostPort> hp = parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  absl::StatusOr<asio::ip::address> address = resolve_listen_address(*hp);
  if (!address.ok()) return address.status();
  const tcp::endpoint resolved(*address, hp->port);

  std::shared_ptr<TcpAcceptor> acceptor = TcpAcceptor::make();
  tcp::acceptor& a = acceptor->unsafe_object();  // not shared yet
  const auto fail = [&](std::string_view step, const ErrorCode& ec) {
    return absl::UnavailableError(absl::StrCat(av(server), ": cannot listen on \"", av(endpoint),
                                               "\": ", av(step), ": ", ec.message()));
  };
  ErrorCode ec;
  a.open(resolved.protocol(), ec);
  if (ec) return fail("open", ec);
  if (resolved.protocol() == tcp::v6() && hp->host.empty()) {
    a.set_option(asio::ip::v6_only(false), ec);  // dual stack, as Go's ":port"
  }
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  a.bind(resolved, ec);
  if (ec) return fail("bind", ec);
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  const int port = a.local_endpoint(ec).port();
  if (ec) return fail("local_endpoint", ec);
  return std::make_shared<Listener>(Private{}, std::move(acceptor), port, std::string(server),
                                    max_connections);
}

Listener::Listener(Private, std::shared_ptr<TcpAcceptor> acceptor, int port, std::string server,
                   std::size_t max_connections)
    : acceptor_(std::move(acceptor)),
      port_(port),
      server_(std::move(server)),
      slots_(max_connections),
      closed_(0) {
  // Its length is the connections alive, its capacity max_connections.
  slots_.set_name(server_ + " :" + std::to_string(port_) + " connections");
}

void Listener::close() {
  if (closing_.exchange(true)) return;
  closed_.close();
  acceptor_->abort();
}

csp::Task<void> Listener::run(OnConnection on_connection) {
  std::chrono::milliseconds backoff{0};
  for (;;) {
    // A place under max_connections first, so that at the limit nothing is accepted.
    if (co_await csp::select(csp::send(slots_, csp::Unit{}), csp::recv(closed_)) == 1) break;
    ConnectionSlot slot(slots_);
    // The servers read and write their connections directly (socket_io.h).
    std::shared_ptr<TcpSocket> socket = TcpSocket::make(/*direct_io=*/true);
    tcp::endpoint peer;
    const ErrorCode ec = co_await acceptor_->run([&](tcp::acceptor& acceptor, auto done) {
      acceptor.async_accept(socket->unsafe_object(), peer,
                            [socket, done = std::move(done)](ErrorCode ec) mutable {
                              // Answers are single writes: do not let Nagle hold them back.
                              ErrorCode ignored;
                              if (!ec) {
                                socket->unsafe_object().set_option(tcp::no_delay(true), ignored);
                              }
                              done(ec);
                            });
    });
    if (ec) {
      if (closing_.load() || ec == asio::error::operation_aborted) break;
      if (!is_resource_shortage(ec)) continue;  // e.g. a connection reset while queued
      if (backoff.count() == 0) {
        backoff = kFirstBackoff;
        otlp::write_log_line("warn", server_,
                             "accept: " + ec.message() + "; retrying with back-off");
      } else {
        backoff = std::min(backoff * 2, kMaxBackoff);
      }
      csp::Chan<csp::TimePoint> wake = csp::after(backoff);
      if (co_await csp::select(csp::recv(wake), csp::recv(closed_)) == 1) break;
      continue;
    }
    if (backoff.count() != 0) {
      otlp::write_log_line("info", server_, "accepting again");
      backoff = std::chrono::milliseconds(0);
    }
    on_connection(std::move(socket), format_peer(peer), std::move(slot));
  }
}

csp::Task<void> await_drained(csp::Chan<csp::Unit> drained, csp::TimePoint deadline,
                              std::function<void()> abort_all) {
  csp::Chan<csp::TimePoint> timer;  // nil: never fires
  if (deadline != csp::TimePoint::max()) {
    timer = csp::after(std::max(deadline - csp::Clock::now(), csp::Duration::zero()));
  }
  if (co_await csp::select(csp::recv(drained), csp::recv(timer)) == 1) {
    abort_all();
    co_await drained.recv();
  }
}

}  // namespace transport::internal
