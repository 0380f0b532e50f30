// Reading the protobuf wire format without a schema: varints, tags, and
// skipping fields. Internal to otlp/ (binary_codec.cc, wire.cc).
//
// Invariants: a WireReader never reads outside [pos_, end_); every method
// returns false instead of reading past the end or accepting an encoding the
// protobuf parser rejects (over-long varints, field number 0, bad wire types).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace otlp::internal {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// The deepest group nesting we follow when skipping unknown groups; the
// protobuf parser's default recursion limit, so we reject no more than it does.
inline constexpr int kMaxGroupDepth = 100;
inline constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;

class WireReader {
 public:
  explicit WireReader(std::string_view bytes)
      : pos_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(pos_ + bytes.size()) {}

  bool done() const { return pos_ == end_; }
  const char* position() const { return reinterpret_cast<const char*>(pos_); }

  bool read_varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == end_) return false;
      uint8_t byte = *pos_++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;  // more than 10 bytes
  }

  // Tags are read as protobuf's parser reads them: at most 5 bytes, and bits
  // past the 32nd are dropped (not rejected), so we accept the same tags.
  bool read_tag(uint32_t& field, WireType& type) {
    uint32_t tag = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || pos_ == end_) return false;
      uint8_t byte = *pos_++;
      tag += static_cast<uint32_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) break;
    }
    field = tag >> 3;
    uint8_t raw_type = static_cast<uint8_t>(tag & 7);
    if (field == 0 || raw_type > 5) return false;
    type = static_cast<WireType>(raw_type);
    return true;
  }

  // The payload of a length-delimited field whose tag was just read.
  bool read_len(std::string_view& payload) {
    uint64_t size = 0;
    if (!read_varint(size)) return false;
    if (size > static_cast<uint64_t>(end_ - pos_) || size > INT32_MAX) return false;
    payload = std::string_view(reinterpret_cast<const char*>(pos_), size);
    pos_ += size;
    return true;
  }

  // Skips the value of a field whose tag (field, type) was just read; groups nest at most
  // `max_group_depth` deep (callers that mirror a parser with a higher recursion limit raise it).
  bool skip(uint32_t field, WireType type, int depth = 0, int max_group_depth = kMaxGroupDepth) {
    switch (type) {
      case WireType::kVarint: {
        uint64_t ignored = 0;
        return read_varint(ignored);
      }
      case WireType::kFixed64:
        return advance(8);
      case WireType::kFixed32:
        return advance(4);
      case WireType::kLen: {
        std::string_view ignored;
        return read_len(ignored);
      }
      case WireType::kStartGroup:
        return skip_group(field, depth + 1, max_group_depth);
      case WireType::kEndGroup:
        return false;  // an end without a start
    }
    return false;
  }

 private:
  bool advance(size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n) return false;
    pos_ += n;
    return true;
  }

  bool skip_group(uint32_t group_field, int depth, int max_group_depth) {
    if (depth > max_group_depth) return false;
    while (true) {
      uint32_t field = 0;
      WireType type = WireType::kVarint;
      if (!read_tag(field, type)) return false;
      if (type == WireType::kEndGroup) return field == group_field;
      if (!skip(field, type, depth, max_group_depth)) return false;
    }
  }

  const uint8_t* pos_;
  const uint8_t* end_;
};

// Appends the encoding of a varint / a length-delimited field.
inline void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

inline void append_len_field(std::string& out, uint32_t field, std::string_view payload) {
  append_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(WireType::kLen));
  append_varint(out, payload.size());
  out.append(payload);
}

}  // namespace otlp::internal
