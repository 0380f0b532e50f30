// Binary decoding = size check, then a schema-guided wire walk that measures
// AnyValue nesting (so a hostile payload is refused before anything is
// allocated for it), then protobuf's own parser with a recursion limit that the
// walk guarantees will not be hit by a valid-depth message.

#include "otlp/binary_codec.h"

#include <google/protobuf/io/coded_stream.h>

#include <array>
#include <climits>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "otlp/errors.h"
#include "otlp/internal/decode_cost.h"
#include "otlp/internal/message_index.h"
#include "otlp/internal/wire_format.h"

namespace otlp {
namespace {

using internal::MessageInfo;
using internal::WireReader;
using internal::WireType;
namespace decode_cost = internal::decode_cost;

// Nesting of OTLP messages outside AnyValues (metrics is the deepest: request,
// resource metrics, scope metrics, metric, histogram, point, exemplar, key-value)
// plus slack; every AnyValue level adds at most 3 messages (AnyValue,
// KeyValueList, KeyValue).
constexpr int kStructuralDepth = 16;
constexpr int kMessagesPerAnyValueLevel = 3;

enum class ProbeResult { kOk, kTooDeep, kUnframed };

// Every AnyValue level below the first takes at least 2 bytes of framing
// (a tag and a length), so `payload` can hold at most size/2 + 1 levels: when
// that keeps us within the limit there is nothing to look for inside. This
// skips almost every attribute of real traffic.
bool fits_any_nesting(std::string_view payload, int any_depth, int max_depth) {
  return static_cast<uint64_t>(any_depth) + payload.size() / 2 + 1 <=
         static_cast<uint64_t>(max_depth);
}

// Walks `bytes` as a message of type `info`. `any_depth` counts the AnyValues
// enclosing it. Recursion depth is bounded: each level either enters a
// non-recursive OTLP type (bounded by the schema) or an AnyValue level, and we
// stop at max_depth AnyValue levels.
ProbeResult probe(std::string_view bytes, const MessageInfo& info, int any_depth, int max_depth,
                  int max_group_depth) {
  if (info.is_any_value && ++any_depth > max_depth) return ProbeResult::kTooDeep;
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t number = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(number, type)) return ProbeResult::kUnframed;
    const internal::FieldInfo* field = info.find_by_number(number);
    if (type != WireType::kLen || field == nullptr || field->message == nullptr) {
      // Groups as deep as the parser follows them, so none hides a deep AnyValue after it.
      if (!reader.skip(number, type, 0, max_group_depth)) return ProbeResult::kUnframed;
      continue;
    }
    std::string_view payload;
    if (!reader.read_len(payload)) return ProbeResult::kUnframed;
    if (!field->message->reaches_any_value || fits_any_nesting(payload, any_depth, max_depth)) {
      continue;
    }
    ProbeResult inner = probe(payload, *field->message, any_depth, max_depth, max_group_depth);
    if (inner != ProbeResult::kOk) return inner;
  }
  return ProbeResult::kOk;
}

// Checks the length of every id (trace, span, parent span and profile ids: 16 or 8 bytes, or
// empty) in `bytes`, a message of type `info` the parser accepted. Only sub-messages that can
// hold an id are entered. On a bad id returns false with `path` (JSON names, as the JSON codec
// writes them, e.g. "scopeSpans[1].spans[3].traceId") and `what`.
bool ids_valid(std::string_view bytes, const MessageInfo& info, std::string& path,
               std::string& what) {
  constexpr std::size_t kCounted = 64;  // OTLP messages have fewer fields
  std::array<uint32_t, kCounted> seen{};
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t number = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(number, type)) return true;  // the parser accepted it: cannot happen
    const internal::FieldInfo* field = info.find_by_number(number);
    const bool wanted =
        field != nullptr && type == WireType::kLen &&
        (field->hex_id || (field->message != nullptr && field->message->reaches_id));
    if (!wanted) {
      if (!reader.skip(number, type)) return true;
      continue;
    }
    std::string_view payload;
    if (!reader.read_len(payload)) return true;
    const auto slot = static_cast<std::size_t>(field - info.fields.data());
    const uint32_t index = slot < kCounted ? seen[slot]++ : 0;
    std::string inner;
    if (field->hex_id) {
      if (payload.empty() || payload.size() == static_cast<std::size_t>(field->id_bytes)) continue;
      what = absl::StrCat("must be ", field->id_bytes, " bytes, got ", payload.size());
    } else if (ids_valid(payload, *field->message, inner, what)) {
      continue;
    }
    path = field->json_name;
    if (field->repeated) absl::StrAppend(&path, "[", index, "]");
    if (!inner.empty()) absl::StrAppend(&path, ".", inner);
    return false;
  }
  return true;
}

