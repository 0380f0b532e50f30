#pragma once
// Inflating a request body within a memory budget, shared by the gRPC and HTTP servers.
//
// Contract: the output never passes `limit`, and memory for it is reserved before it is
// produced — first a guess (16x the compressed size, at least 64 KiB, at most `limit`), and only
// if the output does not fit, the rest of the limit for one more pass. So a request is inflated
// at most twice, and a bomb costs at most `limit` bytes of output per pass. Without a `reserve`
// function there is no budget: one pass with the output capped at `limit`.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/compression.h"

namespace transport::internal {

struct Inflated {
  enum class Outcome {
    kOk,             // `body` holds the output
    kMemoryRefused,  // the budget refused a reservation
    kTooLarge,       // the output would pass the limit
    kCorrupt,        // not valid compressed data; `error` says why
  };
  Outcome outcome = Outcome::kOk;
  std::string body;
  absl::Status error;
};

// `reserve(bytes)`: false when the budget refuses.
Inflated inflate_within_budget(otlp::Compression compression, std::string_view compressed,
                               std::size_t limit, const std::function<bool(std::int64_t)>& reserve);

// The same for another codec: `inflate(compressed, cap)` must stop past `cap` with an
// otlp::ErrorKind::kDecompressionBomb error (and say kMalformed for corrupt input).
using Inflater = std::function<absl::StatusOr<std::string>(std::string_view, std::size_t)>;
Inflated inflate_within_budget(const Inflater& inflate, std::string_view compressed,
                               std::size_t limit, const std::function<bool(std::int64_t)>& reserve);

}  // namespace transport::internal
