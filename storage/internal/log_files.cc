#include "storage/internal/log_files.h"

#include <cstdio>

namespace storage::internal {
namespace {
constexpr std::size_t kSeqDigits = 20;  // enough for any u64
constexpr std::string_view kSegmentSuffix = ".seg";
}  // namespace

std::string segment_file_name(std::uint64_t first_seq) {
  char buf[kSeqDigits + 1];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(first_seq));
  return std::string(buf) + std::string(kSegmentSuffix);
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kSeqDigits + kSegmentSuffix.size() ||
      name.substr(kSeqDigits) != kSegmentSuffix) {
    return std::nullopt;
  }
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < kSeqDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (seq > (UINT64_MAX - digit) / 10) return std::nullopt;  // beyond u64
    seq = seq * 10 + digit;
  }
  if (seq > kMaxSequence) return std::nullopt;
  return seq;
}

absl::Status write_manifest(FileSystem& fs, const std::string& dir, const Manifest& manifest) {
  const std::string temp = join_path(dir, kManifestTempFileName);
  const std::string bytes = encode_manifest(manifest);
  {
    absl::StatusOr<std::unique_ptr<File>> file = fs.open(temp, OpenMode::kReplace);
    if (!file.ok()) return file.status();
    if (absl::Status s = (*file)->append(bytes); !s.ok()) return s;
    if (absl::Status s = (*file)->datasync(); !s.ok()) return s;
  }
  if (absl::Status s = fs.rename(temp, join_path(dir, kManifestFileName)); !s.ok()) return s;
  return fs.sync_dir(dir);
}

}  // namespace storage::internal
