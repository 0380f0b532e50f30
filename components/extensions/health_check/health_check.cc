#include "components/extensions/health_check/health_check.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"
#include "components/internal/page_server.h"
#include "components/internal/tls_config.h"
#include "transport/http_server.h"

namespace components {

namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Go's time.Duration text, to the millisecond ("1h2m3.5s"), as the Collector's "uptime".
std::string go_duration(csp::Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  std::string out;
  if (ms >= 3600000) {
    absl::StrAppend(&out, ms / 3600000, "h");
    ms %= 3600000;
  }
  if (!out.empty() || ms >= 60000) {
    absl::StrAppend(&out, ms / 60000, "m");
    ms %= 60000;
  }
  absl::StrAppend(&out, ms / 1000);
  if (ms % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms % 1000));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += "s";
  return out;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<HealthCheckConfig> parse_health_check_config(const pipeline::ConfigNode& node) {
  HealthCheckConfig c;
  OTLPD_ASSIGN_OR_RETURN(c.endpoint, node.string("endpoint", c.endpoint));
  OTLPD_ASSIGN_OR_RETURN(c.path, node.string("path", c.path));
  if (c.path.empty() || c.path.front() != '/') {
    return node.error_at("path", absl::StrCat("must start with '/', got \"", c.path, "\""));
  }
  if (node.has("check_collector_pipeline")) {
    const pipeline::ConfigNode check = node.child("check_collector_pipeline");
    OTLPD_ASSIGN_OR_RETURN(c.check_pipeline, check.boolean("enabled", false));
    OTLPD_ASSIGN_OR_RETURN(c.failing_longer_than,
                           check.duration("interval", c.failing_longer_than));
    if (check.has("exporter_failure_threshold")) {
      return check.error_at("exporter_failure_threshold",
                            "is not supported: otlpd judges an exporter by how long it has been "
                            "failing without a success (interval), not by a count of failures");
    }
    OTLPD_RETURN_IF_ERROR(check.check_no_unknown_keys());
  }
  OTLPD_ASSIGN_OR_RETURN(c.tls, parse_server_tls(node));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  return c;
}

HealthCheck::HealthCheck(std::string id, HealthCheckConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {}

HealthCheck::~HealthCheck() {
  if (server_ != nullptr) server_->shutdown(csp::Clock::now());
}

HealthCheck::Answer HealthCheck::answer() const {
  const csp::TimePoint now = csp::Clock::now();
  std::string reason;
  switch (host_.phase()) {
    case pipeline::Phase::kStarting:
      reason = "starting";
      break;
    case pipeline::Phase::kStopping:
      reason = "stopping";
      break;
    case pipeline::Phase::kRunning:
      break;
  }
  std::string failing;
  if (reason.empty() && config_.check_pipeline) {
    const auto since = host_.exporters_failing_since(
        now - std::chrono::duration_cast<csp::Duration>(config_.failing_longer_than));
    for (const auto& [exporter, t] : since) {
      if (!failing.empty()) failing += ',';
      absl::StrAppend(&failing, "{\"exporter\":", json_string(exporter),
                      ",\"failing_for\":", json_string(go_duration(now - t)), "}");
    }
    if (!failing.empty()) reason = "exporters failing";
  }
  Answer a;
  a.healthy = reason.empty();
  a.json = absl::StrCat("{\"status\":\"", a.healthy ? "Server available" : "Server not available",
                        "\",\"upSince\":\"", rfc3339(up_since_), "\",\"uptime\":\"",
                        go_duration(now - started_), "\"");
  if (!a.healthy) absl::StrAppend(&a.json, ",\"reason\":", json_string(reason));
  if (!failing.empty()) absl::StrAppend(&a.json, ",\"exporters\":[", failing, "]");
  a.json += "}\n";
  return a;
}

csp::Task<absl::Status> HealthCheck::start() {
  internal::PageServerOptions options;
  options.id = id_;
  options.endpoint = config_.endpoint;
  options.tls = config_.tls;
  // Probes are short: a connection that says nothing is closed soon.
  options.read_timeout = std::chrono::seconds(10);
  options.idle_timeout = std::chrono::seconds(30);
  options.pages[config_.path] = [this] {
    const Answer a = answer();
    transport::HttpServerOptions::Page page;
    page.status = a.healthy ? 200 : 503;
    page.content_type = "application/json";
    page.body = a.json;
    return page;
  };
  absl::StatusOr<std::unique_ptr<transport::HttpServer>> server =
      internal::start_page_server(std::move(options), host_);
  if (!server.ok()) co_return server.status();
  server_ = *std::move(server);
  co_return absl::OkStatus();
}

csp::Task<void> HealthCheck::shutdown(csp::Context ctx) {
  if (server_ == nullptr) co_return;
  co_await server_->shutdown_async(
      ctx.deadline().value_or(csp::Clock::now() + std::chrono::seconds(5)));
}

}  // namespace components
