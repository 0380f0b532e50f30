// Binary decoding = size check, then a schema-guided wire walk that measures
// AnyValue nesting (so a hostile payload is refused before anything is
// allocated for it), then protobuf's own parser with a recursion limit that the
// walk guarantees will not be hit by a valid-depth message.

#include "otlp/binary_codec.h"

#include <google/protobuf/io/coded_stream.h>

#include <array>
#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "otlp/errors.h"
#include "otlp/internal/message_index.h"
#include "otlp/internal/wire_format.h"

namespace otlp {
namespace {

using internal::MessageInfo;
using internal::WireReader;
using internal::WireType;

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
ProbeResult probe(std::string_view bytes, const MessageInfo& info, int any_depth, int max_depth) {
  if (info.is_any_value && ++any_depth > max_depth) return ProbeResult::kTooDeep;
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t number = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(number, type)) return ProbeResult::kUnframed;
    const internal::FieldInfo* field = info.find_by_number(number);
    if (type != WireType::kLen || field == nullptr || field->message == nullptr) {
      if (!reader.skip(number, type)) return ProbeResult::kUnframed;
      continue;
    }
    std::string_view payload;
    if (!reader.read_len(payload)) return ProbeResult::kUnframed;
    if (!field->message->reaches_any_value || fits_any_nesting(payload, any_depth, max_depth)) {
      continue;
    }
    ProbeResult inner = probe(payload, *field->message, any_depth, max_depth);
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

}  // namespace

absl::Status check_any_value_depth(std::string_view bytes, const google::protobuf::Descriptor& type,
                                   int max_depth) {
  if (probe(bytes, internal::message_info(&type), 0, max_depth) == ProbeResult::kTooDeep) {
    return make_error(ErrorKind::kNestingTooDeep,
                      absl::StrCat("AnyValue nesting deeper than the limit of ", max_depth));
  }
  return absl::OkStatus();
}

absl::Status decode_binary(std::string_view bytes, google::protobuf::Message& out,
                           const DecodeLimits& limits) {
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
  const MessageInfo& info = internal::message_info(out.GetDescriptor());
  std::string path, what;
  if (info.reaches_id && !ids_valid(bytes, info, path, what)) {
    return make_error(ErrorKind::kMalformed, absl::StrCat(path, ": ", what));
  }
  return absl::OkStatus();
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
