#pragma once
// csp::Task<T>: the coroutine type of goroutines and of everything they call.
//
// Contract:
//  - Lazy: creating a Task runs nothing. It runs when awaited (`co_await std::move(t)` or
//    `co_await f()`), or when handed to csp::go (then it is a goroutine of its own).
//  - Move-only and [[nodiscard]]; awaiting consumes it. Awaiting transfers control
//    symmetrically, so deep call chains do not grow the thread stack.
//  - The awaiting coroutine resumes on the thread that finished the callee, which is always a
//    worker of the same scheduler (goroutines never leave their scheduler).
//  - An exception thrown in a Task propagates to its awaiter. One that escapes a goroutine's
//    top-level Task ends the process with a message, as an unrecovered panic does in Go.
//  - Frames come from csp's frame recycler (internal/frame_allocator.h).
//  - Destroying a Task that was never started destroys its frame; destroying a suspended one
//    is a bug (goroutines own their top frame; awaited Tasks live in the awaiter's frame).

#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "csp/internal/frame_allocator.h"
#include "csp/internal/goroutine_record.h"

namespace csp {

template <class T = void>
class Task;

namespace internal {

// What every Task promise shares: who to resume when done, and whether this frame is the top
// of a goroutine (then it frees itself at the end).
class TaskPromiseBase {
 public:
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_frame(frame, size);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      TaskPromiseBase& p = self.promise();
      if (p.continuation_) return p.continuation_;
      // Top of a goroutine: nobody awaits us, so the frame ends here.
      if (p.on_goroutine_exit_ != nullptr) {
        if (p.exception_) p.die_of_exception();
        auto on_exit = p.on_goroutine_exit_;
        void* arg = p.exit_arg_;
        GoroutineRecord* g = p.goroutine_;
        self.destroy();
        goroutine_exited(g);
        on_exit(arg);
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }
  // Marks this frame as the top of a goroutine: on completion it destroys itself and calls
  // on_exit(arg) (the scheduler's goroutine accounting).
  void detach(void (*on_exit)(void*), void* arg) noexcept {
    on_goroutine_exit_ = on_exit;
    exit_arg_ = arg;
  }
  // The goroutine this frame runs in (null outside goroutines): set on the top frame by spawn,
  // passed down to every Task the goroutine awaits.
  GoroutineRecord* goroutine() const noexcept { return goroutine_; }
  void set_goroutine(GoroutineRecord* g) noexcept { goroutine_ = g; }

 protected:
  [[noreturn]] void die_of_exception() noexcept {
    try {
      std::rethrow_exception(exception_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "csp: goroutine ended with an exception: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "csp: goroutine ended with a non-standard exception\n");
    }
    std::abort();
  }

  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
  void (*on_goroutine_exit_)(void*) = nullptr;
  void* exit_arg_ = nullptr;
  GoroutineRecord* goroutine_ = nullptr;
};

// The goroutine of a suspending coroutine, when it is a Task (null otherwise).
template <class P>
GoroutineRecord* goroutine_of(std::coroutine_handle<P> h) noexcept {
  if constexpr (std::is_base_of_v<TaskPromiseBase, P>) {
    return h.promise().goroutine();
  } else {
    return nullptr;
  }
}

template <class T>
class TaskPromise final : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;

  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(value));
  }

  T take_result() {
    if (exception_) std::rethrow_exception(exception_);
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class TaskPromise<void> final : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take_result() {
    if (exception_) std::rethrow_exception(exception_);
  }
};

}  // namespace internal

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Awaiting runs the task to completion and yields its value (or rethrows its exception).
  struct Awaiter {
    Handle callee;
    bool await_ready() const noexcept { return false; }
    // The callee runs in the caller's goroutine (its record goes down the call chain).
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      callee.promise().set_continuation(caller);
      callee.promise().set_goroutine(internal::goroutine_of(caller));
      return callee;
    }
    T await_resume() { return callee.promise().take_result(); }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{handle_}; }

  // Hands the frame over (to the scheduler, which makes it a goroutine).
  Handle release() && noexcept { return std::exchange(handle_, {}); }

 private:
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }

  Handle handle_;
};

namespace internal {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace internal

}  // namespace csp
