// Compression codecs of OTLP transports: gzip, deflate and zstd.
//
// Contract:
//  - decompress() never produces more than `max_output` bytes: it inflates in
//    bounded steps and stops with kDecompressionBomb as soon as the output
//    would pass the cap (and up front when a zstd frame declares a larger
//    size), so a tiny hostile payload cannot make us allocate gigabytes.
//    Uncompressed (kNone) input longer than the cap is kMessageTooLarge.
//  - Corrupt or truncated input, and trailing bytes after the compressed
//    stream, are kMalformed. parse_compression() returns nullopt for a name it
//    does not know; a caller that must fail then uses ErrorKind::kUnsupported.
//  - gzip accepts concatenated members (RFC 1952); "deflate" accepts the zlib
//    format of HTTP (RFC 1950) and, as many clients send it, raw RFC 1951.
//  - Functions are stateless and safe to call from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otlp {

enum class Compression { kNone, kGzip, kDeflate, kZstd };

// Matches HTTP Content-Encoding / grpc-encoding names, case-insensitively:
// "", "identity", "gzip", "x-gzip", "deflate", "zstd".
std::optional<Compression> parse_compression(std::string_view name);
std::string_view compression_name(Compression compression);

inline constexpr size_t kDefaultMaxDecompressedBytes = 64u << 20;  // 64 MiB

absl::StatusOr<std::string> decompress(Compression compression, std::string_view input,
                                       size_t max_output = kDefaultMaxDecompressedBytes);

// level: codec-specific; 0 picks the codec's default.
absl::StatusOr<std::string> compress(Compression compression, std::string_view input,
                                     int level = 0);

}  // namespace otlp
