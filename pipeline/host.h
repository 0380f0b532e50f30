#pragma once
// pipeline::Host: what the engine offers every component — the log, admission control, and a
// place for receivers to say where they listen.
//
// Thread-safety: all methods may be called from any goroutine or thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/admission.h"
#include "pipeline/component.h"

namespace pipeline {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

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

 private:
  LogLevel level_;
  Admission admission_;
  mutable std::mutex mu_;
  std::vector<Endpoint> endpoints_;                               // guarded by mu_
  std::map<std::string, std::shared_ptr<Component>> extensions_;  // guarded by mu_
};

}  // namespace pipeline
