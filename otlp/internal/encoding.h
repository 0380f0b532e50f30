// Text encodings of OTLP/JSON: hex ids, base64 bytes, JSON strings and
// numbers. Internal to otlp/ (json_codec.cc). Decoders return false on any
// invalid input and never read outside it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otlp::internal {

void append_hex(std::string& out, std::string_view bytes);  // lower case
// Any case; an odd length or a non-hex digit fails.
bool decode_hex(std::string_view text, std::string& out);

void append_base64(std::string& out, std::string_view bytes);  // standard, padded
// Standard or URL-safe alphabet, padded or not (not both alphabets mixed).
bool decode_base64(std::string_view text, std::string& out);

// Appends `text` as a JSON string literal, with quotes. Invalid UTF-8 sequences
// are replaced by U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

// Shortest text that reads back as the same double; finite values only.
void append_double(std::string& out, double value);
void append_uint64(std::string& out, uint64_t value);
void append_int64(std::string& out, int64_t value);

}  // namespace otlp::internal
