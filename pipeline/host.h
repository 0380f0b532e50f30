#pragma once
// pipeline::Host: what the engine offers every component — the log, admission control, a
// place for receivers to say where they listen, the collector's own metrics, and its health
// (what the health_check extension reports).
//
// Thread-safety: all methods may be called from any goroutine or thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "csp/timer.h"
#include "pipeline/admission.h"
#include "pipeline/component.h"
#include "telemetry/registry.h"

namespace pipeline {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Where the collector is in its life (set by the collector; the graph alone stays kStarting).
enum class Phase { kStarting, kRunning, kStopping };

class Host {
 public:
  explicit Host(LogLevel level = LogLevel::kInfo) : level_(level) {}
  virtual ~Host() = default;

  // Writes one line to the collector's log (stderr) if level is enabled.
  void log(LogLevel level, const std::string& component, const std::string& message);
  bool enabled(LogLevel level) const { return level >= level_; }

  // Receivers call admission() before they decode anything (see admission.h).
  Admission& admission() { return admission_; }

  // A receiver reports each endpoint once it listens ("otlp grpc 127.0.0.1:4317").
  void report_endpoint(const std::string& component, const std::string& what,
                       const std::string& address);
  struct Endpoint {
    std::string component;
    std::string what;
    std::string address;
  };
  std::vector<Endpoint> endpoints() const;

  // The extensions of service::extensions, by id ("file_storage", "file_storage/2"); null if
  // that id is not enabled. The graph adds them before it builds any other component.
  std::shared_ptr<Component> extension(const std::string& id) const;
  void add_extension(const std::string& id, std::shared_ptr<Component> extension);

  // The collector's metrics about itself (telemetry/registry.h). Components register their
  // series when they start and add to them on the data path without locking.
  telemetry::Registry& telemetry() { return telemetry_; }

  void set_phase(Phase phase);
  Phase phase() const;
  // An exporter reports whether it is delivering: failing() with the time its current run of
  // failures began, delivering() when an attempt succeeds again. Cheap when nothing changes.
  void exporter_failing(const std::string& exporter, csp::TimePoint since);
  void exporter_delivering(const std::string& exporter);
  // Exporters failing since before `before`, with the time each began failing.
  std::map<std::string, csp::TimePoint> exporters_failing_since(csp::TimePoint before) const;

  // The pipelines as configured (set by the graph when it is built; the status page draws
  // them). Component ids as written.
  struct PipelineLayout {
    std::string id;  // "traces", "logs/2"
    std::vector<std::string> receivers;
    std::vector<std::string> processors;
    std::vector<std::string> exporters;
  };
  void set_pipelines(std::vector<PipelineLayout> pipelines);
  std::vector<PipelineLayout> pipelines() const;

 private:
  LogLevel level_;
  Admission admission_;
  mutable std::mutex mu_;
  std::vector<Endpoint> endpoints_;                               // guarded by mu_
  std::map<std::string, std::shared_ptr<Component>> extensions_;  // guarded by mu_
  Phase phase_ = Phase::kStarting;                                // guarded by mu_
  std::map<std::string, csp::TimePoint> failing_;                 // guarded by mu_
  std::vector<PipelineLayout> pipelines_;                         // guarded by mu_
  std::atomic<int> failing_count_{0};  // failing_.size(), read without the lock
  telemetry::Registry telemetry_;
};

}  // namespace pipeline
