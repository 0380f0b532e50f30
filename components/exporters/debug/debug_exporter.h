#pragma once
// The `debug` exporter: writes what it receives to the collector's log (stderr).
//   basic    — one line per batch: counts of resources and items;
//   normal   — plus one line per item (span name and ids, metric name and point count, log body);
//   detailed — the whole batch as OTLP/JSON.
// It refuses data only after shutdown.

#include <atomic>
#include <string>

#include "pipeline/component.h"
#include "pipeline/host.h"

namespace components {

enum class Verbosity { kBasic, kNormal, kDetailed };

struct DebugConfig {
  Verbosity verbosity = Verbosity::kBasic;
  // Accepted for compatibility with Collector configs; every batch is logged.
  std::int64_t sampling_initial = 2;
  std::int64_t sampling_thereafter = 1;
};

class DebugExporter final : public pipeline::Exporter {
 public:
  DebugExporter(std::string id, DebugConfig config, pipeline::Host& host)
      : id_(std::move(id)), config_(config), host_(host) {}
  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<void> shutdown(csp::Context) override {
    shut_down_.store(true, std::memory_order_release);
    co_return;
  }

  // The text the exporter logs for a batch (one string, lines separated by '\n').
  static absl::StatusOr<std::string> render(const pipeline::Batch& batch, Verbosity verbosity);

 private:
  std::string id_;
  DebugConfig config_;
  pipeline::Host& host_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace components
