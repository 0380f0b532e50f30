#pragma once
// gRPC's wire rules around one unary request and its answer, kept apart from the HTTP/2 server
// so they can be tested and fuzzed on bytes alone.
//
// Contract:
//  - GrpcMessageReader takes the DATA bytes of one unary call in any split and enforces, before
//    a body byte is buffered: the compressed flag is 0 or 1 (1 only with a grpc-encoding other
//    than identity) — INTERNAL otherwise; the announced length fits max_message_bytes —
//    RESOURCE_EXHAUSTED otherwise, decided from the 5-byte prefix alone; exactly one message —
//    a second prefix is UNIMPLEMENTED (gRPC's "cardinality violation"). The first error is
//    sticky: later feeds return it again and buffer nothing.
//  - `on_prefix` is called once, when the prefix is complete and accepted, with the length to
//    be buffered; an error it returns becomes the reader's error (this is where a server asks
//    its memory budget).
//  - finish() at END_STREAM returns the message, or UNIMPLEMENTED when there was none, or
//    INTERNAL when the stream ended inside a message.
//  - Text helpers: grpc-message is percent-encoded (bytes outside 0x20..0x7E and '%');
//    -bin headers are base64 without padding. Pure functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace transport::internal {

inline constexpr std::size_t kGrpcPrefixBytes = 5;

struct GrpcMessage {
  bool compressed = false;
  std::string payload;
};

class GrpcMessageReader {
 public:
  // `encoded`: the call's grpc-encoding is something other than identity.
  GrpcMessageReader(std::size_t max_message_bytes, bool encoded)
      : max_message_bytes_(max_message_bytes), encoded_(encoded) {}

  template <class OnPrefix>
  absl::Status feed(std::string_view data, OnPrefix&& on_prefix) {
    while (!data.empty() && error_.ok()) {
      if (state_ == State::kDone) {
        error_ = absl::UnimplementedError("unary call with more than one request message");
        break;
      }
      if (state_ == State::kPrefix) {
        const std::size_t n = std::min(kGrpcPrefixBytes - prefix_len_, data.size());
        prefix_.append(data.substr(0, n));
        prefix_len_ += n;
        data.remove_prefix(n);
        if (prefix_len_ < kGrpcPrefixBytes) break;
        error_ = check_prefix();
        if (error_.ok()) error_ = on_prefix(static_cast<std::int64_t>(length_));
        if (!error_.ok()) break;
        message_.payload.reserve(length_);
        state_ = length_ == 0 ? State::kDone : State::kBody;
        continue;
      }
      const std::size_t n = std::min(length_ - message_.payload.size(), data.size());
      message_.payload.append(data.substr(0, n));
      data.remove_prefix(n);
      if (message_.payload.size() == length_) state_ = State::kDone;
    }
    return error_;
  }

  absl::StatusOr<GrpcMessage> finish();

  // Bytes buffered for the message so far.
  std::size_t buffered() const { return message_.payload.size(); }

 private:
  enum class State { kPrefix, kBody, kDone };
  absl::Status check_prefix();

  const std::size_t max_message_bytes_;
  const bool encoded_;
  State state_ = State::kPrefix;
  std::string prefix_;
  std::size_t prefix_len_ = 0;
  std::size_t length_ = 0;
  GrpcMessage message_;
  absl::Status error_;
};

// The 5-byte prefix and the message, ready to send.
std::string grpc_frame(std::string_view message);

// grpc-message's percent-encoding, and its inverse (lenient: a bad escape stays as it is).
std::string percent_encode_grpc_message(std::string_view text);
std::string percent_decode_grpc_message(std::string_view text);

// Base64 without padding, as gRPC sends -bin metadata.
std::string encode_binary_header(std::string_view bytes);

}  // namespace transport::internal
