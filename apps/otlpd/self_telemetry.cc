#include "apps/otlpd/self_telemetry.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "components/internal/listen_address.h"
#include "components/internal/tls_config.h"
#include "csp/scheduler.h"
#include "transport/http_server.h"

namespace otlpd {

namespace {

constexpr const char* kLevels[] = {"none", "basic", "normal", "detailed"};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

double rss_bytes() {
  // The second field of statm is resident pages.
  std::ifstream statm("/proc/self/statm");
  long size = 0;
  long resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

absl::StatusOr<MetricsEndpointConfig> decode_metrics_config(
    const std::optional<pipeline::ConfigNode>& metrics) {
  MetricsEndpointConfig out;
  if (!metrics.has_value() || metrics->empty()) return out;
  const pipeline::ConfigNode& node = *metrics;
  absl::StatusOr<std::string> level = node.string("level", "normal");
  if (!level.ok()) return level.status();
  bool known = false;
  for (const char* l : kLevels) known = known || *level == l;
  if (!known) {
    return node.error_at(
        "level",
        absl::StrCat("expected one of none, basic, normal, detailed, got \"", *level, "\""));
  }
  out.enabled = *level != "none";
  if (node.has("address")) {
    absl::StatusOr<std::string> address = node.string("address", "");
    if (!address.ok()) return address.status();
    if (address->find(':') == std::string::npos) {
      return node.error_at("address", absl::StrCat("expected host:port, got \"", *address, "\""));
    }
    out.endpoint = *address;
    out.configured = true;
  }
  if (node.has("readers")) {
    absl::StatusOr<std::vector<pipeline::ConfigNode>> readers = node.list("readers");
    if (!readers.ok()) return readers.status();
    for (const pipeline::ConfigNode& reader : *readers) {
      if (reader.has("periodic")) {
        absl::StatusOr<MetricsPushConfig> push = decode_periodic_reader(reader.child("periodic"));
        if (!push.ok()) return push.status();
        if (absl::Status s = reader.check_no_unknown_keys(); !s.ok()) return s;
        out.push.push_back(*std::move(push));
        continue;
      }
      const pipeline::ConfigNode prometheus =
          reader.child("pull").child("exporter").child("prometheus");
      if (!reader.has("pull")) {
        if (absl::Status s = reader.check_no_unknown_keys(); !s.ok()) return s;
        return reader.error("expected a pull reader with a prometheus exporter");
      }
      absl::StatusOr<std::string> host = prometheus.string("host", "localhost");
      if (!host.ok()) return host.status();
      absl::StatusOr<int64_t> port = prometheus.int64("port", 8888);
      if (!port.ok()) return port.status();
      if (*port < 0 || *port > 65535) {
        return prometheus.error_at("port", absl::StrCat("expected 0 to 65535, got ", *port));
      }
      absl::StatusOr<std::shared_ptr<transport::ServerTls>> tls =
          components::parse_server_tls(prometheus);
      if (!tls.ok()) return tls.status();
      out.tls = *std::move(tls);
      if (absl::Status s = prometheus.check_no_unknown_keys(); !s.ok()) return s;
      out.endpoint = host->find(':') != std::string::npos ? absl::StrCat("[", *host, "]:", *port)
                                                          : absl::StrCat(*host, ":", *port);
      out.configured = true;
    }
  }
  if (absl::Status s = node.check_no_unknown_keys(); !s.ok()) return s;
  // Readers given: only they run. Periodic ones alone mean no /metrics endpoint.
  if (!out.push.empty() && !out.configured) out.serve = false;
  return out;
}

SelfTelemetry::SelfTelemetry(pipeline::Host& host, MetricsEndpointConfig config)
    : host_(host), config_(std::move(config)) {}

SelfTelemetry::~SelfTelemetry() {
  shutdown();
  host_.telemetry().remove_gauges(this);
}

absl::Status SelfTelemetry::start() {
  telemetry::Registry& registry = host_.telemetry();
  const auto started = std::chrono::steady_clock::now();
  registry.gauge(
      "otelcol_process_uptime", "Seconds since the process started.", {},
      [started] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      },
      this);
  registry.gauge("otelcol_process_cpu_seconds", "CPU time, user and system, in seconds.", {},
                 cpu_seconds, this);
  registry.gauge("otelcol_process_memory_rss", "Resident memory, in bytes.", {}, rss_bytes, this);
  registry.gauge(
      "otlpd_runtime_goroutines", "Goroutines started and not yet finished.", {},
      [] { return static_cast<double>(csp::runtime_stats().live_goroutines); }, this);
  registry.gauge(
      "otlpd_runtime_workers", "Worker threads of the goroutine scheduler.", {},
      [] { return static_cast<double>(csp::default_scheduler().worker_count()); }, this);
  pipeline::Admission& admission = host_.admission();
  registry.gauge(
      "otlpd_admission_bytes_in_use",
      "Bytes of telemetry held or being received, as the memory budget counts them.", {},
      [&admission] { return static_cast<double>(admission.used()); }, this);
  registry.gauge(
      "otlpd_admission_bytes_limit",
      "The memory budget's limit in bytes (memory_limiter); 0 without one.", {},
      [&admission] { return static_cast<double>(admission.soft_limit()); }, this);
  if (!config_.enabled) return absl::OkStatus();
  for (const MetricsPushConfig& push : config_.push) {
    pushers_.push_back(std::make_unique<MetricsPusher>(host_, push, OTLPD_VERSION));
    pushers_.back()->start();
  }
  if (!config_.serve) return absl::OkStatus();

  transport::HttpServerOptions options;
  options.endpoint = config_.endpoint;
  options.serve_otlp = false;
  options.tls = config_.tls;
  options.max_connections = 64;
  options.pages["/metrics"] = [&registry] {
    transport::HttpServerOptions::Page page;
    page.content_type = "text/plain; version=0.0.4; charset=utf-8";
    page.body = registry.prometheus_text();
    return page;
  };
  server_ = std::make_unique<transport::HttpServer>(options, transport::ExportHandler());
  absl::StatusOr<int> port = server_->start();
  if (!port.ok()) {
    server_.reset();
    if (config_.configured) {
      return absl::UnavailableError(absl::StrCat("service::telemetry::metrics: cannot listen on ",
                                                 config_.endpoint, ": ", port.status().message()));
    }
    host_.log(pipeline::LogLevel::kWarn, "service",
              absl::StrCat("no metrics endpoint: cannot listen on ", config_.endpoint, " (",
                           port.status().message(),
                           "); set service::telemetry::metrics to choose another port"));
    return absl::OkStatus();
  }
  const std::string address = components::internal::listen_address(config_.endpoint, *port);
  url_ = absl::StrCat(config_.tls != nullptr ? "https://" : "http://", address, "/metrics");
  host_.report_endpoint("service", "metrics", address);
  return absl::OkStatus();
}

void SelfTelemetry::shutdown() {
  for (const std::unique_ptr<MetricsPusher>& pusher : pushers_) pusher->shutdown();
  if (server_ != nullptr) server_->shutdown(csp::Clock::now() + std::chrono::seconds(1));
  server_.reset();
}

}  // namespace otlpd
