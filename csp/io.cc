#include "csp/io.h"

#include <boost/asio/executor_work_guard.hpp>
#include <thread>

namespace csp {

boost::asio::io_context& io_context() {
  struct Poller {
    boost::asio::io_context ctx{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
        ctx.get_executor()};
    std::thread thread{[this] { ctx.run(); }};
  };
  // Never destroyed: goroutines may still have I/O pending while the process exits.
  alignas(Poller) static std::byte storage[sizeof(Poller)];
  static Poller* poller = [] {
    Poller* p = ::new (storage) Poller();
    p->thread.detach();
    return p;
  }();
  return poller->ctx;
}

}  // namespace csp
