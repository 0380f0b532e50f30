#include "csp/context.h"

#include <mutex>
#include <unordered_map>

#include "csp/internal/spin_lock.h"

// Invariants:
//  - A cancelable state (with_cancel/deadline/timeout) owns its done channel, error and
//    children; a value state only adds a pair and defers everything else to `cancel_owner`,
//    the nearest cancelable ancestor (or null under background).
//  - err goes from kNone to a reason once (under mu) and never changes again; done, if it
//    was created, is closed at that moment.
//  - A child is registered in its cancel_owner's children while both are live and not
//    cancelled. Locks are never nested: a parent copies its children out, unlocks, then
//    cancels them one by one.

namespace csp::internal {

enum class CancelReason { kNone, kCanceled, kDeadlineExceeded };

struct ContextState {
  std::shared_ptr<ContextState> parent;
  ContextState* cancel_owner = nullptr;  // self for cancelable states
  bool cancelable = false;
  std::optional<TimePoint> deadline;

  // Value contexts only.
  const void* key = nullptr;
  std::any value;

  // Cancelable contexts only. A spin lock: every critical section is a few stores.
  using Children = std::unordered_map<ContextState*, std::weak_ptr<ContextState>>;
  // Never held while cancelling deadline_timer: cancel() waits for a running deadline callback,
  // and that callback takes mu.
  internal::SpinLock mu;
  CancelReason reason = CancelReason::kNone;  // guarded by mu
  Chan<Unit> done;                            // guarded by mu; created on first done()
  std::unique_ptr<Children> children;         // guarded by mu; created on first child
  // The cancel_owner we are a child of; written before the state is shared, and by the one
  // cancel() that wins.
  ContextState* registered_with = nullptr;
  TimerHandle deadline_timer;  // guarded by mu

  ~ContextState() {
    deadline_timer.cancel();
    if (registered_with != nullptr) {
      std::lock_guard lock(registered_with->mu);
      if (registered_with->children) registered_with->children->erase(this);
    }
  }

  void cancel(CancelReason why, bool unregister) {
    std::unique_ptr<Children> kids;
    TimerHandle timer;
    {
      std::lock_guard lock(mu);
      if (reason != CancelReason::kNone) return;
      reason = why;
      done.close();  // no-op on a nil channel: nobody asked for done() yet
      kids = std::move(children);
      timer = std::move(deadline_timer);
    }
    if (timer.valid()) timer.cancel();
    // Children erase themselves from `children` on their own cancel or destruction; the map we
    // swapped out no longer holds them, and erasing a missing key is harmless.
    if (kids) {
      for (auto& [raw, weak] : *kids) {
        if (auto child = weak.lock()) child->cancel(why, false);
      }
    }
    if (unregister && registered_with != nullptr) {
      std::lock_guard lock(registered_with->mu);
      if (registered_with->children) registered_with->children->erase(this);
      registered_with = nullptr;
    }
  }
};

namespace {

Chan<Unit> closed_channel() {
  static const Chan<Unit>* ch = [] {
    static Chan<Unit> c(0);
    c.close();
    return &c;
  }();
  return *ch;
}

absl::Status reason_status(CancelReason r) {
  switch (r) {
    case CancelReason::kNone:
      return absl::OkStatus();
    case CancelReason::kCanceled:
      return absl::CancelledError("context canceled");
    case CancelReason::kDeadlineExceeded:
      return absl::DeadlineExceededError("context deadline exceeded");
  }
  return absl::InternalError("bad cancel reason");
}

std::shared_ptr<ContextState> make_cancelable(const Context& parent) {
  auto s = std::make_shared<ContextState>();
  s->parent = parent.state();
  s->cancelable = true;
  s->cancel_owner = s.get();
  s->deadline = parent.deadline();
  ContextState* owner = parent.state() ? parent.state()->cancel_owner : nullptr;
  if (owner != nullptr) {
    CancelReason inherited = CancelReason::kNone;
    {
      std::lock_guard lock(owner->mu);
      inherited = owner->reason;
      if (inherited == CancelReason::kNone) {
        if (!owner->children) owner->children = std::make_unique<ContextState::Children>();
        owner->children->emplace(s.get(), s);
        s->registered_with = owner;
      }
    }
    if (inherited != CancelReason::kNone) s->cancel(inherited, false);
  }
  return s;
}

}  // namespace

Context with_value_erased(const Context& parent, const void* key, std::any value) {
  auto s = std::make_shared<ContextState>();
  s->parent = parent.state();
  s->cancel_owner = parent.state() ? parent.state()->cancel_owner : nullptr;
  s->deadline = parent.deadline();
  s->key = key;
  s->value = std::move(value);
  return Context(std::move(s));
}

}  // namespace csp::internal

