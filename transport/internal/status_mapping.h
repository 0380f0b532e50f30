#pragma once
// How canonical status codes and HTTP status codes map onto each other for OTLP/HTTP. The
// tables are the OpenTelemetry Collector's (receiver: internal/errors GetHTTPStatusCodeFromStatus;
// exporter: otlphttpexporter's retryable set), and docs/transport.md repeats them: keep the two
// in agreement.
//
// Contract: pure functions, any thread.

#include <chrono>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace transport::internal {

// Server side: the HTTP status for a handler's answer.
//   OK 200 · CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS 503 ·
//   RESOURCE_EXHAUSTED 429 · INVALID_ARGUMENT 400 · UNAUTHENTICATED 401 · PERMISSION_DENIED 403 ·
//   UNIMPLEMENTED 404 · anything else 500.
int http_status_for_code(absl::StatusCode code);

// Client side: the canonical code for an HTTP status.
//   2xx OK · 429 RESOURCE_EXHAUSTED · 502, 503, 504 UNAVAILABLE (these three and 429 are the
//   retryable ones) · 400, 413 INVALID_ARGUMENT · 401 UNAUTHENTICATED · 403 PERMISSION_DENIED ·
//   404 NOT_FOUND · 405, 415 UNIMPLEMENTED · other 4xx FAILED_PRECONDITION · other 5xx INTERNAL ·
//   anything else UNKNOWN.
absl::StatusCode code_for_http_status(int http_status);

// Retry-After as sent: whole seconds, rounded up, at least 1 for a positive delay.
long long retry_after_seconds(std::chrono::milliseconds delay);

// Retry-After as received: delay-seconds only (what OTLP exporters send and read); nullopt for an
// HTTP-date or garbage.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

}  // namespace transport::internal
