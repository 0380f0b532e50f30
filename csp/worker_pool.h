#pragma once
// csp::WorkerPool: a fixed number of goroutines that run submitted jobs from a bounded queue.
// Submitting waits while the queue is full, which is how a producer feels backpressure.
//
// Contract: jobs start in submission order (they may finish in any order). close() stops
// accepting; the workers finish what is queued and exit; wait() returns when they all have.
// The pool must outlive its workers: co_await wait() (or wait_blocking()) before destroying it.

#include <cstddef>
#include <functional>

#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/task.h"
#include "csp/wait_group.h"

namespace csp {

class WorkerPool {
 public:
  using Job = std::function<Task<void>()>;

  WorkerPool(std::size_t workers, std::size_t queue_capacity) : jobs_(queue_capacity) {
    wg_.add(static_cast<std::int64_t>(workers));
    for (std::size_t i = 0; i < workers; ++i) csp::go(work());
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // co_await pool.submit(job): true once queued; false if the pool is closed.
  [[nodiscard]] auto submit(Job job) const { return jobs_.send(std::move(job)); }
  bool try_submit(Job job) const { return jobs_.try_send(std::move(job)); }
  bool submit_blocking(Job job) const { return jobs_.send_blocking(std::move(job)); }

  void close() const { jobs_.close(); }
  [[nodiscard]] auto wait() { return wg_.wait(); }
  void wait_blocking() { wg_.wait_blocking(); }
  std::size_t queued() const { return jobs_.size(); }

 private:
  Task<void> work() {
    while (auto job = co_await jobs_.recv()) co_await (*job)();
    wg_.done();
  }

  Chan<Job> jobs_;
  WaitGroup wg_;
};

}  // namespace csp
