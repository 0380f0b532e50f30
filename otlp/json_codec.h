// OTLP/JSON codec, exactly per the OTLP specification's JSON Protobuf Encoding
// (the proto3 JSON mapping plus OTLP's own rules).
//
// Output (encode_json):
//  - keys are lowerCamelCase; fields at their default value are omitted, except
//    oneof members (an AnyValue's `"intValue": "0"`) and proto3 `optional`
//    fields that are present (`sum`, `min`, `max`); a present but empty
//    message is written as `{}` (the empty AnyValue);
//  - traceId, spanId, parentSpanId (and profileId) as lower-case hex, other
//    bytes as padded standard base64;
//  - enums as integers; 64-bit integers as decimal strings; doubles as the
//    shortest text that reads back exactly, or "NaN", "Infinity", "-Infinity".
// Input (decode_json) accepts all of the above plus: ids in any case; enum
// names; 64-bit integers as numbers and 32-bit ones as strings; numeric
// strings for doubles; base64 standard or URL-safe, padded or not; proto
// (snake_case) field names; null as "absent". Unknown keys are ignored.
//
// Errors: kMalformed with the JSON path of the offending value, e.g.
// `resourceSpans[0].scopeSpans[1].spans[3].traceId: invalid hex id`;
// kMessageTooLarge above DecodeLimits::max_message_bytes; kNestingTooDeep
// above DecodeLimits::max_any_value_depth AnyValue levels.
//
// Thread-safety: thread-compatible; each thread reuses its own parser buffers.
// The descriptor-driven codec works for any OTLP message type, and agrees with
// the schema through otlp/internal/message_index.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/binary_codec.h"

namespace otlp {

struct JsonEncodeOptions {
  bool pretty = false;  // two-space indentation, one field per line
};

absl::Status decode_json(std::string_view json, google::protobuf::Message& out,
                         const DecodeLimits& limits = {});

absl::StatusOr<std::string> encode_json(const google::protobuf::Message& message,
                                        const JsonEncodeOptions& options = {});
void encode_json_append(const google::protobuf::Message& message, std::string& out,
                        const JsonEncodeOptions& options = {});

}  // namespace otlp
