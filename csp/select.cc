#include "csp/select.h"

#include <memory>
#include <new>

#include "csp/internal/random.h"

// Invariants:
//  - Channel locks are taken only in lock_order (ascending address, each channel once), so two
//    selects over the same channels cannot deadlock, and released in any order.
//  - A select's Waiters are queued only while all its locks are held, and the first check for a
//    ready case happens under those same locks; so no partner can slip in between "nothing is
//    ready" and "I am waiting".
//  - SelectState::done goes 0 -> 1 once, by compare-and-swap under the lock of the channel whose
//    Waiter wins. That partner alone writes the winner's slot and wakes the select.
//  - No goroutine is woken while a channel lock is held: wakes are collected and done after
//    unlocking.
//
// Sketch (Go's selectgo, in steps):
//   select_begin:       shuffle -> sort locks -> lock all -> poll ready cases in poll order
//   select_park_locked: queue a Waiter per case -> unlock all (the select may win from here on)
//   select_finish:      lock all -> unlink every Waiter but the winner -> unlock all

namespace csp::internal {

namespace {

// Random permutation of the cases (Fisher-Yates, inside-out form).
void shuffle_poll_order(SelectFrame& f) {
  ThreadRandom& rng = thread_random();
  const std::size_t n = f.cases.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = rng.below(static_cast<std::uint32_t>(i + 1));
    if (j != i) f.poll_order[i] = f.poll_order[j];  // (the order starts uninitialized)
    f.poll_order[j] = static_cast<std::uint16_t>(i);
  }
}

// Distinct non-nil channels in ascending address order (insertion sort: n is small).
void sort_lock_order(SelectFrame& f) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < f.cases.size(); ++i) {
    ChanCore* ch = f.cases[i].ch;
    if (ch == nullptr) continue;
    std::size_t j = n;
    bool duplicate = false;
    while (j > 0) {
      ChanCore* prev = f.cases[f.lock_order[j - 1]].ch;
      if (prev == ch) {
        duplicate = true;
        break;
      }
      if (prev < ch) break;
      --j;
    }
    if (duplicate) continue;
    for (std::size_t k = n; k > j; --k) f.lock_order[k] = f.lock_order[k - 1];
    f.lock_order[j] = static_cast<std::uint16_t>(i);
    ++n;
  }
  f.nlocks = n;
}

void lock_all(const SelectFrame& f) {
  for (std::size_t i = 0; i < f.nlocks; ++i) f.cases[f.lock_order[i]].ch->lock();
}

void unlock_all(const SelectFrame& f) {
  for (std::size_t i = f.nlocks; i > 0; --i) f.cases[f.lock_order[i - 1]].ch->unlock();
}

// With every lock held: completes the first ready case in poll order, if any.
SelectChoice poll_locked(SelectFrame& f, Waiter** to_wake) {
  for (std::size_t k = 0; k < f.cases.size(); ++k) {
    const std::uint16_t i = f.poll_order[k];
    const SelectCase& c = f.cases[i];
    if (c.ch == nullptr) continue;
    const OpResult r = c.is_send ? c.ch->send_locked_erased(c.elem, to_wake)
                                 : c.ch->recv_locked_erased(c.elem, to_wake);
    if (r != OpResult::kNotReady) return SelectChoice{i, r == OpResult::kOk, false};
  }
  return SelectChoice{-1, false, true};
}

}  // namespace

// With a default case: true if a lock-free snapshot shows no case can proceed (see
// ChanCore::readiness). False means "maybe": take the locks and look properly.
bool nothing_ready_snapshot(const SelectFrame& f) {
  constexpr std::size_t kMaxCases = 8;
  if (f.cases.size() > kMaxCases) return false;
  std::uint64_t seen[kMaxCases];
  for (std::size_t i = 0; i < f.cases.size(); ++i) {
    const SelectCase& c = f.cases[i];
    if (c.ch == nullptr) continue;
    seen[i] = c.ch->readiness();
    if (seen[i] & (c.is_send ? ChanCore::kSendReady : ChanCore::kRecvReady)) return false;
  }
  for (std::size_t i = 0; i < f.cases.size(); ++i) {
    const SelectCase& c = f.cases[i];
    if (c.ch != nullptr && c.ch->readiness() != seen[i]) return false;
  }
  return true;
}

SelectChoice select_begin(SelectFrame& f) {
  if (f.default_index >= 0 && nothing_ready_snapshot(f)) {
    return SelectChoice{f.default_index, false, false};
  }
  shuffle_poll_order(f);
  sort_lock_order(f);
  lock_all(f);
  Waiter* wake = nullptr;
  SelectChoice choice = poll_locked(f, &wake);
  if (!choice.must_park) {
    unlock_all(f);
    if (wake != nullptr) wake->target->wake();
    return choice;
  }
  if (f.default_index >= 0) {
    unlock_all(f);
    return SelectChoice{f.default_index, false, false};
  }
  // must_park: the caller queues the Waiters while the locks are still held.
  return choice;
}

void select_park_locked(SelectFrame& f) {
  for (std::size_t i = 0; i < f.cases.size(); ++i) {
    const SelectCase& c = f.cases[i];
    if (c.ch == nullptr) continue;
    Waiter& w = *std::construct_at(f.waiters + i);
    w.select = &f.state;
    w.elem = c.elem;
    w.case_index = static_cast<std::uint32_t>(i);
    w.target = &f.target;
    (c.is_send ? c.ch->sendq() : c.ch->recvq()).push_back(&w);
  }
  // Copy the locks out of the frame first: once the first one is released a partner may wake
  // the select, and the frame belongs to the resumed goroutine again.
  constexpr std::size_t kInline = 16;
  ChanCore* inline_locks[kInline];
  const std::size_t n = f.nlocks;
  if (n <= kInline) {
    for (std::size_t i = 0; i < n; ++i) inline_locks[i] = f.cases[f.lock_order[i]].ch;
    for (std::size_t i = n; i > 0; --i) inline_locks[i - 1]->unlock();
  } else {
    std::vector<ChanCore*> locks(n);
    for (std::size_t i = 0; i < n; ++i) locks[i] = f.cases[f.lock_order[i]].ch;
    for (std::size_t i = n; i > 0; --i) locks[i - 1]->unlock();
  }
}

SelectChoice select_finish(SelectFrame& f) {
  // The winner wrote state.winner before waking us; the wake-up orders that write before here.
  lock_all(f);
  Waiter* winner = f.state.winner;
  for (std::size_t i = 0; i < f.cases.size(); ++i) {
    const SelectCase& c = f.cases[i];
    if (c.ch == nullptr) continue;
    Waiter& w = *std::launder(f.waiters + i);  // constructed by select_park_locked
    if (&w == winner) continue;
    (c.is_send ? c.ch->sendq() : c.ch->recvq()).remove(&w);
  }
  unlock_all(f);
  return SelectChoice{static_cast<int>(winner->case_index), winner->success, false};
}

SelectChoice select_wait_thread(SelectFrame& f) {
  ThreadParker parker;
  f.target = WakeTarget{nullptr, {}, &parker};
  if (f.nlocks == 0) block_forever_thread();
  select_park_locked(f);
  parker.park();
  return select_finish(f);
}

}  // namespace csp::internal
