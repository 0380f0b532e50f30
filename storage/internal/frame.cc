#include "storage/internal/frame.h"

#include "storage/internal/crc32c.h"

namespace storage::internal {

void put_le32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_le32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

void put_le64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

void encode_frame_header(std::string_view payload, char* out) {
  put_le32(out, static_cast<std::uint32_t>(payload.size()));
  put_le32(out + 4, crc32c_extend(crc32c(std::string_view(out, 4)), payload));
}

void append_frame(std::string* out, std::string_view payload) {
  char header[kFrameHeaderBytes];
  encode_frame_header(payload, header);
  out->append(header, kFrameHeaderBytes);
  out->append(payload);
}

FrameHeader decode_header(const char* p) { return FrameHeader{get_le32(p), get_le32(p + 4)}; }

bool frame_checksum_ok(FrameHeader header, std::string_view payload) {
  char length[4];
  put_le32(length, header.length);
  return crc32c_extend(crc32c(std::string_view(length, 4)), payload) == header.crc;
}

FrameStatus check_frame(std::string_view data, std::uint32_t max_payload, FrameHeader* header) {
  if (data.size() < kFrameHeaderBytes) return FrameStatus::kTruncated;
  *header = decode_header(data.data());
  if (header->length > max_payload) return FrameStatus::kBadLength;
  if (data.size() - kFrameHeaderBytes < header->length) return FrameStatus::kTruncated;
  const std::string_view payload = data.substr(kFrameHeaderBytes, header->length);
  return frame_checksum_ok(*header, payload) ? FrameStatus::kOk : FrameStatus::kBadChecksum;
}

ScanResult scan_frames(std::string_view data, std::uint32_t max_payload, std::uint64_t max_frames,
                       bool final_is_torn, const std::function<void(const FrameInfo&)>& on_frame) {
  ScanResult r;
  std::uint64_t offset = 0;
  while (offset < data.size()) {
    if (r.frames >= max_frames) {
      r.hit_max_frames = true;
      break;
    }
    FrameHeader header;
    const FrameStatus status = check_frame(data.substr(offset), max_payload, &header);
    if (status == FrameStatus::kTruncated || status == FrameStatus::kBadLength) {
      r.stop_reason = status;
      break;
    }
    const std::uint64_t next = offset + frame_bytes(header.length);
    bool intact = status == FrameStatus::kOk;
    if (!intact) {
      // Is the length still trustworthy? Only if it leads to the end or to a good frame.
      FrameHeader following;
      const bool delimited = next == data.size() || check_frame(data.substr(next), max_payload,
                                                                &following) == FrameStatus::kOk;
      if (!delimited || (final_is_torn && next == data.size())) {
        r.stop_reason = status;
        break;
      }
      ++r.corrupt_frames;
    }
    if (on_frame) on_frame(FrameInfo{r.frames, offset, header.length, intact});
    ++r.frames;
    offset = next;
  }
  r.end_offset = offset;
  r.dropped_bytes = data.size() - offset;
  return r;
}

}  // namespace storage::internal
