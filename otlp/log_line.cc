#include "otlp/log_line.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "otlp/internal/absl_view.h"
#include "otlp/json_text.h"

namespace otlp {
namespace {

// Formats are never freed (a line being written may still read the previous one); they stay
// listed, so that leak checkers see them reachable.
std::atomic<const LogFormat*> g_format{nullptr};
std::mutex g_formats_mu;
std::vector<std::unique_ptr<LogFormat>>* g_formats = nullptr;  // guarded by g_formats_mu

const LogFormat& current_format() {
  static const LogFormat kDefault;
  const LogFormat* f = g_format.load(std::memory_order_acquire);
  return f != nullptr ? *f : kDefault;
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) %
                  std::chrono::seconds(1);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[40];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms.count()));
  return stamp;
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  if (out.size() > 1) out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

}  // namespace

void set_log_format(LogFormat format) {
  std::lock_guard lock(g_formats_mu);
  if (g_formats == nullptr) g_formats = new std::vector<std::unique_ptr<LogFormat>>;  // NOLINT
  g_formats->push_back(std::make_unique<LogFormat>(std::move(format)));
  g_format.store(g_formats->back().get(), std::memory_order_release);
}

std::string format_log_line(std::string_view level, std::string_view component,
                            std::string_view message) {
  const LogFormat& f = current_format();
  std::string line;
  if (f.encoding == LogEncoding::kJson) {
    line.push_back('{');
    append_field(line, "level", level);
    append_field(line, "ts", timestamp());
    append_field(line, "component", component);
    append_field(line, "msg", message);
    for (const auto& [key, value] : f.initial_fields) append_field(line, key, value);
    line += '}';
    return line;
  }
  line = absl::StrCat(timestamp(), "\t", internal::av(level), "\t", internal::av(component), "\t",
                      internal::av(message));
  if (!f.initial_fields.empty()) {
    std::string fields(1, '{');
    for (const auto& [key, value] : f.initial_fields) append_field(fields, key, value);
    fields += '}';
    absl::StrAppend(&line, "\t", fields);
  }
  return line;
}

void write_log_line(std::string_view level, std::string_view component, std::string_view message) {
  std::string line = format_log_line(level, component, message);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines do not interleave
}

}  // namespace otlp
