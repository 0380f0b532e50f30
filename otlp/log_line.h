#pragma once
// The collector's log lines, in the encoding service::telemetry::logs asks for. Every part of
// otlpd that logs (the pipeline's host, the bad-input throttle, the listeners, TLS reloads)
// writes through write_log_line, so one setting changes them all:
//
//   console (default): 2026-12-01T04:17:58.123Z<TAB>info<TAB>otlp<TAB>grpc listening on ...
//                      followed by <TAB>{"key":"value",...} when initial fields are set
//   json:              {"level":"info","ts":"2026-12-01T04:17:58.123Z","component":"otlp",
//                       "msg":"grpc listening on ...","key":"value"}
//
// Contract:
//  - set_log_format() is called once at start, before other threads log (later calls are
//    allowed and take effect for lines written after them).
//  - write_log_line() is thread-safe; one write per line, so lines from different threads do
//    not interleave.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlp {

enum class LogEncoding { kConsole, kJson };

struct LogFormat {
  LogEncoding encoding = LogEncoding::kConsole;
  // service::telemetry::logs::initial_fields: added to every line, in this order.
  std::vector<std::pair<std::string, std::string>> initial_fields;
};

void set_log_format(LogFormat format);

// `level`: debug, info, warn or error.
void write_log_line(std::string_view level, std::string_view component, std::string_view message);

// The line write_log_line would write (without the newline), for tests.
std::string format_log_line(std::string_view level, std::string_view component,
                            std::string_view message);

}  // namespace otlp