int recursion_limit_for(int max_any_value_depth) {
  return kStructuralDepth + kMessagesPerAnyValueLevel * max_any_value_depth;
}

// ---- validate_binary: the parser's verdict without the parse ----------------------------------
//
// The walk reads what protobuf's parser (3.21, generated code) reads, the way it reads it:
//  - tags: at most 5 bytes, bits past the 32nd dropped; field number 0, wire types 6 and 7, and
//    an end-group tag outside a group are errors;
//  - lengths: at most 5 bytes, below 2 GiB; varint values: at most 10 bytes;
//  - a known field on the wire type of its declared type is parsed (sub-messages entered,
//    proto3 strings checked for UTF-8, repeated scalars also packed); on any other wire type it
//    is an unknown field, kept by the parser and only framed here;
//  - unknown groups must close with their own field number;
//  - every sub-message and group counts against the recursion limit decode_binary sets.

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const uint8_t* const end = p + text.size();
  while (p != end) {
    while (end - p >= 8) {  // ASCII, a word at a time
      uint64_t word = 0;
      std::memcpy(&word, p, sizeof(word));
      if ((word & 0x8080808080808080ull) != 0) break;
      p += 8;
    }
    if (p == end) break;
    const uint8_t lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    int continuation = 0;
    uint8_t low = 0x80;  // allowed range of the first continuation byte
    uint8_t high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (end - p <= continuation) return false;
    if (p[1] < low || p[1] > high) return false;
    for (int i = 2; i <= continuation; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += continuation + 1;
  }
  return true;
}

class Validator {
 public:
  Validator(int max_any_depth, int recursion_limit)
      : max_any_depth_(max_any_depth), recursion_limit_(recursion_limit) {}

