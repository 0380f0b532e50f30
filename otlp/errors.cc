#include "otlp/errors.h"

#include "absl/strings/cord.h"
#include "otlp/internal/absl_view.h"

namespace otlp {
namespace {

// The payload is keyed by this URL; its value is error_kind_name(kind).
constexpr char kKindPayloadUrl[] = "type.otlpd.dev/otlp.ErrorKind";

constexpr ErrorKind kAllKinds[] = {ErrorKind::kMalformed, ErrorKind::kMessageTooLarge,
                                   ErrorKind::kNestingTooDeep, ErrorKind::kDecompressionBomb,
                                   ErrorKind::kUnsupported};

absl::StatusCode code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMessageTooLarge:
    case ErrorKind::kDecompressionBomb:
      return absl::StatusCode::kResourceExhausted;
    case ErrorKind::kUnsupported:
      return absl::StatusCode::kUnimplemented;
    case ErrorKind::kNone:
    case ErrorKind::kMalformed:
    case ErrorKind::kNestingTooDeep:
      break;
  }
  return absl::StatusCode::kInvalidArgument;
}

}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "none";
    case ErrorKind::kMalformed:
      return "malformed";
    case ErrorKind::kMessageTooLarge:
      return "message_too_large";
    case ErrorKind::kNestingTooDeep:
      return "nesting_too_deep";
    case ErrorKind::kDecompressionBomb:
      return "decompression_bomb";
    case ErrorKind::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

absl::Status make_error(ErrorKind kind, std::string_view message) {
  absl::Status status(code_for(kind), internal::av(message));
  status.SetPayload(kKindPayloadUrl, absl::Cord(internal::av(error_kind_name(kind))));
  return status;
}

ErrorKind error_kind(const absl::Status& status) {
  if (status.ok()) return ErrorKind::kNone;
  absl::optional<absl::Cord> payload = status.GetPayload(kKindPayloadUrl);
  if (!payload.has_value()) return ErrorKind::kNone;
  for (ErrorKind kind : kAllKinds) {
    if (*payload == internal::av(error_kind_name(kind))) return kind;
  }
  return ErrorKind::kNone;
}

}  // namespace otlp
