#pragma once
// csp::Context: Go's context.Context — cancellation, deadlines and request-scoped values that
// flow from a parent to everything started on its behalf.
//
// Contract:
//  - A Context is an immutable, cheap-to-copy handle. background() is never cancelled and has
//    no deadline and no values; its done() is the nil channel.
//  - with_cancel / with_deadline / with_timeout return the child and its CancelFunc. Calling the
//    CancelFunc (any thread, any number of times) cancels the child and all of its descendants;
//    the first cancellation's reason sticks. Cancelling a parent cancels every child. A child's
//    deadline is never later than its parent's.
//  - done() is a channel that is closed when the context is cancelled: select on it, or
//    co_await recv(). err() is OK while not done, then Cancelled ("context canceled") or
//    DeadlineExceeded ("context deadline exceeded").
//  - with_value adds one key/value pair; value(key) looks it up along the chain. Keys are
//    ContextKey<T> objects compared by identity, so two packages cannot collide.
//  - recv_ctx / send_ctx perform one channel operation that is abandoned when the context is
//    done; the channel is left as if the operation had never been attempted.
//  - A child that is dropped without being cancelled unregisters from its parent, so a
//    long-lived parent does not accumulate dead children.

#include <any>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/chan.h"
#include "csp/select.h"
#include "csp/timer.h"

namespace csp {

namespace internal {
struct ContextState;
}

template <class T>
struct ContextKey {
  const char* name;  // for debugging only; identity is the object's address
};

class Context {
 public:
  // The background context.
  Context() = default;
  static Context background() { return Context(); }

  // Closed when the context is cancelled; nil for background.
  Chan<Unit> done() const;
  // OK while not done; then why it is done.
  absl::Status err() const;
  bool is_done() const;
  std::optional<TimePoint> deadline() const;

  template <class T>
  const T* value(const ContextKey<T>& key) const {
    const std::any* v = find_value(&key);
    return v == nullptr ? nullptr : std::any_cast<T>(v);
  }

  explicit Context(std::shared_ptr<internal::ContextState> s) : state_(std::move(s)) {}
  const std::shared_ptr<internal::ContextState>& state() const noexcept { return state_; }

 private:
  const std::any* find_value(const void* key) const;

  std::shared_ptr<internal::ContextState> state_;  // null: background
};

class CancelFunc {
 public:
  CancelFunc() = default;
  explicit CancelFunc(std::shared_ptr<internal::ContextState> s) : state_(std::move(s)) {}
  void operator()() const;

 private:
  std::shared_ptr<internal::ContextState> state_;
};

std::pair<Context, CancelFunc> with_cancel(const Context& parent);
std::pair<Context, CancelFunc> with_deadline(const Context& parent, TimePoint deadline);
std::pair<Context, CancelFunc> with_timeout(const Context& parent, Duration timeout);

namespace internal {
Context with_value_erased(const Context& parent, const void* key, std::any value);
}  // namespace internal

template <class T>
Context with_value(const Context& parent, const ContextKey<T>& key, T value) {
  return internal::with_value_erased(parent, &key, std::any(std::move(value)));
}

// Receives from ch unless ctx is done first. The value, std::nullopt if ch was closed, or
// ctx.err().
template <class T>
Task<absl::StatusOr<std::optional<T>>> recv_ctx(Context ctx, Chan<T> ch) {
  std::optional<T> value;
  Chan<Unit> done = ctx.done();
  if (co_await select(recv(ch, &value), recv(done)) == 1) co_return ctx.err();
  co_return value;
}

// Sends value on ch unless ctx is done first. OK, ctx.err(), or FailedPrecondition if ch is
// closed.
template <class T>
Task<absl::Status> send_ctx(Context ctx, Chan<T> ch, T value) {
  bool delivered = false;
  Chan<Unit> done = ctx.done();
  if (co_await select(send(ch, std::move(value), &delivered), recv(done)) == 1) {
    co_return ctx.err();
  }
  if (!delivered) co_return absl::FailedPreconditionError("send on closed channel");
  co_return absl::OkStatus();
}

}  // namespace csp