  // Whether `bytes`, a message of type `info` at `level` sub-messages below the root, parses.
  // `any_depth` counts the AnyValues enclosing it, itself included.
  bool message(std::string_view bytes, const MessageInfo& info, int level, int any_depth) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    const uint8_t* const end = p + bytes.size();
    while (p != end) {
      const uint8_t* const field_start = p;
      uint32_t number = 0;
      WireType type = WireType::kVarint;
      if (!read_tag(p, end, number, type)) return fail("invalid tag", nullptr);
      const internal::FieldInfo* field = info.find_by_number(number);
      if (field == nullptr || !field->parsed_from(type)) {
        if (!skip_unknown(p, end, number, type, level)) return false;
        decoded_bytes_ += decode_cost::unknown_bytes(p - field_start);
        continue;
      }
      if (type != WireType::kLen) {  // a scalar on its own wire type, inside its object
        if (!skip_scalar(p, end, type)) return fail("truncated value", field);
        continue;
      }
      std::string_view payload;
      if (!read_payload(p, end, payload)) return fail("invalid length", field);
      if (field->repeated) decoded_bytes_ += decode_cost::kRepeatedSlot;
      if (field->message != nullptr) {
        decoded_bytes_ += field->message->object_bytes;
        // The nesting limit first: decode_binary checks it before parsing.
        const int inner_any_depth = any_depth + (field->message->is_any_value ? 1 : 0);
        if (inner_any_depth > max_any_depth_) {
          too_deep_ = true;
          return fail("AnyValue nesting too deep", field);
        }
        if (level + 1 > recursion_limit_) return fail("nesting past the recursion limit", field);
        if (!message(payload, *field->message, level + 1, inner_any_depth)) return false;
      } else if (field->wire_type != WireType::kLen) {
        decoded_bytes_ += decode_cost::packed_bytes(payload.size());
        if (!packed(payload, field->fixed_bytes)) return fail("invalid packed values", field);
      } else {
        decoded_bytes_ += decode_cost::string_bytes(payload.size());
        if (field->utf8 && !valid_utf8(payload)) return fail("invalid UTF-8", field);
        if (field->hex_id && !payload.empty() &&
            payload.size() != static_cast<std::size_t>(field->id_bytes)) {
          bad_id_ = true;  // reported after the walk, as decode_binary does after parsing
        }
      }
    }
    return true;
  }

  // What a decode of the bytes walked allocates, sub-message objects included but not the
  // root's (internal/decode_cost.h; the same as estimate_decoded_bytes for what validates).
  int64_t decoded_bytes() const { return decoded_bytes_; }
  bool too_deep() const { return too_deep_; }
  bool bad_id() const { return bad_id_; }
  const char* what() const { return what_; }
  const internal::FieldInfo* field() const { return field_; }

 private:
  bool fail(const char* what, const internal::FieldInfo* field) {
    what_ = what;
    field_ = field;
    return false;
  }

  static bool read_tag(const uint8_t*& p, const uint8_t* end, uint32_t& number, WireType& type) {
    uint32_t tag = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p == end) return false;
      const uint8_t byte = *p++;
      tag += static_cast<uint32_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) break;
    }
    number = tag >> 3;
    const auto raw = static_cast<uint8_t>(tag & 7);
    if (number == 0 || raw > 5) return false;
    type = static_cast<WireType>(raw);
    return true;
  }

  static bool read_varint(const uint8_t*& p, const uint8_t* end) {
    for (int i = 0; i < 10; ++i) {
      if (p == end) return false;
      if ((*p++ & 0x80) == 0) return true;
    }
    return false;
  }

  // A length as the parser reads it: at most 5 bytes, the last below 8, under 2 GiB less the
  // parser's slop; then the payload, which must fit.
  static bool read_payload(const uint8_t*& p, const uint8_t* end, std::string_view& payload) {
    uint64_t size = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p == end) return false;
      const uint8_t byte = *p++;
      if (i == 4 && byte >= 8) return false;
      size |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) break;
    }
    if (size > static_cast<uint64_t>(INT_MAX - kParserSlopBytes)) return false;
    if (size > static_cast<uint64_t>(end - p)) return false;
    payload = std::string_view(reinterpret_cast<const char*>(p), size);
    p += size;
    return true;
  }

  static bool skip_scalar(const uint8_t*& p, const uint8_t* end, WireType type) {
    if (type == WireType::kVarint) return read_varint(p, end);
    const std::ptrdiff_t width = type == WireType::kFixed64 ? 8 : 4;
    if (end - p < width) return false;
    p += width;
    return true;
  }

  static bool packed(std::string_view payload, int fixed_bytes) {
    if (fixed_bytes != 0) return payload.size() % static_cast<std::size_t>(fixed_bytes) == 0;
    const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
    const uint8_t* const end = p + payload.size();
    while (p != end) {
      if (!read_varint(p, end)) return false;
    }
    return true;
  }

  bool skip_unknown(const uint8_t*& p, const uint8_t* end, uint32_t number, WireType type,
                    int level) {
    switch (type) {
      case WireType::kVarint:
      case WireType::kFixed64:
      case WireType::kFixed32:
        return skip_scalar(p, end, type) || fail("truncated unknown field", nullptr);
      case WireType::kLen: {
        std::string_view ignored;
        return read_payload(p, end, ignored) || fail("invalid length of unknown field", nullptr);
      }
      case WireType::kStartGroup:
        if (level + 1 > recursion_limit_) return fail("nesting past the recursion limit", nullptr);
        while (true) {
          uint32_t inner = 0;
          WireType inner_type = WireType::kVarint;
          if (!read_tag(p, end, inner, inner_type)) return fail("unterminated group", nullptr);
          if (inner_type == WireType::kEndGroup) {
            return inner == number || fail("mismatched end of group", nullptr);
          }
          if (!skip_unknown(p, end, inner, inner_type, level + 1)) return false;
        }
      case WireType::kEndGroup:
        return fail("end of group without a start", nullptr);
    }
    return fail("invalid wire type", nullptr);
  }

  // Protobuf refuses lengths this close to INT_MAX (its parser reads up to 16 bytes ahead).
  static constexpr int kParserSlopBytes = 16;

  const int max_any_depth_;
  const int recursion_limit_;
  bool too_deep_ = false;
  bool bad_id_ = false;
  int64_t decoded_bytes_ = 0;
  const char* what_ = "";
  const internal::FieldInfo* field_ = nullptr;
};

}  // namespace

absl::Status check_any_value_depth(std::string_view bytes, const google::protobuf::Descriptor& type,
                                   int max_depth) {
  if (probe(bytes, internal::message_info(&type), 0, max_depth, recursion_limit_for(max_depth)) ==
      ProbeResult::kTooDeep) {
    return make_error(ErrorKind::kNestingTooDeep,
                      absl::StrCat("AnyValue nesting deeper than the limit of ", max_depth));
  }
  return absl::OkStatus();
}

