#pragma once
// The small protobuf messages both transports read and write around a payload: the
// Export*ServiceResponse of each signal (partial success), google.rpc.Status and its
// google.rpc.RetryInfo detail.
//
// Contract: pure functions, any thread. Parsing functions take untrusted bytes and never crash;
// they return an error status (INVALID_ARGUMENT) for bytes that are not the message.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/rpc/status.pb.h"
#include "otlp/signal.h"

namespace transport::internal {

// The gRPC method of a signal's Export call, e.g.
// "/opentelemetry.proto.collector.trace.v1.TraceService/Export".
std::string_view export_method(otlp::Signal signal);
std::optional<otlp::Signal> signal_of_method(std::string_view method);

// A new Export*ServiceResponse of the signal, with partial_success set when rejected_items > 0
// or message is not empty (the OTLP spec: the field is left unset on full success).
std::unique_ptr<google::protobuf::Message> make_export_response(otlp::Signal signal,
                                                                std::int64_t rejected_items,
                                                                std::string_view message);

struct PartialSuccess {
  std::int64_t rejected_items = 0;
  std::string message;
};
// Reads the partial success of a decoded Export*ServiceResponse of the signal.
PartialSuccess partial_success_of(otlp::Signal signal, const google::protobuf::Message& response);
// Decodes a response body (binary protobuf or OTLP/JSON) and reads its partial success.
absl::StatusOr<PartialSuccess> parse_partial_success(otlp::Signal signal, std::string_view body,
                                                     bool json);

// google.rpc.Status {code, message[, RetryInfo]} for `status`.
google::rpc::Status make_rpc_status(const absl::Status& status,
                                    std::optional<std::chrono::milliseconds> retry_after);
// The RetryInfo detail of a google.rpc.Status, if it carries one.
std::optional<std::chrono::milliseconds> retry_info_of(const google::rpc::Status& status);

// google.rpc.Status as an HTTP body: binary protobuf, or JSON ({"code":3,"message":"..."}).
std::string encode_rpc_status(const google::rpc::Status& status, bool json);
absl::StatusOr<google::rpc::Status> decode_rpc_status(std::string_view body, bool json);

}  // namespace transport::internal
