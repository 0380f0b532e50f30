#pragma once
// The record frame of segment files and of the dead-letter file (docs/storage.md, "On disk"):
//
//   [length: u32 little-endian][crc: u32 little-endian][payload: `length` bytes]
//   crc = CRC-32C(length bytes ++ payload)
//
// The checksum covers the length, so a zeroed or torn header never passes as an empty record.
// scan_frames() is the one reader of this format; recovery, delivery and the fuzz target all go
// through it, and its rules for bad bytes are the ones docs/storage.md states:
//  - a frame that runs past the end of the data is a torn tail: scanning stops;
//  - a length above the limit cannot be trusted to find the next frame: scanning stops;
//  - a checksum failure whose length still delimits a frame (the next frame checks out, or the
//    data ends exactly there) is one corrupt record: it keeps its place (and so its sequence
//    number) and scanning goes on; otherwise scanning stops.
// Everything after a stop is reported as dropped bytes; nothing is guessed past it.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace storage::internal {

inline constexpr std::size_t kFrameHeaderBytes = 8;

// Appends the frame of payload to *out.
void append_frame(std::string* out, std::string_view payload);
// Writes the header of payload's frame (kFrameHeaderBytes) to out: a frame written as header
// then payload, without copying the payload next to it.
void encode_frame_header(std::string_view payload, char* out);

inline std::uint64_t frame_bytes(std::uint64_t payload_bytes) {
  return kFrameHeaderBytes + payload_bytes;
}

void put_le32(char* p, std::uint32_t v);
std::uint32_t get_le32(const char* p);
void put_le64(char* p, std::uint64_t v);
std::uint64_t get_le64(const char* p);

enum class FrameStatus {
  kOk,
  kTruncated,    // the header or the payload runs past the end of the data
  kBadLength,    // length above the limit
  kBadChecksum,  // delimited, but the checksum does not match
};

struct FrameHeader {
  std::uint32_t length = 0;
  std::uint32_t crc = 0;
};

FrameHeader decode_header(const char* p);
// Checks the frame whose header starts data (data may extend beyond the frame).
FrameStatus check_frame(std::string_view data, std::uint32_t max_payload, FrameHeader* header);
// True if crc matches length and payload.
bool frame_checksum_ok(FrameHeader header, std::string_view payload);

struct FrameInfo {
  std::uint64_t index = 0;   // position of the frame among the counted ones
  std::uint64_t offset = 0;  // of the header
  std::uint32_t length = 0;  // of the payload
  bool intact = false;       // false: a corrupt record (checksum failed, still delimited)
};

struct ScanResult {
  std::uint64_t frames = 0;                    // counted frames, intact or corrupt
  std::uint64_t corrupt_frames = 0;            // of them, checksum failures
  std::uint64_t end_offset = 0;                // end of the last counted frame
  std::uint64_t dropped_bytes = 0;             // bytes after end_offset
  FrameStatus stop_reason = FrameStatus::kOk;  // kOk: scanning reached the end (or max_frames)
  bool hit_max_frames = false;                 // stopped because max_frames were counted
};

// Walks the frames of data by the rules above, calling on_frame (if set) for each counted frame.
// Stops after max_frames frames. With final_is_torn, a corrupt frame that ends exactly at the end
// of data is treated as a torn write (dropped) rather than counted: the last segment's last
// write is the one a power cut interrupts.
ScanResult scan_frames(std::string_view data, std::uint32_t max_payload, std::uint64_t max_frames,
                       bool final_is_torn, const std::function<void(const FrameInfo&)>& on_frame);

}  // namespace storage::internal
