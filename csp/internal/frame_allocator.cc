#include "csp/internal/frame_allocator.h"

#include <array>
#include <mutex>
#include <new>
#include <vector>

#include "csp/internal/striped_counter.h"

// Invariants:
//  - A block on a free list is at least kFrameGranule bytes and stores only the link to the next.
//  - A thread's list for class c holds blocks of exactly (c + 1) * kFrameGranule bytes.
//  - Batches in the global pool are null-terminated lists of kBatch blocks of one class.

namespace csp::internal {
namespace {

constexpr std::size_t kClasses = kMaxPooledFrame / kFrameGranule;
constexpr std::size_t kBatch = 64;
constexpr std::size_t kThreadCacheLimit = 2 * kBatch;

struct FreeBlock {
  FreeBlock* next;
};

StripedCounter g_live;

// Global pool: one stack of batches per size class.
struct GlobalPool {
  std::mutex mu;
  std::array<std::vector<FreeBlock*>, kClasses> batches;  // guarded by mu
};

GlobalPool& global_pool() {
  // Never destroyed: threads may return frames while the process exits.
  alignas(GlobalPool) static std::byte storage[sizeof(GlobalPool)];
  static GlobalPool* pool = ::new (storage) GlobalPool();
  return *pool;
}

struct ThreadCache {
  std::array<FreeBlock*, kClasses> head{};
  std::array<std::size_t, kClasses> count{};

  ~ThreadCache() {
    // Give everything back so another thread can use it.
    GlobalPool& pool = global_pool();
    std::lock_guard lock(pool.mu);
    for (std::size_t c = 0; c < kClasses; ++c) {
      if (head[c] != nullptr) pool.batches[c].push_back(head[c]);
      head[c] = nullptr;
      count[c] = 0;
    }
  }

  // Moves kBatch blocks of class c to the global pool.
  void spill(std::size_t c) {
    FreeBlock* batch = head[c];
    FreeBlock* last = batch;
    for (std::size_t i = 1; i < kBatch; ++i) last = last->next;
    head[c] = last->next;
    last->next = nullptr;
    count[c] -= kBatch;
    GlobalPool& pool = global_pool();
    std::lock_guard lock(pool.mu);
    pool.batches[c].push_back(batch);
  }

  // Takes one batch of class c from the global pool; false when it has none.
  bool refill(std::size_t c) {
    GlobalPool& pool = global_pool();
    FreeBlock* batch = nullptr;
    {
      std::lock_guard lock(pool.mu);
      if (pool.batches[c].empty()) return false;
      batch = pool.batches[c].back();
      pool.batches[c].pop_back();
    }
    std::size_t n = 0;
    for (FreeBlock* b = batch; b != nullptr; b = b->next) ++n;
    head[c] = batch;
    count[c] = n;
    return true;
  }
};

ThreadCache& thread_cache() {
  thread_local ThreadCache cache;
  return cache;
}

constexpr std::size_t size_class(std::size_t size) { return (size - 1) / kFrameGranule; }

// Under AddressSanitizer every frame goes to the system allocator, so a use of a destroyed
// frame is reported instead of hidden by recycling.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPooling = false;
#else
constexpr bool kPooling = true;
#endif

}  // namespace

void* allocate_frame(std::size_t size) {
  g_live.add(1);
  if (!kPooling || size > kMaxPooledFrame || size == 0) return ::operator new(size);
  const std::size_t c = size_class(size);
  ThreadCache& cache = thread_cache();
  if (cache.head[c] == nullptr && !cache.refill(c)) {
    return ::operator new((c + 1) * kFrameGranule);
  }
  FreeBlock* block = cache.head[c];
  cache.head[c] = block->next;
  --cache.count[c];
  return block;
}

void deallocate_frame(void* frame, std::size_t size) noexcept {
  g_live.add(-1);
  if (!kPooling || size > kMaxPooledFrame || size == 0) {
    ::operator delete(frame);
    return;
  }
  const std::size_t c = size_class(size);
  ThreadCache& cache = thread_cache();
  auto* block = static_cast<FreeBlock*>(frame);
  block->next = cache.head[c];
  cache.head[c] = block;
  if (++cache.count[c] > kThreadCacheLimit) cache.spill(c);
}

std::int64_t live_frames() noexcept { return g_live.read(); }

}  // namespace csp::internal
