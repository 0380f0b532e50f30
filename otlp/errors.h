// Error values of the otlp layer.
//
// Contract: every function of this layer that reads untrusted bytes returns an
// absl::Status (or StatusOr) and never throws, asserts or crashes on bad input.
// Each failure carries an ErrorKind so that callers (receivers) can answer
// precisely — a too-large message is not a malformed one — without parsing
// message text. The text itself names what was wrong and, for JSON, where.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace otlp {

enum class ErrorKind {
  kNone,               // OK status, or a status this layer did not make
  kMalformed,          // bytes or JSON that are not a valid OTLP message
  kMessageTooLarge,    // input above DecodeLimits::max_message_bytes
  kNestingTooDeep,     // AnyValue (or JSON) nesting above the configured depth
  kDecompressionBomb,  // decompressed output would exceed the cap
  kUnsupported,        // unknown compression or signal name
};

// Canonical codes: kMalformed and kNestingTooDeep → InvalidArgument;
// kMessageTooLarge and kDecompressionBomb → ResourceExhausted;
// kUnsupported → Unimplemented.
absl::Status make_error(ErrorKind kind, std::string_view message);

// The kind attached by make_error; kNone for OK and for foreign statuses.
ErrorKind error_kind(const absl::Status& status);

std::string_view error_kind_name(ErrorKind kind);

}  // namespace otlp