namespace csp {

using internal::CancelReason;
using internal::ContextState;

Chan<Unit> Context::done() const {
  ContextState* owner = state_ ? state_->cancel_owner : nullptr;
  if (owner == nullptr) return Chan<Unit>();
  std::lock_guard lock(owner->mu);
  if (owner->done.is_nil()) {
    owner->done = owner->reason == CancelReason::kNone ? Chan<Unit>(0) : internal::closed_channel();
  }
  return owner->done;
}

absl::Status Context::err() const {
  ContextState* owner = state_ ? state_->cancel_owner : nullptr;
  if (owner == nullptr) return absl::OkStatus();
  std::lock_guard lock(owner->mu);
  return internal::reason_status(owner->reason);
}

bool Context::is_done() const {
  ContextState* owner = state_ ? state_->cancel_owner : nullptr;
  if (owner == nullptr) return false;
  std::lock_guard lock(owner->mu);
  return owner->reason != CancelReason::kNone;
}

std::optional<TimePoint> Context::deadline() const {
  return state_ ? state_->deadline : std::nullopt;
}

const std::any* Context::find_value(const void* key) const {
  for (const ContextState* s = state_.get(); s != nullptr; s = s->parent.get()) {
    if (s->key == key) return &s->value;
  }
  return nullptr;
}

void CancelFunc::operator()() const {
  if (state_) state_->cancel(CancelReason::kCanceled, true);
}

std::pair<Context, CancelFunc> with_cancel(const Context& parent) {
  auto s = internal::make_cancelable(parent);
  Context ctx(s);
  return {std::move(ctx), CancelFunc(std::move(s))};
}

std::pair<Context, CancelFunc> with_deadline(const Context& parent, TimePoint deadline) {
  auto s = internal::make_cancelable(parent);
  if (s->deadline && *s->deadline <= deadline) {
    // The parent's deadline comes first and will cancel us; no timer of our own.
    return {Context(s), CancelFunc(s)};
  }
  s->deadline = deadline;
  const Duration left = deadline - Clock::now();
  if (left <= Duration::zero()) {
    s->cancel(CancelReason::kDeadlineExceeded, true);
  } else {
    std::weak_ptr<ContextState> weak = s;
    TimerHandle timer = after_func(left, [weak](TimePoint) {
      if (auto live = weak.lock()) live->cancel(CancelReason::kDeadlineExceeded, true);
    });
    bool cancelled_meanwhile = false;
    {
      std::lock_guard lock(s->mu);
      cancelled_meanwhile = s->reason != CancelReason::kNone;
      if (!cancelled_meanwhile) s->deadline_timer = std::move(timer);
    }
    // The parent cancelled us meanwhile. Not under s->mu: cancel() waits for a callback that
    // is running, and this one takes s->mu.
    if (cancelled_meanwhile) timer.cancel();
  }
  return {Context(s), CancelFunc(s)};
}

std::pair<Context, CancelFunc> with_timeout(const Context& parent, Duration timeout) {
  return with_deadline(parent, Clock::now() + timeout);
}

}  // namespace csp
