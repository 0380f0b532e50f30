#include "transport/internal/request_body.h"

#include <google/protobuf/arena.h>

#include "absl/strings/str_cat.h"
#include "otlp/json_codec.h"
#include "otlp/wire.h"

namespace transport::internal {

CheckedBody check_request_body(otlp::Signal signal, bool json, std::string body,
                               const otlp::DecodeLimits& limits,
                               const std::function<bool(std::int64_t)>& reserve) {
  CheckedBody checked;
  if (body.empty()) {
    checked.binary = std::move(body);
    return checked;
  }
  if (json) {
    // JSON is decoded (and re-encoded) within a reservation for what the decode takes.
    if (reserve && !reserve(otlp::estimate_json_decoded_bytes(body))) {
      checked.memory_refused = true;
      return checked;
    }
    google::protobuf::Arena arena;
    google::protobuf::Message* message = otlp::new_request(signal, &arena);
    const absl::Status decoded = otlp::decode_json(body, *message, limits);
    if (!decoded.ok()) {
      checked.binary =
          absl::Status(decoded.code(), absl::StrCat("invalid ", message->GetDescriptor()->name(),
                                                    " (JSON): ", decoded.message()));
      return checked;
    }
    checked.binary = otlp::encode_binary(*message);
    return checked;
  }
  // Binary bodies are validated on the wire bytes (no decode), which also tells what a decode
  // would take. The pipeline may decode them later without a reservation of its own, so that
  // much is claimed as an admission check: the budget must have room now.
  std::int64_t decoded_bytes = 0;
  const absl::Status valid = otlp::validate_binary(signal, body, limits, &decoded_bytes);
  if (!valid.ok()) {
    checked.binary = absl::Status(
        valid.code(),
        absl::StrCat("invalid ", otlp::request_descriptor(signal)->name(), ": ", valid.message()));
    return checked;
  }
  if (reserve && !reserve(decoded_bytes)) {
    checked.memory_refused = true;
    return checked;
  }
  checked.binary = std::move(body);
  return checked;
}

}  // namespace transport::internal
