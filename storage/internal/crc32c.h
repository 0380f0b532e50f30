#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record frame and
// of the manifest (docs/storage.md). Debian bookworm ships no C/C++ crc32c library and its Abseil
// (20220623) predates absl/crc, so this is our own: a slicing-by-8 table walk, about 1 byte per
// cycle — far below the cost of the fdatasync it protects.
//
// crc32c_extend(crc, data) continues a checksum: crc32c(a + b) == crc32c_extend(crc32c(a), b).
// The value is the finished CRC (initial ~0 and final ~0 applied), as in RFC 3720 appendix B.4.

#include <cstdint>
#include <string_view>

namespace storage::internal {

std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data);

inline std::uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data); }

}  // namespace storage::internal
