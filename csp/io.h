#pragma once
// Asio interop: goroutines co_await Asio/Beast operations and resume on the CSP scheduler.
//
//   auto [ec, n] = co_await socket.async_read_some(buffer, csp::use_go);
//   co_await acceptor.async_accept(socket, csp::use_go);   // -> boost::system::error_code
//
// Contract:
//  - csp::io_context() is the process's network poller: one thread runs it (started on first
//    use, never stopped). Create sockets, acceptors and timers on it.
//  - With csp::use_go as the completion token, the operation starts when the goroutine
//    suspends, and its completion readies the goroutine on the scheduler it was running on; no
//    goroutine code runs on the poller thread.
//  - The result is the completion's arguments: a single value for a one-argument signature
//    (e.g. error_code), otherwise a std::tuple (e.g. {error_code, std::size_t}).
//  - Cancellation follows Asio: closing a socket or cancelling a timer completes the pending
//    operation with operation_aborted.

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <coroutine>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "csp/chan.h"
#include "csp/scheduler.h"

namespace csp {

boost::asio::io_context& io_context();

struct UseGo {};
inline constexpr UseGo use_go{};

namespace internal {

template <class... Results>
using IoResult = std::conditional_t<sizeof...(Results) == 1,
                                    std::tuple_element_t<0, std::tuple<Results..., void>>,
                                    std::tuple<Results...>>;

template <class Initiation, class ArgsTuple, class... Results>
class IoAwaiter {
 public:
  IoAwaiter(Initiation init, ArgsTuple args) : init_(std::move(init)), args_(std::move(args)) {}

  bool await_ready() const noexcept { return false; }

  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    target_ = goroutine_target(h, goroutine_of(h), "I/O wait", nullptr);
    // The completion may run on the poller thread before this function returns; after
    // initiating we touch nothing of ours.
    std::apply(
        [this](auto&&... a) { std::move(init_)(Handler{this}, std::forward<decltype(a)>(a)...); },
        std::move(args_));
  }

  IoResult<Results...> await_resume() {
    if constexpr (sizeof...(Results) == 1) {
      return std::move(std::get<0>(*results_));
    } else {
      return std::move(*results_);
    }
  }

 private:
  struct Handler {
    IoAwaiter* self;
    void operator()(Results... results) {
      self->results_.emplace(std::move(results)...);
      const WakeTarget target = self->target_;
      target.wake();
    }
  };

  Initiation init_;
  ArgsTuple args_;
  WakeTarget target_;
  std::optional<std::tuple<Results...>> results_;
};

}  // namespace internal
}  // namespace csp

template <class... Args>
struct boost::asio::async_result<csp::UseGo, void(Args...)> {
  template <class Initiation, class... InitArgs>
  static auto initiate(Initiation&& init, csp::UseGo, InitArgs&&... args) {
    return csp::internal::IoAwaiter<std::decay_t<Initiation>, std::tuple<std::decay_t<InitArgs>...>,
                                    std::decay_t<Args>...>(
        std::forward<Initiation>(init),
        std::tuple<std::decay_t<InitArgs>...>(std::forward<InitArgs>(args)...));
  }
};
