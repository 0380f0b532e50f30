#pragma once
// The manifest: the small file that says where delivery resumes (docs/storage.md, "On disk").
//
//   "ODLM" | version u32 = 1 | cursor u64 | n u32 | n × (seq u64, attempts u32) | crc32c u32
//
// All integers little-endian; the CRC covers every byte before it. `cursor` is the first
// unacknowledged sequence number; the pairs carry delivery attempts of nacked records at the
// head of the log so that a poison record reaches the dead-letter file across restarts too.
// It is replaced whole (write temporary, fdatasync, rename, fsync the directory), never edited.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace storage::internal {

inline constexpr std::size_t kMaxManifestAttempts = 1024;

struct Manifest {
  std::uint64_t cursor = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> attempts;  // (seq, attempts), by seq
};

// At most kMaxManifestAttempts pairs are written (the lowest sequence numbers).
std::string encode_manifest(const Manifest& manifest);
// DataLoss for anything that is not a well-formed manifest with a matching checksum.
absl::StatusOr<Manifest> decode_manifest(std::string_view bytes);

// Upper bound of encode_manifest's output, for the disk headroom the log keeps.
inline constexpr std::size_t kMaxManifestBytes = 4 + 4 + 8 + 4 + kMaxManifestAttempts * 12 + 4;

}  // namespace storage::internal
