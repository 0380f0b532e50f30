#pragma once
// Small helpers for component config parsers.

#include <chrono>
#include <utility>

#include "absl/status/statusor.h"
#include "csp/timer.h"

#define OTLPD_CONCAT_INNER(a, b) a##b
#define OTLPD_CONCAT(a, b) OTLPD_CONCAT_INNER(a, b)

// OTLPD_ASSIGN_OR_RETURN(lhs, expr): evaluates an absl::StatusOr expression; returns its status
// from the enclosing function on error, else assigns the value to lhs.
#define OTLPD_ASSIGN_OR_RETURN(lhs, expr)                             \
  auto OTLPD_CONCAT(otlpd_result_, __LINE__) = (expr);                \
  if (!OTLPD_CONCAT(otlpd_result_, __LINE__).ok()) {                  \
    return std::move(OTLPD_CONCAT(otlpd_result_, __LINE__)).status(); \
  }                                                                   \
  lhs = *std::move(OTLPD_CONCAT(otlpd_result_, __LINE__))

#define OTLPD_RETURN_IF_ERROR(expr)                \
  do {                                             \
    absl::Status otlpd_status_ = (expr);           \
    if (!otlpd_status_.ok()) return otlpd_status_; \
  } while (false)

namespace components {

inline csp::Duration to_duration(std::chrono::nanoseconds ns) {
  return std::chrono::duration_cast<csp::Duration>(ns);
}
inline std::chrono::nanoseconds to_ns(csp::Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d);
}

}  // namespace components
