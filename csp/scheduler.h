#pragma once
// The goroutine scheduler: runs csp::Task coroutines M:N on a fixed set of worker threads.
//
// Contract:
//  - csp::go(task) starts a goroutine. From a worker it goes on that worker's local queue; from
//    any other thread, on the scheduler's global queue. It never runs inline in go().
//  - A goroutine runs on one worker at a time; it may continue on another worker after it
//    suspends (work stealing). Code that needs thread affinity must not be a goroutine.
//  - Scheduling is cooperative: a goroutine keeps its worker until it suspends (channel
//    operation, select, sleep, I/O, yield()). Long computations should co_await csp::yield().
//  - ready() may be called from any thread. When called from a worker of this scheduler the
//    woken goroutine runs next on that worker (the "runnext" slot), which keeps a sender and a
//    receiver that hand values back and forth on one core and its cache.
//  - Idle workers park on a futex after a short spin; they are woken only when work appears
//    that they could take (a non-empty local or global queue), never for runnext alone.
//  - Destroying a Scheduler stops its workers. Goroutines that are still parked are abandoned
//    (their frames are not destroyed), as a Go program's goroutines are when main returns.
//
// Introspection: stats() gives live, runnable, running and parked goroutines and per-worker
// queue lengths. All counts are snapshots.

#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "csp/internal/source_location.h"
#include "csp/task.h"

namespace csp {

struct SchedulerOptions {
  // Worker threads. 0 means the CSP_WORKERS environment variable if set, else the number of
  // hardware threads.
  std::size_t workers = 0;
};

struct WorkerStats {
  std::size_t index = 0;
  std::size_t queue_length = 0;  // local run queue, including the runnext slot
  bool running = false;          // executing a goroutine right now
  bool idle = false;             // parked, waiting for work
};

struct RuntimeStats {
  std::size_t workers = 0;
  std::int64_t live_goroutines = 0;  // started and not finished
  std::int64_t runnable = 0;         // waiting in a run queue
  std::int64_t running = 0;          // on a worker right now
  std::int64_t parked = 0;           // blocked on a channel, select, timer, I/O or wait group
  std::size_t global_queue = 0;
  std::int64_t live_frames = 0;  // coroutine frames allocated and not freed (all schedulers)
  std::vector<WorkerStats> per_worker;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts task as a new goroutine of this scheduler. `origin` names it in the goroutine dump
  // (csp/introspection.h): where it was started.
  void spawn(Task<void> task, csp::SourceLocation origin = csp::SourceLocation::current());

  // Makes a parked goroutine runnable. Any thread. h must be a coroutine of this scheduler that
  // is suspended and that nobody else will resume.
  void ready(std::coroutine_handle<> h);

  std::size_t worker_count() const noexcept;
  RuntimeStats stats() const;

  // The scheduler whose worker is running the calling thread, or null on other threads.
  static Scheduler* current() noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The process-wide scheduler csp::go uses off the workers. Created on first use, never
// destroyed (workers may still run while static destructors do).
Scheduler& default_scheduler();

// Goroutines started anywhere count in the default scheduler's stats(); this is the common case
// and what tests use to check that nothing leaked.
inline RuntimeStats runtime_stats() { return default_scheduler().stats(); }

// Starts a goroutine on the current scheduler (the default one off the workers).
void go(Task<void> task, csp::SourceLocation origin = csp::SourceLocation::current());

namespace internal {
// Keeps the callable (and its captures) alive in the goroutine's own frame: a coroutine lambda
// passed as a temporary would otherwise dangle once go() returns.
template <class F, class... Args>
Task<void> invoke_owned(F f, Args... args) {
  using R = std::invoke_result_t<F&, Args&...>;
  if constexpr (std::is_same_v<R, Task<void>>) {
    co_await std::invoke(f, args...);
  } else {
    std::invoke(f, args...);
  }
}
}  // namespace internal

// go(f, args...): runs f(args...) as a goroutine. f may return Task<void> or void; f and the
// arguments are moved into the goroutine.
template <class F, class... Args>
requires std::invocable < std::decay_t<F>
&, std::decay_t<Args>&... > void go(F&& f, Args&&... args) {
  go(internal::invoke_owned(std::decay_t<F>(std::forward<F>(f)),
                            std::decay_t<Args>(std::forward<Args>(args))...));
}

// go(scheduler, f, args...): the same on a given scheduler.
template <class F, class... Args>
requires std::invocable < std::decay_t<F>
&, std::decay_t<Args>&... > void go(Scheduler& scheduler, F&& f, Args&&... args) {
  scheduler.spawn(internal::invoke_owned(std::decay_t<F>(std::forward<F>(f)),
                                         std::decay_t<Args>(std::forward<Args>(args))...));
}

// Suspends the calling goroutine and puts it at the back of the global queue, so others run.
struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const;
  void await_resume() const noexcept {}
};
inline YieldAwaiter yield() noexcept { return {}; }

namespace internal {

// Blocks a plain thread until unpark(). Used by blocking channel operations and block_on.
class ThreadParker {
 public:
  void park();
  void unpark();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;  // guarded by mu_
};

template <class T>
Task<void> run_and_signal(Task<T> task, std::optional<T>* out, std::exception_ptr* error,
                          ThreadParker* done) {
  try {
    out->emplace(co_await std::move(task));
  } catch (...) {
    *error = std::current_exception();
  }
  done->unpark();
}
inline Task<void> run_and_signal_void(Task<void> task, std::exception_ptr* error,
                                      ThreadParker* done) {
  try {
    co_await std::move(task);
  } catch (...) {
    *error = std::current_exception();
  }
  done->unpark();
}

}  // namespace internal

// Runs task as a goroutine and blocks the calling thread until it finishes; returns its value
// or rethrows its exception. For main(), tests and other threads that are not workers: calling
// it on a worker blocks that worker.
template <class T>
T block_on(Task<T> task, Scheduler& scheduler = default_scheduler(),
           csp::SourceLocation origin = csp::SourceLocation::current()) {
  internal::ThreadParker done;
  std::exception_ptr error;
  if constexpr (std::is_void_v<T>) {
    scheduler.spawn(internal::run_and_signal_void(std::move(task), &error, &done), origin);
    done.park();
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<T> out;
    scheduler.spawn(internal::run_and_signal(std::move(task), &out, &error, &done), origin);
    done.park();
    if (error) std::rethrow_exception(error);
    return std::move(*out);
  }
}

}  // namespace csp
