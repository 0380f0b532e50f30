// The bodies of the otlp fuzz targets, shared by the libFuzzer executables
// (otlp/fuzz/*_fuzz.cc, clang, OTLPD_BUILD_FUZZ=ON) and by the regression
// test that replays every saved input (otlp/fuzz_regression_test.cc).
//
// Input format: the first byte picks the signal (or the codec), the rest is
// the payload. Each harness checks invariants beyond "does not crash" and
// aborts with a message when one breaks, so a violation is a finding too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otlp::fuzz {

// decode_binary; when it succeeds: the wire count agrees with the decoded
// count, and the JSON encoding reads back to the same JSON.
void binary_decode(const uint8_t* data, size_t size);
// decode_json; when it succeeds: JSON and binary re-encodings read back equal.
void json_decode(const uint8_t* data, size_t size);
// decompress with a 1 MiB cap; output never exceeds it; what decompresses
// compresses and decompresses back to the same bytes.
void decompress(const uint8_t* data, size_t size);
// wire_count_items / wire_split / wire_concat agree with each other, and with
// the decoder when the input decodes.
void wire_split(const uint8_t* data, size_t size);

// validate_binary and decode_binary agree (both accept, or both refuse with the same kind);
// the second byte picks the limits.
void binary_validate(const uint8_t* data, size_t size);

struct Target {
  std::string_view name;  // also the folder name under testdata/fuzz_regressions
  void (*run)(const uint8_t*, size_t);
};
inline constexpr Target kTargets[] = {{"binary_decode", binary_decode},
                                      {"json_decode", json_decode},
                                      {"decompress", decompress},
                                      {"wire_split", wire_split},
                                      {"binary_validate", binary_validate}};

// Seed inputs for a target: the shared OTLP/JSON examples converted to its
// input format, plus random requests of every signal.
std::vector<std::string> seeds(std::string_view target);

// For the libFuzzer mains: if OTLP_FUZZ_WRITE_SEEDS names a folder, write
// seeds(target) there as files and exit(0). Otherwise silence protobuf's log.
void initialize(std::string_view target);

}  // namespace otlp::fuzz
