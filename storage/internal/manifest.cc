#include "storage/internal/manifest.h"

#include <algorithm>

#include "absl/status/status.h"
#include "storage/internal/crc32c.h"
#include "storage/internal/frame.h"

namespace storage::internal {
namespace {

constexpr std::string_view kMagic = "ODLM";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kFixedBytes = 4 + 4 + 8 + 4;
constexpr std::size_t kPairBytes = 12;

}  // namespace

std::string encode_manifest(const Manifest& manifest) {
  const std::size_t n = std::min(manifest.attempts.size(), kMaxManifestAttempts);
  std::string out(kFixedBytes + n * kPairBytes + 4, '\0');
  char* p = out.data();
  std::copy(kMagic.begin(), kMagic.end(), p);
  put_le32(p + 4, kVersion);
  put_le64(p + 8, manifest.cursor);
  put_le32(p + 16, static_cast<std::uint32_t>(n));
  p += kFixedBytes;
  for (std::size_t i = 0; i < n; ++i, p += kPairBytes) {
    put_le64(p, manifest.attempts[i].first);
    put_le32(p + 8, manifest.attempts[i].second);
  }
  put_le32(p, crc32c(std::string_view(out.data(), out.size() - 4)));
  return out;
}

absl::StatusOr<Manifest> decode_manifest(std::string_view bytes) {
  if (bytes.size() < kFixedBytes + 4) return absl::DataLossError("manifest: too short");
  if (bytes.substr(0, 4) != kMagic) return absl::DataLossError("manifest: bad magic");
  if (get_le32(bytes.data() + 4) != kVersion) {
    return absl::DataLossError("manifest: unknown version");
  }
  const std::uint32_t n = get_le32(bytes.data() + 16);
  if (n > kMaxManifestAttempts || bytes.size() != kFixedBytes + std::size_t{n} * kPairBytes + 4) {
    return absl::DataLossError("manifest: length does not match its entry count");
  }
  const std::size_t body = bytes.size() - 4;
  if (crc32c(bytes.substr(0, body)) != get_le32(bytes.data() + body)) {
    return absl::DataLossError("manifest: checksum mismatch");
  }
  Manifest m;
  m.cursor = get_le64(bytes.data() + 8);
  m.attempts.reserve(n);
  const char* p = bytes.data() + kFixedBytes;
  for (std::uint32_t i = 0; i < n; ++i, p += kPairBytes) {
    m.attempts.emplace_back(get_le64(p), get_le32(p + 8));
  }
  return m;
}

}  // namespace storage::internal
