#pragma once
// Per-signal counters with the OpenTelemetry Collector's names, for the components' own
// metrics (docs/operations.md). A component registers them when it starts and adds on the
// data path without locking (telemetry::Counter is striped).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "otlp/signal_enum.h"
#include "telemetry/registry.h"

namespace components::internal {

// The Collector's word for a signal's items in metric names. Profiles have no Collector name;
// ours counts their samples.
inline const char* item_noun(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "spans";
    case otlp::Signal::kMetrics:
      return "metric_points";
    case otlp::Signal::kLogs:
      return "log_records";
    case otlp::Signal::kProfiles:
      return "profile_samples";
  }
  return "items";
}

// One counter per signal: `<prefix><noun>` ("otelcol_exporter_sent_" + "spans").
class SignalCounters {
 public:
  SignalCounters() = default;
  // `help` gets the noun appended ("Items sent: spans").
  SignalCounters(telemetry::Registry& registry, const std::string& prefix, const std::string& help,
                 const telemetry::Labels& labels) {
    for (otlp::Signal signal : otlp::kAllSignals) {
      by_signal_[static_cast<std::size_t>(signal)] = &registry.counter(
          absl::StrCat(prefix, item_noun(signal)), absl::StrCat(help, item_noun(signal)), labels);
    }
  }
  void add(otlp::Signal signal, std::int64_t items) {
    if (telemetry::Counter* c = by_signal_[static_cast<std::size_t>(signal)]) c->add(items);
  }

 private:
  std::array<telemetry::Counter*, 4> by_signal_{};
};

}  // namespace components::internal
