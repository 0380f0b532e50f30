#include "storage/internal/inflight.h"

#include <algorithm>

#include "storage/internal/crc32c.h"
#include "storage/internal/frame.h"

namespace storage::internal {
namespace {

constexpr std::string_view kSlotMagic = "ODLF";
constexpr std::string_view kHeaderMagic = "ODLB";
constexpr std::size_t kSlotBody = kInFlightSlotBytes - 4;  // what the CRC covers

}  // namespace

std::uint64_t boot_hash(std::string_view boot_id) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : boot_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string encode_header(std::uint64_t boot) {
  std::string out(kInFlightSlotBytes, '\0');
  char* p = out.data();
  std::copy(kHeaderMagic.begin(), kHeaderMagic.end(), p);
  put_le64(p + 4, boot);
  put_le32(p + kSlotBody, crc32c(std::string_view(out.data(), kSlotBody)));
  return out;
}

std::optional<std::uint64_t> decode_header(std::string_view bytes) {
  if (bytes.size() != kInFlightSlotBytes || bytes.substr(0, 4) != kHeaderMagic) {
    return std::nullopt;
  }
  if (crc32c(bytes.substr(0, kSlotBody)) != get_le32(bytes.data() + kSlotBody)) {
    return std::nullopt;
  }
  if (get_le64(bytes.data() + 12) != 0) return std::nullopt;
  return get_le64(bytes.data() + 4);
}

std::string encode_slot(const InFlightSlot& slot) {
  std::string out(kInFlightSlotBytes, '\0');
  if (slot.state == SlotState::kFree) return out;
  char* p = out.data();
  std::copy(kSlotMagic.begin(), kSlotMagic.end(), p);
  put_le64(p + 4, slot.seq);
  put_le32(p + 12, slot.crashes);
  put_le32(p + 16, static_cast<std::uint32_t>(slot.state));
  put_le32(p + kSlotBody, crc32c(std::string_view(out.data(), kSlotBody)));
  return out;
}

std::optional<InFlightSlot> decode_slot(std::string_view bytes) {
  if (bytes.size() != kInFlightSlotBytes || bytes.substr(0, 4) != kSlotMagic) return std::nullopt;
  if (crc32c(bytes.substr(0, kSlotBody)) != get_le32(bytes.data() + kSlotBody)) {
    return std::nullopt;
  }
  const std::uint32_t state = get_le32(bytes.data() + 16);
  if (state != static_cast<std::uint32_t>(SlotState::kHandedOut) &&
      state != static_cast<std::uint32_t>(SlotState::kResting)) {
    return std::nullopt;
  }
  InFlightSlot slot;
  slot.seq = get_le64(bytes.data() + 4);
  slot.crashes = get_le32(bytes.data() + 12);
  slot.state = static_cast<SlotState>(state);
  return slot;
}

absl::Status write_in_flight_file(FileSystem& fs, const std::string& dir, std::uint64_t boot,
                                  const std::vector<InFlightSlot>& slots, bool sync) {
  const std::string temp = join_path(dir, kInFlightTempFileName);
  std::string bytes = encode_header(boot);
  bytes.reserve((slots.size() + 1) * kInFlightSlotBytes);
  for (const InFlightSlot& slot : slots) bytes += encode_slot(slot);
  {
    absl::StatusOr<std::unique_ptr<File>> file = fs.open(temp, OpenMode::kReplace);
    if (!file.ok()) return file.status();
    if (absl::Status s = (*file)->append(bytes); !s.ok()) return s;
    if (sync) {
      if (absl::Status s = (*file)->datasync(); !s.ok()) return s;
    }
  }
  if (absl::Status s = fs.rename(temp, join_path(dir, kInFlightFileName)); !s.ok()) return s;
  return sync ? fs.sync_dir(dir) : absl::OkStatus();
}

}  // namespace storage::internal
