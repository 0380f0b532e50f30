#pragma once
// csp::select: Go's select statement.
//
//   int v = 0;
//   bool ok = false;
//   switch (co_await csp::select(csp::recv(in, &v, &ok),     // case 0
//                                csp::send(out, 42),           // case 1
//                                csp::recv(ctx.done()),        // case 2
//                                csp::default_case())) {       // case 3 (optional)
//     case 0: ...
//   }
//
// Contract (as in Go):
//  - select returns the index, in argument order, of the one case that completed.
//  - If several cases are ready, one is chosen uniformly at random. If none is ready, the default
//    case is taken when there is one; otherwise the goroutine parks on every channel until one
//    case completes. Exactly one case completes: no value is lost, taken twice or sent twice,
//    whatever races with it (another select, close, a timer, a cancellation).
//  - A receive from a closed channel is ready; it completes with ok = false and no value.
//    A send to a closed channel is ready too; it completes with ok = false (Go would panic).
//  - Cases on nil channels are never ready. A select with only nil cases and no default blocks
//    forever.
//  - Timers (csp::after) and context cancellation (ctx.done()) are channels, so they are
//    ordinary receive cases.
//  - select_blocking() is the same for threads that are not goroutines.
//
// The algorithm (select.cc): shuffle the cases (poll order) and sort their channels by address
// (lock order); lock all; take the first ready case in poll order. Otherwise queue one Waiter
// per case, all sharing a SelectState, unlock and park. A partner completes a case only after
// winning SelectState::done by compare-and-swap under that channel's lock, so exactly one case
// wins. Once woken, the select locks all channels again and unlinks its other Waiters.
// spec/ holds the Promela and TLA+ models of this protocol.

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "csp/chan.h"

namespace csp {

namespace internal {

// One case with its type erased. ch == nullptr: a nil channel or the default case.
struct SelectCase {
  ChanCore* ch = nullptr;
  bool is_send = false;
  void* elem = nullptr;  // send: T*; receive: std::optional<T>*
};

// Scratch space and state of one select, laid out by the typed front end.
struct SelectFrame {
  std::span<const SelectCase> cases;
  std::uint16_t* poll_order;  // cases.size() entries
  std::uint16_t* lock_order;  // cases.size() entries; first `nlocks` are distinct channels
  std::size_t nlocks = 0;
  // cases.size() slots of storage; select_park_locked constructs the Waiter of each case it
  // queues (a nil case has none).
  Waiter* waiters;
  SelectState state;
  WakeTarget target;
  int default_index = -1;
};

struct SelectChoice {
  int index = -1;   // the case that completed
  bool ok = false;  // receive: got a value; send: delivered (false: channel closed)
  bool must_park = false;
};

// Locks everything and completes a ready case, or takes the default, or (must_park) queues the
// Waiters. With must_park the locks are still held: call select_park_locked next.
SelectChoice select_begin(SelectFrame& f);
// Queues the waiters and releases every lock. The select may complete on another thread before
// this returns; the caller must not touch the frame afterwards.
void select_park_locked(SelectFrame& f);
// After waking: unlinks the waiters that lost and reports the winner.
SelectChoice select_finish(SelectFrame& f);
// For threads: select_park_locked + wait + select_finish.
SelectChoice select_wait_thread(SelectFrame& f);

}  // namespace internal

template <class T>
struct RecvCase {
  internal::ChanState<T>* ch;
  T* out = nullptr;
  std::optional<T>* out_optional = nullptr;
  bool* ok = nullptr;
  std::optional<T> slot;

  internal::SelectCase erase() noexcept { return {ch, false, &slot}; }
  void finish(bool got) {
    if (ok != nullptr) *ok = got;
    if (got && out != nullptr) *out = std::move(*slot);
    if (out_optional != nullptr) *out_optional = std::move(slot);
  }
};

template <class T>
struct SendCase {
  internal::ChanState<T>* ch;
  T value;
  bool* ok = nullptr;

