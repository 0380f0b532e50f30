#pragma once
// Coroutine frame recycling. Every csp::Task frame comes from here, so spawning a goroutine
// does not call malloc in the steady state.
//
// Frames are grouped in 64-byte size classes up to kMaxPooledFrame. Each thread keeps a free
// list per class; a list that grows past kThreadCacheLimit hands a batch to a global pool, and an
// empty one takes a batch from it. Frames freed on another thread than the one that allocated
// them (a goroutine that migrated, or was stolen) therefore flow back in batches, not one by one.
// Larger frames go straight to operator new.
//
// Thread-safety: allocate/deallocate may be called from any thread. live_frames() is a snapshot.

#include <cstddef>
#include <cstdint>

namespace csp::internal {

inline constexpr std::size_t kFrameGranule = 64;
inline constexpr std::size_t kMaxPooledFrame = 4096;

void* allocate_frame(std::size_t size);
void deallocate_frame(void* frame, std::size_t size) noexcept;

// Frames allocated and not yet freed, over all threads (leak checks in tests).
std::int64_t live_frames() noexcept;

}  // namespace csp::internal
