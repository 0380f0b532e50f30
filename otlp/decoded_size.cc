// estimate_decoded_bytes: one schema-guided walk over the wire bytes that adds up what an Arena
// decode allocates (the cost model is internal/decode_cost.h), without allocating anything itself.
// The result is never below the body's size. Malformed framing stops the walk and the rest of
// the body is charged at its size (a decode fails there; what it allocated before is counted).

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "otlp/internal/decode_cost.h"
#include "otlp/internal/message_index.h"
#include "otlp/internal/wire_format.h"
#include "otlp/wire.h"

namespace otlp {
namespace {

namespace pb = google::protobuf;
using internal::MessageInfo;
using internal::WireReader;
using internal::WireType;
using namespace internal::decode_cost;

// Deeper than any valid message (the decoder refuses deeper AnyValue nesting anyway): below it
// payloads are charged like unknown bytes, which keeps the walk's stack bounded.
constexpr int kMaxDepth = 200;

// Adds the cost of the fields in `bytes` (a message of type `info`, its object not included)
// to `total`.
void walk(std::string_view bytes, const MessageInfo& info, int depth, int64_t& total) {
  WireReader reader(bytes);
  while (!reader.done()) {
    const char* field_start = reader.position();
    uint32_t number = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(number, type)) {
      total += static_cast<int64_t>(bytes.data() + bytes.size() - field_start);
      return;
    }
    const internal::FieldInfo* field = info.find_by_number(number);
    // A known number on a wire type the parser does not read it from is an unknown field.
    if (field != nullptr && !field->parsed_from(type)) field = nullptr;
    if (type != WireType::kLen) {
      if (!reader.skip(number, type)) {
        total += static_cast<int64_t>(bytes.data() + bytes.size() - field_start);
        return;
      }
      // Scalars live inside their object; unknown ones become a record of their own.
      if (field == nullptr) total += unknown_bytes(reader.position() - field_start);
      continue;
    }
    std::string_view payload;
    if (!reader.read_len(payload)) {
      total += static_cast<int64_t>(bytes.data() + bytes.size() - field_start);
      return;
    }
    if (field == nullptr) {
      total += unknown_bytes(reader.position() - field_start);
      continue;
    }
    if (field->repeated) total += kRepeatedSlot;
    if (field->message != nullptr) {
      total += field->message->object_bytes;
      if (depth >= kMaxDepth) {
        total += static_cast<int64_t>(payload.size()) * kPackedBytesPerPayloadByte;
      } else {
        walk(payload, *field->message, depth + 1, total);
      }
    } else if (field->cpp_type == pb::FieldDescriptor::CPPTYPE_STRING) {
      total += string_bytes(payload.size());
    } else {
      total += packed_bytes(payload.size());
    }
  }
}

}  // namespace

int64_t estimate_decoded_bytes(Signal signal, std::string_view body) {
  const pb::Descriptor* descriptor = request_descriptor(signal);
  const auto size = static_cast<int64_t>(body.size());
  if (descriptor == nullptr) return size;
  const MessageInfo& info = internal::message_info(descriptor);
  int64_t total = info.object_bytes;
  walk(body, info, 0, total);
  return std::max(total, size);
}

int64_t estimate_json_decoded_bytes(std::string_view json) {
  // OTLP/JSON's objects are messages and its arrays repeated fields; without a schema walk the
  // costliest object stands for every object. The parse itself (simdjson's padded copy, its
  // tape and string buffer) takes a few times the text.
  constexpr int64_t kObjectBytes = 256;
  constexpr int64_t kParseBytesPerByte = 4;
  int64_t objects = 0;
  int64_t arrays = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++objects;
    } else if (c == ',' || c == '[') {
      ++arrays;  // every element may be a slot of a repeated field
    }
  }
  const auto size = static_cast<int64_t>(json.size());
  return size * kParseBytesPerByte + objects * kObjectBytes + arrays * kRepeatedSlot;
}

}  // namespace otlp
