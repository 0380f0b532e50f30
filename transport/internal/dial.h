#pragma once
// Resolving a host and connecting to the first of its addresses that answers, for the clients
// (HTTP, WebSocket), as one PollerObject::run() on the poller thread.
//
// Contract: `socket_of(object)` is the TCP socket inside the poller object (the object itself,
// or a connection that holds it). Addresses are tried in the resolver's order while the run is
// neither aborted nor past its deadline; TCP_NODELAY is set on success (requests and answers
// are single writes). The result is the run's: timed_out at the deadline, operation_aborted
// after abort().

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "csp/io.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "transport/internal/poller_object.h"

namespace transport::internal {

template <class Object, class SocketOf>
csp::Task<ErrorCode> resolve_and_connect(std::shared_ptr<PollerObject<Object>> object,
                                         std::string host, std::string port, SocketOf socket_of,
                                         csp::TimePoint deadline) {
  using tcp = boost::asio::ip::tcp;
  // Everything the run refers to lives in this frame, parked until the run completes.
  co_return co_await object->run(
      [&](Object& o, auto done) {
        tcp::socket& s = socket_of(o);
        auto resolver = std::make_shared<tcp::resolver>(csp::io_context());
        resolver->async_resolve(
            host, port,
            [resolver, object, &s, done = std::move(done)](
                ErrorCode ec, const tcp::resolver::results_type& results) mutable {
              if (!ec && object->interrupted_on_poller()) {
                ec = boost::asio::error::operation_aborted;
              }
              if (ec) {
                done(ec);
                return;
              }
              // The next address is tried only while the run was neither aborted nor timed
              // out (a cancel alone ends just the current address's try).
              boost::asio::async_connect(
                  s, results,
                  [object](const ErrorCode&, const tcp::endpoint&) {
                    return !object->interrupted_on_poller();
                  },
                  [resolver, &s, done = std::move(done)](ErrorCode ec,
                                                         const tcp::endpoint&) mutable {
                    ErrorCode ignored;
                    if (!ec) s.set_option(tcp::no_delay(true), ignored);
                    done(ec);
                  });
            });
      },
      deadline);
}

}  // namespace transport::internal
