#pragma once
// csp::TaskGroup: errgroup for goroutines. Each go() runs a Task<absl::Status> as a goroutine
// under the group's context; the first non-OK status cancels that context (so the siblings can
// stop early) and is what wait() returns.
//
// Contract: wait() returns once every goroutine started with go() has finished. go() may be
// called from inside the group's goroutines. The group must outlive its goroutines: always
// co_await wait() (or wait_blocking()) before destroying it.

#include <functional>
#include <mutex>
#include <type_traits>

#include "absl/status/status.h"
#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/task.h"
#include "csp/wait_group.h"

namespace csp {

class TaskGroup {
 public:
  explicit TaskGroup(const Context& parent = Context::background()) {
    std::tie(ctx_, cancel_) = with_cancel(parent);
  }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() { cancel_(); }

  // The context the group's goroutines should watch.
  const Context& context() const noexcept { return ctx_; }

  // Starts f(args...) (returning Task<absl::Status>) as a goroutine of the group.
  template <class F, class... Args>
  void go(F&& f, Args&&... args) {
    wg_.add(1);
    csp::go(run(std::function<Task<absl::Status>()>(
        [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable {
          return std::invoke(f, args...);
        })));
  }

  // Waits for every goroutine; the first error, or OK.
  Task<absl::Status> wait() {
    co_await wg_.wait();
    cancel_();
    co_return first_error();
  }
  absl::Status wait_blocking() {
    wg_.wait_blocking();
    cancel_();
    return first_error();
  }

 private:
  Task<void> run(std::function<Task<absl::Status>()> f) {
    absl::Status s = co_await f();
    if (!s.ok()) {
      std::lock_guard lock(mu_);
      if (error_.ok()) {
        error_ = std::move(s);
        cancel_();
      }
    }
    wg_.done();
  }
  absl::Status first_error() {
    std::lock_guard lock(mu_);
    return error_;
  }

  Context ctx_;
  CancelFunc cancel_;
  WaitGroup wg_;
  std::mutex mu_;
  absl::Status error_;  // guarded by mu_
};

}  // namespace csp
