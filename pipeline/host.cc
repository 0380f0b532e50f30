#include "pipeline/host.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "otlp/log_line.h"

namespace pipeline {

namespace {
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}
}  // namespace

void Host::log(LogLevel level, const std::string& component, const std::string& message) {
  if (!enabled(level)) return;
  otlp::write_log_line(level_name(level), component, message);
}

void Host::report_endpoint(const std::string& component, const std::string& what,
                           const std::string& address) {
  {
    std::lock_guard lock(mu_);
    endpoints_.push_back({component, what, address});
  }
  log(LogLevel::kInfo, component, what + " listening on " + address);
}

void Host::set_pipelines(std::vector<PipelineLayout> pipelines) {
  std::lock_guard lock(mu_);
  pipelines_ = std::move(pipelines);
}

std::vector<Host::PipelineLayout> Host::pipelines() const {
  std::lock_guard lock(mu_);
  return pipelines_;
}

std::shared_ptr<Component> Host::extension(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = extensions_.find(id);
  return it == extensions_.end() ? nullptr : it->second;
}

void Host::add_extension(const std::string& id, std::shared_ptr<Component> extension) {
  std::lock_guard lock(mu_);
  extensions_[id] = std::move(extension);
}

std::vector<Host::Endpoint> Host::endpoints() const {
  std::lock_guard lock(mu_);
  return endpoints_;
}

void Host::set_phase(Phase phase) {
  std::lock_guard lock(mu_);
  phase_ = phase;
}

Phase Host::phase() const {
  std::lock_guard lock(mu_);
  return phase_;
}

void Host::exporter_failing(const std::string& exporter, csp::TimePoint since) {
  std::lock_guard lock(mu_);
  if (failing_.try_emplace(exporter, since).second) {
    failing_count_.store(static_cast<int>(failing_.size()), std::memory_order_relaxed);
  }
}

void Host::exporter_delivering(const std::string& exporter) {
  if (failing_count_.load(std::memory_order_relaxed) == 0) return;  // the common case
  std::lock_guard lock(mu_);
  if (failing_.erase(exporter) != 0) {
    failing_count_.store(static_cast<int>(failing_.size()), std::memory_order_relaxed);
  }
}

std::map<std::string, csp::TimePoint> Host::exporters_failing_since(csp::TimePoint before) const {
  std::lock_guard lock(mu_);
  std::map<std::string, csp::TimePoint> out;
  for (const auto& [id, since] : failing_) {
    if (since <= before) out.emplace(id, since);
  }
  return out;
}

}  // namespace pipeline
