#include "csp/io.h"

#include <boost/asio/executor_work_guard.hpp>
#include <thread>

#include "csp/internal/no_destructor.h"

// Invariants: one io_context, run by one poller thread from first use until the process ends;
// the work guard keeps run() from returning when no operation is pending.

namespace csp {

boost::asio::io_context& io_context() {
  struct Poller {
    boost::asio::io_context ctx{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
        ctx.get_executor()};
    std::thread thread{[this] { ctx.run(); }};  // last: it starts running ctx at once
  };
  // Never destroyed, and the thread is neither joined nor detached. To join it at exit we would
  // first have to make run() return: ctx.stop() abandons the handlers of I/O that goroutines
  // still have pending (they point into goroutine frames that outlive static destruction),
  // and releasing the work guard instead waits for every pending read, which on an idle
  // connection is forever. So the poller lives until the process ends. Keeping it in a
  // NoDestructor rather than detaching the thread means the std::thread object is never
  // destroyed while joinable (that would call std::terminate), and the thread stays owned by
  // something that could join it if a shutdown step is ever added.
  static internal::NoDestructor<Poller> poller;
  return poller->ctx;
}

}  // namespace csp
