#pragma once
// The in-flight file: which records a process had handed out when it died, and how many times
// each record was in flight at such a death (docs/storage.md, "The in-flight file"). It is what
// lets open() dead-letter a record that crashes the process, instead of crash-looping on it.
//
// The file is a header and then an array of fixed-size slots; a slot is owned by one record at
// a time and rewritten in place (one small pwrite, never synced) when its record is handed
// out, put back or settled:
//
//   header (24 bytes): "ODLB" | boot u64 | zero u64 | crc32c u32
//   slot (24 bytes):   "ODLF" | seq u64 | crashes u32 | state u32 | crc32c u32
//
// Integers little-endian; each CRC covers the 20 bytes before it. boot: a hash of the boot the
// file was written in (FileSystem::boot_id). Unsynced slot writes are exact across a process
// death, but after a power cut any subset of them may survive — a settled record's old
// "handed out" among them — so handed-out slots count a crash only if the header names the
// current boot. state 1 = handed out (a consumer is working on it), 2 = resting (tracked for
// its crash count, nobody working on it). Anything else — zeros (a free slot), a torn or stale
// slot, garbage — is "no information". At open the file is rewritten whole (temporary,
// rename): the header for this boot and only resting slots.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "storage/file_system.h"

namespace storage::internal {

inline constexpr std::string_view kInFlightFileName = "inflight";
inline constexpr std::string_view kInFlightTempFileName = "inflight.tmp";
inline constexpr std::size_t kInFlightSlotBytes = 24;
// Slots beyond this are not used (records past it are simply not tracked), so a damaged or
// hostile file cannot make open() read without bound: 1.5 MiB.
inline constexpr std::uint32_t kMaxInFlightSlots = 1u << 16;

enum class SlotState : std::uint32_t {
  kFree = 0,
  kHandedOut = 1,
  kResting = 2,
};

struct InFlightSlot {
  std::uint64_t seq = 0;
  std::uint32_t crashes = 0;  // deaths of the process while the record was handed out
  SlotState state = SlotState::kFree;
};

// Where slot i starts: after the header.
constexpr std::uint64_t in_flight_slot_offset(std::uint32_t slot) {
  return (std::uint64_t{slot} + 1) * kInFlightSlotBytes;
}

// A stable 64-bit name for a boot id (FNV-1a), the same in every process and build.
std::uint64_t boot_hash(std::string_view boot_id);
// The header for boot (kInFlightSlotBytes bytes); decode_header gives back the boot hash, or
// nullopt unless bytes is a well-formed, checksummed header.
std::string encode_header(std::uint64_t boot);
std::optional<std::uint64_t> decode_header(std::string_view bytes);

// kInFlightSlotBytes bytes; a kFree slot encodes as zeros.
std::string encode_slot(const InFlightSlot& slot);
// nullopt unless bytes is a well-formed, checksummed kHandedOut or kResting slot.
std::optional<InFlightSlot> decode_slot(std::string_view bytes);

// Replaces the in-flight file with boot's header and `slots` (slot i at
// in_flight_slot_offset(i)): write the temporary, (sync it,) rename it over the file, (sync the
// directory). sync: whether to fdatasync — so that a power cut cannot bring back an older file
// whose handed-out slots were already counted.
absl::Status write_in_flight_file(FileSystem& fs, const std::string& dir, std::uint64_t boot,
                                  const std::vector<InFlightSlot>& slots, bool sync);

}  // namespace storage::internal
