#pragma once
// otlp::Signal: the four OTLP signals, by name. Free of protobuf so that the config layer
// (pipeline/config), which runs before anything is built, names pipelines with the same enum
// the data path uses. The request types of each signal are in otlp/signal.h.
//
// Contract: names are the OTLP path names ("traces", "metrics", "logs", "profiles").

#include <optional>
#include <string_view>

namespace otlp {

enum class Signal { kTraces, kMetrics, kLogs, kProfiles };

inline constexpr Signal kAllSignals[] = {Signal::kTraces, Signal::kMetrics, Signal::kLogs,
                                         Signal::kProfiles};

constexpr std::string_view signal_name(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return "traces";
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
    case Signal::kProfiles:
      return "profiles";
  }
  return "unknown";
}

constexpr std::optional<Signal> parse_signal(std::string_view name) {
  for (Signal s : kAllSignals) {
    if (signal_name(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace otlp
