#include "otlp/internal/encoding.h"

#include <array>
#include <charconv>
#include <cmath>

namespace otlp::internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// -1: not in either alphabet. '+' '/' are standard, '-' '_' URL-safe.
constexpr std::array<int8_t, 256> make_base64_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kBase64Std[i])] = static_cast<int8_t>(i);
  table[static_cast<uint8_t>('-')] = 62;
  table[static_cast<uint8_t>('_')] = 63;
  return table;
}
constexpr std::array<int8_t, 256> kBase64Values = make_base64_table();

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t lead = byte(i);
  size_t n = 0;
  uint32_t min = 0;
  uint32_t cp = 0;
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) {
    n = 2, min = 0x80, cp = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    n = 3, min = 0x800, cp = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    n = 4, min = 0x10000, cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

void append_hex(std::string& out, std::string_view bytes) {
  size_t offset = out.size();
  out.resize(offset + 2 * bytes.size());
  char* p = out.data() + offset;
  for (unsigned char c : bytes) {
    *p++ = kHexDigits[c >> 4];
    *p++ = kHexDigits[c & 15];
  }
}

bool decode_hex(std::string_view text, std::string& out) {
  if (text.size() % 2 != 0) return false;
  out.resize(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(text[2 * i]);
    int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return true;
}

void append_base64(std::string& out, std::string_view bytes) {
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint8_t>(bytes[k]); };
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kBase64Std[v >> 18]);
    out.push_back(kBase64Std[(v >> 12) & 63]);
    out.push_back(kBase64Std[(v >> 6) & 63]);
    out.push_back(kBase64Std[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = at(i) << 16;
    out.push_back(kBase64Std[v >> 18]);
    out.push_back(kBase64Std[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kBase64Std[v >> 18]);
    out.push_back(kBase64Std[(v >> 12) & 63]);
    out.push_back(kBase64Std[(v >> 6) & 63]);
    out.push_back('=');
  }
}

bool decode_base64(std::string_view text, std::string& out) {
  // Padding is optional, but when present it must complete the last quantum.
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (padding > 0 && (text.size() + padding) % 4 != 0) return false;
  if (text.size() % 4 == 1) return false;
  bool standard = false;
  bool url_safe = false;
  out.clear();
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int8_t v = kBase64Values[static_cast<uint8_t>(c)];
    if (v < 0) return false;
    standard |= (c == '+' || c == '/');
    url_safe |= (c == '-' || c == '_');
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, as an encoder would have written them.
  if ((acc & ((1u << bits) - 1)) != 0) return false;
  return !(standard && url_safe);
}

namespace {

// 1 for bytes a JSON string cannot hold as they are: controls, quote,
// backslash; 2 for the start of a multi-byte UTF-8 sequence (checked).
constexpr std::array<uint8_t, 256> make_escape_table() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 1;
  table['"'] = 1;
  table['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) table[c] = 2;
  return table;
}
constexpr std::array<uint8_t, 256> kEscapeClass = make_escape_table();

void append_escaped_ascii(std::string& out, uint8_t c) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    default: {
      const char buf[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 15]};
      out.append(buf, 6);
    }
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    // Copy the longest run that needs no escaping in one go.
    size_t run = i;
    while (run < text.size() && kEscapeClass[bytes[run]] == 0) ++run;
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    if (kEscapeClass[bytes[i]] == 1) {
      append_escaped_ascii(out, bytes[i]);
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out.append("\xef\xbf\xbd");  // U+FFFD
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  out.push_back('"');
}

void append_double(std::string& out, double value) {
  // "-0" would read back as the integer 0; keep the sign of negative zero.
  if (value == 0 && std::signbit(value)) {
    out.append("-0.0");
    return;
  }
  char buf[32];
  // Shortest form, except that integral values of 1e18 and beyond are written
  // in scientific notation: as plain integers many JSON parsers (simdjson
  // among them) refuse those above 64 bits.
  auto result = std::abs(value) >= 1e18
                    ? std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific)
                    : std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

void append_uint64(std::string& out, uint64_t value) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

void append_int64(std::string& out, int64_t value) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

}  // namespace otlp::internal
