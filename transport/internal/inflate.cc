#include "transport/internal/inflate.h"

#include <algorithm>

#include "otlp/errors.h"

namespace transport::internal {
namespace {

constexpr std::size_t kGuessRatio = 16;
constexpr std::size_t kGuessMin = 64 * 1024;

}  // namespace

Inflated inflate_within_budget(otlp::Compression compression, std::string_view compressed,
                               std::size_t limit,
                               const std::function<bool(std::int64_t)>& reserve) {
  return inflate_within_budget(
      [compression](std::string_view input, std::size_t cap) {
        return otlp::decompress(compression, input, cap);
      },
      compressed, limit, reserve);
}

Inflated inflate_within_budget(const Inflater& inflate, std::string_view compressed,
                               std::size_t limit,
                               const std::function<bool(std::int64_t)>& reserve) {
  Inflated result;
  std::size_t cap = limit;
  if (reserve) {
    cap = std::min(limit, std::max(kGuessMin, compressed.size() * kGuessRatio));
    if (!reserve(static_cast<std::int64_t>(cap))) {
      result.outcome = Inflated::Outcome::kMemoryRefused;
      return result;
    }
  }
  absl::StatusOr<std::string> inflated = inflate(compressed, cap);
  if (!inflated.ok() &&
      otlp::error_kind(inflated.status()) == otlp::ErrorKind::kDecompressionBomb && cap < limit) {
    if (!reserve(static_cast<std::int64_t>(limit - cap))) {
      result.outcome = Inflated::Outcome::kMemoryRefused;
      return result;
    }
    inflated = inflate(compressed, limit);
  }
  if (inflated.ok()) {
    result.body = *std::move(inflated);
    return result;
  }
  const otlp::ErrorKind kind = otlp::error_kind(inflated.status());
  result.outcome =
      kind == otlp::ErrorKind::kDecompressionBomb || kind == otlp::ErrorKind::kMessageTooLarge
          ? Inflated::Outcome::kTooLarge
          : Inflated::Outcome::kCorrupt;
  result.error = inflated.status();
  return result;
}

}  // namespace transport::internal
