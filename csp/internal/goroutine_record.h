#pragma once
// GoroutineRecord: what the runtime knows of one live goroutine, for the goroutine dump
// (csp/introspection.h) — Go's allgs entry in miniature.
//
// Lifetime: taken by spawn (goroutine_started) from a per-thread free list, given back when
// the goroutine's top frame ends (goroutine_exited). Every record ever made stays in one
// append-only list that the dump walks, skipping free ones. Every Task frame of the goroutine
// points at its record (TaskPromiseBase::goroutine()), so an awaiter that parks can note what
// it waits on without any thread-local lookup.
//
// Cost: no lock per goroutine in the steady state (a thread-local free list; batches move
// through a global list under a mutex only when one side runs dry or overflows), and at each
// park three relaxed stores (one more to clear at wake-up). Nothing on the fast paths (a
// channel operation that completes at once parks nothing).

#include <atomic>
#include <cstdint>
#include <ctime>

#include "csp/internal/source_location.h"

namespace csp::internal {

struct GoroutineRecord {
  // 0 while the record is free (its goroutine ended); records are reused, never freed, as Go's
  // g structs: a dump may read one while it is reused, so every field it reads is atomic and
  // the dump checks the id again after reading.
  std::atomic<std::uint64_t> id{0};
  std::atomic<const char*> file{nullptr};  // where csp::go / spawn was called
  std::atomic<const char*> function{nullptr};
  std::atomic<std::uint32_t> line{0};
  std::atomic<std::int64_t> created_ns{0};  // CLOCK_MONOTONIC_COARSE
  // What the goroutine is parked on ("chan receive"), null while running or runnable. Written
  // by the goroutine as it parks and cleared by whoever wakes it, before it becomes runnable.
  std::atomic<const char*> wait{nullptr};
  std::atomic<const void*> wait_object{nullptr};  // the channel (or wait group) if any
  // When a dump first saw the current wait (0: not seen yet). Parking does not read a clock
  // (it would cost every channel operation that parks); like Go's waitsince, the duration is
  // a lower bound, exact to the interval between dumps.
  std::atomic<std::int64_t> wait_since_ns{0};
  GoroutineRecord* next_free = nullptr;  // owned by whichever free list holds the record
};

inline std::int64_t coarse_now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Registers a new goroutine; never null.
GoroutineRecord* goroutine_started(csp::SourceLocation origin);
// Unregisters and frees it (null is fine).
void goroutine_exited(GoroutineRecord* g) noexcept;

inline void note_wait(GoroutineRecord* g, const char* what, const void* object) noexcept {
  if (g == nullptr) return;
  g->wait_object.store(object, std::memory_order_relaxed);
  g->wait_since_ns.store(0, std::memory_order_relaxed);
  g->wait.store(what, std::memory_order_release);
}

inline void clear_wait(GoroutineRecord* g) noexcept {
  if (g != nullptr) g->wait.store(nullptr, std::memory_order_release);
}

}  // namespace csp::internal
