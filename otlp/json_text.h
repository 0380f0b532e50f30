#pragma once
// Writing JSON strings by hand: the collector's JSON log lines, the status page's JSON, the load
// generator's report. (OTLP/JSON itself goes through protobuf's printer, json_codec.h.)

#include <string>
#include <string_view>

namespace otlp {

// Appends `s` as a JSON string literal: quoted, with ", \ and control characters escaped
// (\n, \r, \t by name, the others as \u00XX). Bytes >= 0x80 pass through (UTF-8 stays UTF-8).
void append_json_string(std::string& out, std::string_view s);

inline std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace otlp
