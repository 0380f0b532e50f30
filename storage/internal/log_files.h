#pragma once
// The names in a durable log's directory and the manifest write protocol (docs/storage.md):
//
//   00000000000000000042.seg   a segment; the name is its first record's sequence number
//   MANIFEST                   the cursor (internal/manifest.h)
//   MANIFEST.tmp               a manifest being written; deleted at open
//   dead_letter.log            records past max_deliveries, same framing as segments
//   LOCK                       flock'd by the process that has the log open

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/file_system.h"
#include "storage/internal/manifest.h"

namespace storage::internal {

inline constexpr std::string_view kManifestFileName = "MANIFEST";
inline constexpr std::string_view kManifestTempFileName = "MANIFEST.tmp";
inline constexpr std::string_view kDeadLetterFileName = "dead_letter.log";
inline constexpr std::string_view kLockFileName = "LOCK";

// Sequence numbers stay below this (146 000 years at a million appends a second), so no sum of
// a sequence number and a count can overflow; names or cursors above it are not ours.
inline constexpr std::uint64_t kMaxSequence = std::uint64_t{1} << 62;

std::string segment_file_name(std::uint64_t first_seq);
// The sequence number of a segment file name in exactly the form segment_file_name makes, and
// at most kMaxSequence.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

// Replaces the manifest atomically and durably:
//  1. write MANIFEST.tmp and fdatasync it — the new bytes are on disk under a name nobody reads;
//  2. rename it over MANIFEST — readers see the old or the new manifest, never a mix;
//  3. fsync the directory — the rename survives a power cut. Only after this may the caller
//     act on the new cursor (delete segments below it).
absl::Status write_manifest(FileSystem& fs, const std::string& dir, const Manifest& manifest);

}  // namespace storage::internal