  internal::SelectCase erase() noexcept { return {ch, true, &value}; }
  void finish(bool delivered) {
    if (ok != nullptr) *ok = delivered;
  }
};

struct DefaultCase {
  internal::SelectCase erase() noexcept { return {}; }
  void finish(bool) {}
};

// case v, ok := <-ch   (out and ok may be null)
template <class T>
RecvCase<T> recv(const Chan<T>& ch, std::type_identity_t<T>* out = nullptr, bool* ok = nullptr) {
  return RecvCase<T>{ch.state(), out, nullptr, ok, std::nullopt};
}
// case v := <-ch, into an optional (std::nullopt when closed)
template <class T>
RecvCase<T> recv(const Chan<T>& ch, std::optional<std::type_identity_t<T>>* out) {
  return RecvCase<T>{ch.state(), nullptr, out, nullptr, std::nullopt};
}
// case ch <- value
template <class T, class U>
requires std::is_constructible_v<T, U&&> SendCase<T> send(const Chan<T>& ch, U&& value,
                                                          bool* ok = nullptr) {
  return SendCase<T>{ch.state(), T(std::forward<U>(value)), ok};
}
// default:
inline DefaultCase default_case() noexcept { return {}; }

namespace internal {

template <class... Cases>
class SelectOp {
 public:
  static constexpr std::size_t kN = sizeof...(Cases);
  static_assert(kN > 0, "select needs at least one case");
  static_assert((std::is_same_v<Cases, DefaultCase> + ... + 0) <= 1,
                "select takes at most one default case");

  explicit SelectOp(Cases&&... cases) : cases_(std::move(cases)...) {
    std::size_t i = 0;
    std::apply([&](auto&... c) { ((erased_[i] = c.erase(), note_default(c, i), ++i), ...); },
               cases_);
    frame_.cases = std::span<const SelectCase>(erased_.data(), kN);
    frame_.poll_order = poll_.data();
    frame_.lock_order = locks_.data();
    frame_.waiters = reinterpret_cast<Waiter*>(waiter_storage_);
  }
  SelectOp(const SelectOp&) = delete;
  SelectOp& operator=(const SelectOp&) = delete;

  SelectFrame& frame() noexcept { return frame_; }

  std::size_t complete(SelectChoice choice) {
    std::size_t i = 0;
    std::apply(
        [&](auto&... c) {
          ((static_cast<int>(i) == choice.index ? c.finish(choice.ok) : void(), ++i), ...);
        },
        cases_);
    return static_cast<std::size_t>(choice.index);
  }

 private:
  template <class C>
  void note_default(const C&, std::size_t i) noexcept {
    if constexpr (std::is_same_v<C, DefaultCase>) frame_.default_index = static_cast<int>(i);
  }

  std::tuple<Cases...> cases_;
  std::array<SelectCase, kN> erased_{};
  // Left uninitialized: most selects find a case ready (or take the default) and never look at
  // these. select_begin fills the orders when it locks; select_park_locked constructs a Waiter
  // for each case it queues.
  std::array<std::uint16_t, kN> poll_;
  std::array<std::uint16_t, kN> locks_;
  alignas(Waiter) std::byte waiter_storage_[kN * sizeof(Waiter)];
  SelectFrame frame_{};
};

template <class... Cases>
class SelectAwaiter {
 public:
  explicit SelectAwaiter(Cases&&... cases) : op_(std::move(cases)...) {}

  bool await_ready() {
    choice_ = select_begin(op_.frame());
    return !choice_.must_park;
  }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    op_.frame().target = goroutine_target(h, goroutine_of(h), "select", nullptr);
    select_park_locked(op_.frame());
  }
  std::size_t await_resume() {
    if (choice_.must_park) choice_ = select_finish(op_.frame());
    return op_.complete(choice_);
  }

 private:
  SelectOp<Cases...> op_;
  SelectChoice choice_;
};

}  // namespace internal

template <class... Cases>
[[nodiscard]] internal::SelectAwaiter<std::remove_cvref_t<Cases>...> select(Cases&&... cases) {
  return internal::SelectAwaiter<std::remove_cvref_t<Cases>...>(
      std::remove_cvref_t<Cases>(std::forward<Cases>(cases))...);
}

template <class... Cases>
std::size_t select_blocking(Cases&&... cases) {
  internal::SelectOp<std::remove_cvref_t<Cases>...> op(
      std::remove_cvref_t<Cases>(std::forward<Cases>(cases))...);
  internal::SelectChoice choice = internal::select_begin(op.frame());
  if (choice.must_park) choice = internal::select_wait_thread(op.frame());
  return op.complete(choice);
}

}  // namespace csp
