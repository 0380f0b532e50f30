#include "storage/internal/inflight.h"

#include <algorithm>

#include "storage/internal/crc32c.h"
#include "storage/internal/frame.h"

namespace storage::internal {
namespace {

constexpr std::string_view kSlotMagic = "ODLF";
constexpr std::size_t kSlotBody = kInFlightSlotBytes - 4;  // what the CRC covers

}  // namespace

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

absl::Status write_in_flight_file(FileSystem& fs, const std::string& dir,
                                  const std::vector<InFlightSlot>& slots, bool sync) {
  const std::string temp = join_path(dir, kInFlightTempFileName);
  std::string bytes;
  bytes.reserve(slots.size() * kInFlightSlotBytes);
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
