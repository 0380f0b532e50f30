#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record frame and
// of the manifest (docs/storage.md). Debian bookworm ships no C/C++ crc32c library and its Abseil
// (20220623) predates absl/crc, so this is our own. On x86-64 CPUs with SSE 4.2 it uses the
// CPU's crc32 instruction (8 bytes per instruction, several GB/s), chosen once at run time;
// elsewhere a slicing-by-8 table walk (about 1 byte per cycle). Every record is checksummed
// when written and again when read back for delivery, so at a few hundred MB/s of telemetry the
// table walk alone took ~7% of a core.
//
// crc32c_extend(crc, data) continues a checksum: crc32c(a + b) == crc32c_extend(crc32c(a), b).
// The value is the finished CRC (initial ~0 and final ~0 applied), as in RFC 3720 appendix B.4.

#include <cstdint>
#include <string_view>

namespace storage::internal {

std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data);

inline std::uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data); }

// The two implementations, for tests that compare them. crc32c_extend_hardware() must only be
// called when crc32c_hardware_available().
std::uint32_t crc32c_extend_portable(std::uint32_t crc, std::string_view data);
std::uint32_t crc32c_extend_hardware(std::uint32_t crc, std::string_view data);
bool crc32c_hardware_available();

}  // namespace storage::internal
