// Rate-limited logging of bad input, so a client that keeps sending garbage cannot flood the
// log: "bad input of kind K from peer P: message".
//
// Contract:
//  - The first report of a kind is written in full. Later reports of that kind within `period`
//    (a minute by default) are counted, not written; the first report after the period writes
//    one summary line with the count suppressed since the last line (and the latest peer and
//    message), and starts a new period. flush() writes the pending summaries of periods that
//    are over, for callers that want the count even when the bad input stopped.
//  - Kinds are short fixed names chosen by the caller ("invalid_utf8", "protobuf"...): each
//    kind keeps a small record for the life of the throttle.
//  - Thread-safe: one short mutex section per report (a lookup and two counters); formatting
//    and writing happen outside it.
//  - The clock and the line sink are injectable, so tests need no sleeping.
//
// It lives in otlp/ because that is the lowest layer that both the codecs (otlp/) and the
// servers (transport/) link; it needs nothing of csp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace otlp {

class LogThrottle {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Sink = std::function<void(const std::string& line)>;

  static constexpr std::chrono::seconds kDefaultPeriod{60};

  // Defaults: steady_clock, lines to stderr (with a UTC timestamp, like the collector's log).
  explicit LogThrottle(Sink sink = {}, Clock clock = {},
                       std::chrono::steady_clock::duration period = kDefaultPeriod);

  void report(std::string_view kind, std::string_view peer, std::string_view message);
  void flush();

  // Reports of `kind` that were counted but not written yet.
  std::int64_t pending(std::string_view kind) const;

  // The process's throttle (stderr, steady_clock).
  static LogThrottle& global();

 private:
  struct Kind {
    std::chrono::steady_clock::time_point last_line{};
    std::int64_t suppressed = 0;
    std::string last_peer;
    std::string last_message;
  };

  Sink sink_;
  Clock clock_;
  std::chrono::steady_clock::duration period_;
  mutable std::mutex mu_;
  std::map<std::string, Kind, std::less<>> kinds_;  // guarded by mu_
};

// Routes libprotobuf's log lines (e.g. "String field ... contains invalid UTF-8 data when
// parsing a protocol buffer") through `throttle`, one kind per source line of libprotobuf.
// Lines of level FATAL are written as they are (libprotobuf aborts after them).
void install_protobuf_log_handler(LogThrottle& throttle = LogThrottle::global());

}  // namespace otlp
