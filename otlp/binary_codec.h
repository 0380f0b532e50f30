// OTLP/protobuf binary codec.
//
// Contract:
//  - decode_binary() parses untrusted bytes into a message (any OTLP type;
//    usually an Export*ServiceRequest). It enforces DecodeLimits before and
//    while parsing, and reports each limit as its own ErrorKind:
//    kMessageTooLarge (checked before any work), kNestingTooDeep (AnyValue
//    nesting, checked on the wire before allocation), kMalformed (everything
//    the protobuf parser rejects, including invalid UTF-8 in strings).
//  - On error the output message is in an unspecified but valid state.
//  - Decoding into a message on a google::protobuf::Arena is the fast path:
//    all sub-messages land on the arena and are freed with it in one go.
//  - Functions are thread-compatible: concurrent calls on different messages
//    are safe.
#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/signal.h"

namespace otlp {

// Defaults are generous for a collector; receivers pass their configured
// values (a zero or negative value is not "unlimited": it rejects all input).
inline constexpr size_t kDefaultMaxMessageBytes = 64u << 20;  // 64 MiB
inline constexpr int kDefaultMaxAnyValueDepth = 64;

struct DecodeLimits {
  // Largest accepted serialized (or JSON) message, in bytes.
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  // Deepest accepted AnyValue nesting: a plain attribute value has depth 1, an
  // array of strings depth 2, and so on.
  int max_any_value_depth = kDefaultMaxAnyValueDepth;
};

absl::Status decode_binary(std::string_view bytes, google::protobuf::Message& out,
                           const DecodeLimits& limits = {});

// Decodes into a new message of type T created on `arena`; the arena owns it.
template <class T>
absl::StatusOr<T*> decode_binary_on_arena(std::string_view bytes, google::protobuf::Arena& arena,
                                          const DecodeLimits& limits = {}) {
  T* message = google::protobuf::Arena::CreateMessage<T>(&arena);
  absl::Status status = decode_binary(bytes, *message, limits);
  if (!status.ok()) return status;
  return message;
}

// What decode_binary(bytes, <the signal's request>, limits) would answer, without decoding: one
// walk over the wire bytes guided by the schema, allocating nothing (but an error's text). It
// accepts exactly the inputs decode_binary accepts, and refuses the others with the same
// ErrorKind; the messages are decode_binary's for size, nesting and id length, and more precise
// ones for framing and UTF-8 ("invalid protobuf for <type>: invalid UTF-8 in <field>").
// When OK and decoded_bytes is given, it is set to what a decode would allocate: for the
// signal's request, estimate_decoded_bytes(signal, bytes) (otlp/wire.h), found in the same walk.
absl::Status validate_binary(Signal signal, std::string_view bytes, const DecodeLimits& limits = {},
                             int64_t* decoded_bytes = nullptr);
// The same for any message type.
absl::Status validate_binary(std::string_view bytes, const google::protobuf::Descriptor& type,
                             const DecodeLimits& limits = {}, int64_t* decoded_bytes = nullptr);

// Serializes `message`; fails (kMessageTooLarge) only above protobuf's 2 GiB.
absl::StatusOr<std::string> encode_binary(const google::protobuf::Message& message);
absl::Status encode_binary_append(const google::protobuf::Message& message, std::string& out);

// The AnyValue nesting check decode_binary runs, on its own: walks the wire
// bytes guided by `type`, without allocating. OK for input it cannot frame
// (the parser reports that); kNestingTooDeep when nesting exceeds max_depth.
absl::Status check_any_value_depth(std::string_view bytes, const google::protobuf::Descriptor& type,
                                   int max_depth);

}  // namespace otlp
