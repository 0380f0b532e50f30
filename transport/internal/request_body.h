#pragma once
// From an uncompressed OTLP request body (binary protobuf or OTLP/JSON) to the binary request a
// handler receives, shared by the HTTP server and its WebSocket sessions.
//
// Contract:
//  - Binary bodies are validated on their wire bytes, without a decode; JSON is decoded and
//    re-encoded. Either way, the memory a decode takes is first asked of `reserve` (when set):
//    a refusal is reported as memory_refused, before any work.
//  - Errors are values: INVALID_ARGUMENT for a malformed body, RESOURCE_EXHAUSTED for one over
//    a limit, each naming the request type. An empty body is a valid, empty request.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "otlp/binary_codec.h"
#include "otlp/signal.h"

namespace transport::internal {

struct CheckedBody {
  absl::StatusOr<std::string> binary;
  bool memory_refused = false;
};

// `reserve(bytes)`: false when the memory budget refuses; the caller keeps what it claimed
// until the decode's memory is no longer needed.
CheckedBody check_request_body(otlp::Signal signal, bool json, std::string body,
                               const otlp::DecodeLimits& limits,
                               const std::function<bool(std::int64_t)>& reserve);

}  // namespace transport::internal
