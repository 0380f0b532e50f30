// Per-message-type facts the codecs need on every field, computed once per
// type from the protobuf descriptors: JSON names, which bytes fields are OTLP
// ids (hex in JSON), which type is AnyValue, and a field-number lookup table.
//
// Thread-safety: message_info() may be called from any thread; it takes one
// short lock to find (or build, the first time) the root type's info. The
// returned MessageInfo and everything it points to are immutable and live for
// the whole process, so walking from it needs no lock.
#pragma once

#include <google/protobuf/descriptor.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/internal/wire_format.h"

namespace otlp::internal {

struct MessageInfo;

struct FieldInfo {
  const google::protobuf::FieldDescriptor* descriptor = nullptr;
  std::string json_name;   // lowerCamelCase, what we write
  std::string proto_name;  // snake_case, also accepted on input
  google::protobuf::FieldDescriptor::CppType cpp_type{};
  bool repeated = false;
  // trace_id, span_id, parent_span_id, profile_id: hex in OTLP/JSON.
  bool hex_id = false;
  // For those ids, the only length besides 0 (absent) that is valid: 16 for trace and profile
  // ids, 8 for span ids.
  int id_bytes = 0;
  // Members of a real (not proto3-optional) oneof: only the first member of
  // each oneof is visited by the encoder, which asks once which one is set.
  const google::protobuf::OneofDescriptor* oneof = nullptr;
  bool first_of_oneof = false;
  const MessageInfo* message = nullptr;  // for message-typed fields
  // The wire type protobuf's parser reads this field from; any other is an unknown field to it,
  // except kLen for a repeated scalar (packed).
  WireType wire_type = WireType::kVarint;
  // For fixed-size scalars, the bytes of one value (4 or 8); 0 for varints and kLen fields.
  int fixed_bytes = 0;
  // A proto3 `string`: the parser refuses invalid UTF-8.
  bool utf8 = false;

  // Whether protobuf's parser reads this field from wire type `type`; otherwise the field on the
  // wire is an unknown field to it (kept as such).
  bool parsed_from(WireType type) const {
    if (wire_type == WireType::kStartGroup) return false;  // not in OTLP; framed only
    if (type == wire_type) return true;
    return type == WireType::kLen && repeated && message == nullptr &&
           wire_type != WireType::kLen;  // packed
  }
};

struct MessageInfo {
  const google::protobuf::Descriptor* descriptor = nullptr;
  bool is_any_value = false;  // opentelemetry.proto.common.v1.AnyValue
  // Whether an AnyValue can occur inside this type (or is it): the depth check
  // skips sub-messages that cannot hold one (profiles' stacks, locations...).
  bool reaches_any_value = false;
  // Whether an id field (hex_id) can occur inside this type: the id-length check skips the rest.
  bool reaches_id = false;
  // Bytes one object of this type takes (the generated class's size; an estimate for types
  // without generated code): what a decode allocates per sub-message.
  int64_t object_bytes = 0;
  std::vector<FieldInfo> fields;  // declaration order
  // Field number → index into `fields` (+1; 0 = none) for numbers below this.
  static constexpr uint32_t kDirectNumbers = 32;
  std::array<uint8_t, kDirectNumbers> by_number{};

  // Inline: the codecs and validation ask for every field on the wire.
  const FieldInfo* find_by_number(uint32_t number) const {
    if (number < kDirectNumbers) {
      const uint8_t index = by_number[number];
      return index == 0 ? nullptr : &fields[index - 1];
    }
    return find_by_large_number(number);
  }
  const FieldInfo* find_by_large_number(uint32_t number) const;
  // Accepts the JSON name and the proto field name, as protobuf's JSON does.
  const FieldInfo* find_by_name(std::string_view name) const;
};

const MessageInfo& message_info(const google::protobuf::Descriptor* descriptor);

}  // namespace otlp::internal
