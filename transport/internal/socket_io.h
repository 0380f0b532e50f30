#pragma once
// Socket reads and writes made by the goroutine itself, the way Go's netpoller works: the
// goroutine first tries a non-blocking recv()/send() on its own thread, and parks on the poller
// only when the kernel has nothing to give or no room to take (EAGAIN). A request that has
// already arrived, and an answer that fits in the send buffer, never involve the poller thread:
// each saves a post to the poller and a wake-up of the goroutine, two thread switches, which
// dominated the receivers' cost at low and high rates alike.
//
// Contract:
//  - One reading and one writing goroutine at a time per socket, as with PollerObject::run().
//  - Sockets made with PollerObject::make(/*direct_io=*/true) only (the servers' Listener).
//  - Errors read like Asio's: asio::error::eof when the peer closed, timed_out when the
//    deadline passed while parked, operation_aborted after abort() (checked before every
//    syscall: a shut-down socket would still hand out bytes the kernel had queued).
//  - These never throw and never block the thread.

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <utility>

#include "csp/task.h"
#include "csp/timer.h"
#include "transport/internal/listener.h"
#include "transport/internal/poller_object.h"

namespace transport::internal {

// One non-blocking recv(): `got` > 0 bytes and no error; or eof; or would_block when nothing is
// there yet; or another error.
ErrorCode try_read(TcpSocket& socket, char* data, std::size_t size, std::size_t& got);

// Poller thread only: calls done(error_code) once the socket is readable (or writable), at once
// if it already is. Asio's reactor is edge-triggered and queues a wait without looking, so bytes
// that arrived after a direct read's EAGAIN but before the wait was queued would have made their
// edge already and the wait would sleep until more came. Looking first closes that gap: only the
// poller takes edges off epoll, so nothing slips between the look and the queueing.
template <class Done>
void async_wait_ready(boost::asio::ip::tcp::socket& s, boost::asio::ip::tcp::socket::wait_type what,
                      Done done) {
  pollfd p{s.native_handle(),
           static_cast<short>(what == boost::asio::ip::tcp::socket::wait_read ? POLLIN : POLLOUT),
           0};
  if (::poll(&p, 1, 0) > 0) {
    done(ErrorCode());  // ready, or an error or hang-up that the next syscall reports
    return;
  }
  s.async_wait(what, std::move(done));
}

// Parks until the socket is readable (or writable), the deadline passes or abort().
csp::Task<ErrorCode> wait_ready(TcpSocket& socket, boost::asio::ip::tcp::socket::wait_type what,
                                csp::TimePoint deadline);

// Reads at least one byte into [data, data + size); `got` says how many.
csp::Task<ErrorCode> read_some(TcpSocket& socket, char* data, std::size_t size, std::size_t& got,
                               csp::TimePoint deadline);

// Writes all of [data, data + size), parking on the poller only while the send buffer is full.
csp::Task<ErrorCode> write_all(TcpSocket& socket, const char* data, std::size_t size,
                               csp::TimePoint deadline);

}  // namespace transport::internal