namespace {

// The checks decode_binary makes before it looks at the bytes.
absl::Status check_limits(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return make_error(ErrorKind::kMessageTooLarge,
                      absl::StrCat("message of ", bytes.size(), " bytes exceeds the limit of ",
                                   limits.max_message_bytes, " bytes"));
  }
  if (bytes.size() > INT_MAX) {
    return make_error(ErrorKind::kMessageTooLarge, "message exceeds protobuf's 2 GiB limit");
  }
  if (limits.max_any_value_depth < 0) {
    return make_error(ErrorKind::kNestingTooDeep, "max_any_value_depth is negative");
  }
  return absl::OkStatus();
}

absl::Status id_error(std::string_view bytes, const MessageInfo& info) {
  std::string path, what;
  if (info.reaches_id && !ids_valid(bytes, info, path, what)) {
    return make_error(ErrorKind::kMalformed, absl::StrCat(path, ": ", what));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validate_binary(std::string_view bytes, const google::protobuf::Descriptor& type,
                             const DecodeLimits& limits, int64_t* decoded_bytes) {
  if (absl::Status status = check_limits(bytes, limits); !status.ok()) return status;
  const MessageInfo& info = internal::message_info(&type);
  Validator validator(limits.max_any_value_depth, recursion_limit_for(limits.max_any_value_depth));
  if (info.is_any_value && limits.max_any_value_depth < 1) {
    return make_error(
        ErrorKind::kNestingTooDeep,
        absl::StrCat("AnyValue nesting deeper than the limit of ", limits.max_any_value_depth));
  }
  if (!validator.message(bytes, info, 0, info.is_any_value ? 1 : 0)) {
    if (validator.too_deep()) {
      return make_error(
          ErrorKind::kNestingTooDeep,
          absl::StrCat("AnyValue nesting deeper than the limit of ", limits.max_any_value_depth));
    }
    // decode_binary measures nesting before it parses, so a too-deep AnyValue after (or beside)
    // the error found here is what it reports. Only failing input pays for this second walk.
    if (info.reaches_any_value) {
      absl::Status depth = check_any_value_depth(bytes, type, limits.max_any_value_depth);
      if (!depth.ok()) return depth;
    }
    std::string message =
        absl::StrCat("invalid protobuf for ", type.full_name(), ": ", validator.what());
    if (validator.field() != nullptr) {
      absl::StrAppend(&message, " in ", validator.field()->descriptor->full_name());
    }
    return make_error(ErrorKind::kMalformed, message);
  }
  if (validator.bad_id()) return id_error(bytes, info);
  if (decoded_bytes != nullptr) {
    *decoded_bytes = std::max<int64_t>(info.object_bytes + validator.decoded_bytes(),
                                       static_cast<int64_t>(bytes.size()));
  }
  return absl::OkStatus();
}

absl::Status validate_binary(Signal signal, std::string_view bytes, const DecodeLimits& limits,
                             int64_t* decoded_bytes) {
  return validate_binary(bytes, *request_descriptor(signal), limits, decoded_bytes);
}

absl::Status decode_binary(std::string_view bytes, google::protobuf::Message& out,
                           const DecodeLimits& limits) {
  if (absl::Status status = check_limits(bytes, limits); !status.ok()) return status;
  absl::Status depth =
      check_any_value_depth(bytes, *out.GetDescriptor(), limits.max_any_value_depth);
  if (!depth.ok()) return depth;

  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  input.SetRecursionLimit(recursion_limit_for(limits.max_any_value_depth));
  out.Clear();
  if (!out.MergePartialFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
    return make_error(ErrorKind::kMalformed,
                      absl::StrCat("invalid protobuf for ", out.GetDescriptor()->full_name()));
  }
  return id_error(bytes, internal::message_info(out.GetDescriptor()));
}

absl::Status encode_binary_append(const google::protobuf::Message& message, std::string& out) {
  size_t size = message.ByteSizeLong();
  if (size > INT_MAX) {
    return make_error(ErrorKind::kMessageTooLarge,
                      absl::StrCat("message of ", size, " bytes exceeds protobuf's 2 GiB limit"));
  }
  size_t offset = out.size();
  out.resize(offset + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + offset));
  return absl::OkStatus();
}

absl::StatusOr<std::string> encode_binary(const google::protobuf::Message& message) {
  std::string out;
  absl::Status status = encode_binary_append(message, out);
  if (!status.ok()) return status;
  return out;
}

}  // namespace otlp
