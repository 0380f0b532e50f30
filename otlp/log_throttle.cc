#include "otlp/log_throttle.h"

#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"
#include "otlp/internal/absl_view.h"
#include "otlp/log_line.h"

namespace otlp {
namespace {

void write_stderr(const std::string& line) { write_log_line("warn", "bad_input", line); }

std::string summary_line(std::string_view kind, std::int64_t count, const std::string& peer,
                         const std::string& message) {
  return absl::StrCat("bad input of kind ", internal::av(kind), ": ", count,
                      " more since the last line (latest from ", peer.empty() ? "-" : peer, ": ",
                      message, ")");
}

}  // namespace

LogThrottle::LogThrottle(Sink sink, Clock clock, std::chrono::steady_clock::duration period)
    : sink_(sink ? std::move(sink) : Sink(write_stderr)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      period_(period) {}

void LogThrottle::report(std::string_view kind, std::string_view peer, std::string_view message) {
  const auto now = clock_();
  std::string line;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) {
      it = kinds_.emplace(std::string(kind), Kind{}).first;
      it->second.last_line = now;
      line = absl::StrCat("bad input of kind ", internal::av(kind), " from ",
                          peer.empty() ? "-" : internal::av(peer), ": ", internal::av(message));
    } else {
      Kind& k = it->second;
      ++k.suppressed;
      if (now - k.last_line < period_) {
        // Counted only; keep the latest for the summary (cheap: short strings, rare path).
        k.last_peer.assign(peer);
        k.last_message.assign(message);
        return;
      }
      line = summary_line(kind, k.suppressed, std::string(peer), std::string(message));
      k.suppressed = 0;
      k.last_line = now;
    }
  }
  sink_(line);
}

void LogThrottle::flush() {
  const auto now = clock_();
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, k] : kinds_) {
      if (k.suppressed == 0 || now - k.last_line < period_) continue;
      lines.push_back(summary_line(name, k.suppressed, k.last_peer, k.last_message));
      k.suppressed = 0;
      k.last_line = now;
    }
  }
  for (const std::string& line : lines) sink_(line);
}

std::int64_t LogThrottle::pending(std::string_view kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? 0 : it->second.suppressed;
}

LogThrottle& LogThrottle::global() {
  static LogThrottle* instance = new LogThrottle();  // never destroyed: used until exit
  return *instance;
}

namespace {
std::atomic<LogThrottle*> protobuf_throttle{nullptr};

void protobuf_log(google::protobuf::LogLevel level, const char* filename, int line,
                  const std::string& message) {
  LogThrottle* throttle = protobuf_throttle.load(std::memory_order_acquire);
  if (level == google::protobuf::LOGLEVEL_FATAL || throttle == nullptr) {
    std::fprintf(stderr, "libprotobuf %s:%d: %s\n", filename, line, message.c_str());
    return;
  }
  // One kind per libprotobuf source line: the same complaint is counted together.
  throttle->report(absl::StrCat("protobuf:", filename, ":", line), "", message);
}
}  // namespace

void install_protobuf_log_handler(LogThrottle& throttle) {
  protobuf_throttle.store(&throttle, std::memory_order_release);
  google::protobuf::SetLogHandler(protobuf_log);
}

}  // namespace otlp
