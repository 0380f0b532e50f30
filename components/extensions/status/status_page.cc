#include "components/extensions/status/status_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"
#include "components/internal/page_server.h"
#include "components/internal/tls_config.h"
#include "csp/introspection.h"
#include "csp/scheduler.h"
#include "otlp/json_text.h"
#include "telemetry/registry.h"
#include "transport/http_server.h"

namespace components {

namespace {

// Goroutines listed one by one in the JSON (all are counted in the groups).
constexpr std::size_t kMaxDumped = 2000;

// A small JSON writer: enough for the status object.
void append_string(std::string& out, std::string_view s) { otlp::append_json_string(out, s); }

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

void append_strings(std::string& out, const std::vector<std::string>& list) {
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    append_string(out, list[i]);
  }
  out += ']';
}

const char* phase_name(pipeline::Phase p) {
  switch (p) {
    case pipeline::Phase::kStarting:
      return "starting";
    case pipeline::Phase::kRunning:
      return "running";
    case pipeline::Phase::kStopping:
      return "stopping";
  }
  return "unknown";
}

const char* kind_name(telemetry::Registry::Kind k) {
  switch (k) {
    case telemetry::Registry::Kind::kCounter:
      return "counter";
    case telemetry::Registry::Kind::kGauge:
      return "gauge";
    case telemetry::Registry::Kind::kHistogram:
      return "histogram";
  }
  return "unknown";
}

}  // namespace

absl::StatusOr<StatusPageConfig> parse_status_page_config(const pipeline::ConfigNode& node) {
  StatusPageConfig c;
  OTLPD_ASSIGN_OR_RETURN(c.endpoint, node.string("endpoint", c.endpoint));
  if (c.endpoint.find(':') == std::string::npos) {
    return node.error_at("endpoint", absl::StrCat("expected host:port, got \"", c.endpoint, "\""));
  }
  OTLPD_ASSIGN_OR_RETURN(c.tls, parse_server_tls(node));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  return c;
}

StatusPage::StatusPage(std::string id, StatusPageConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {}

StatusPage::~StatusPage() = default;

std::string StatusPage::json() const {
  std::string out = "{\"version\":";
  append_string(out, OTLPD_VERSION);
  out += ",\"phase\":";
  append_string(out, phase_name(host_.phase()));
  out += ",\"uptime_seconds\":";
  append_number(out,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());

  out += ",\"pipelines\":[";
  bool first = true;
  for (const pipeline::Host::PipelineLayout& p : host_.pipelines()) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    append_string(out, p.id);
    out += ",\"receivers\":";
    append_strings(out, p.receivers);
    out += ",\"processors\":";
    append_strings(out, p.processors);
    out += ",\"exporters\":";
    append_strings(out, p.exporters);
    out += '}';
  }

  out += "],\"metrics\":[";
  first = true;
  for (const telemetry::Registry::FamilySnapshot& f : host_.telemetry().snapshot()) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":";
    append_string(out, f.name);
    out += ",\"kind\":";
    append_string(out, kind_name(f.kind));
    out += ",\"samples\":[";
    for (std::size_t i = 0; i < f.samples.size(); ++i) {
      const telemetry::Registry::Sample& s = f.samples[i];
      if (i > 0) out += ',';
      out += "{\"labels\":{";
      for (std::size_t l = 0; l < s.labels.size(); ++l) {
        if (l > 0) out += ',';
        append_string(out, s.labels[l].first);
        out += ':';
        append_string(out, s.labels[l].second);
      }
      out += '}';
      if (f.kind == telemetry::Registry::Kind::kHistogram) {
        out += ",\"bounds\":[";
        for (std::size_t b = 0; b < s.histogram.bounds.size(); ++b) {
          if (b > 0) out += ',';
          append_number(out, s.histogram.bounds[b]);
        }
        out += "],\"cumulative\":[";
        for (std::size_t b = 0; b < s.histogram.cumulative.size(); ++b) {
          if (b > 0) out += ',';
          absl::StrAppend(&out, s.histogram.cumulative[b]);
        }
        out += "],\"sum\":";
        append_number(out, s.histogram.sum);
        absl::StrAppend(&out, ",\"count\":", s.histogram.count);
      } else {
        out += ",\"value\":";
        append_number(out, s.value);
      }
      out += '}';
    }
    out += "]}";
  }

  const csp::RuntimeStats rt = csp::runtime_stats();
  absl::StrAppend(&out, "],\"runtime\":{\"workers\":", rt.workers,
                  ",\"goroutines\":", rt.live_goroutines, ",\"runnable\":", rt.runnable,
                  ",\"running\":", rt.running, ",\"parked\":", rt.parked,
                  ",\"global_queue\":", rt.global_queue, ",\"per_worker\":[");
  for (std::size_t i = 0; i < rt.per_worker.size(); ++i) {
    const csp::WorkerStats& w = rt.per_worker[i];
    if (i > 0) out += ',';
    absl::StrAppend(&out, "{\"index\":", w.index, ",\"queue\":", w.queue_length,
                    ",\"running\":", w.running ? "true" : "false",
                    ",\"idle\":", w.idle ? "true" : "false", "}");
  }
  out += "]}";

  // The goroutine dump: grouped by where they started and what they wait on (as Go's
  // debug=1), then each one (up to kMaxDumped, oldest first).
  const std::vector<csp::GoroutineInfo> dump = csp::goroutine_dump();
  struct Group {
    std::size_t count = 0;
    double longest = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
  for (const csp::GoroutineInfo& g : dump) {
    Group& group = groups[{g.origin, g.waiting ? g.waits_on : "running or runnable", g.channel}];
    ++group.count;
    group.longest = std::max(group.longest, g.waiting_seconds);
  }
  std::vector<std::pair<std::tuple<std::string, std::string, std::string>, Group>> sorted(
      groups.begin(), groups.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  absl::StrAppend(&out, ",\"goroutine_count\":", dump.size(), ",\"goroutine_groups\":[");
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& [key, group] = sorted[i];
    if (i > 0) out += ',';
    out += "{\"origin\":";
    append_string(out, std::get<0>(key));
    out += ",\"state\":";
    append_string(out, std::get<1>(key));
    out += ",\"channel\":";
    append_string(out, std::get<2>(key));
    absl::StrAppend(&out, ",\"count\":", group.count, ",\"longest_wait_seconds\":");
    append_number(out, group.longest);
    out += '}';
  }
  out += "],\"goroutines\":[";
  for (std::size_t i = 0; i < dump.size() && i < kMaxDumped; ++i) {
    const csp::GoroutineInfo& g = dump[i];
    if (i > 0) out += ',';
    absl::StrAppend(&out, "{\"id\":", g.id, ",\"origin\":");
    append_string(out, g.origin);
    out += ",\"state\":";
    append_string(out, g.waiting ? g.waits_on : "running or runnable");
    out += ",\"channel\":";
    append_string(out, g.channel);
    out += ",\"waiting_seconds\":";
    append_number(out, g.waiting_seconds);
    out += ",\"age_seconds\":";
    append_number(out, g.age_seconds);
    out += '}';
  }

  // The named channels.
  out += "],\"channels\":[";
  first = true;
  for (const csp::ChannelInfo& c : csp::channel_table()) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":";
    append_string(out, c.name);
    absl::StrAppend(&out, ",\"capacity\":", c.capacity, ",\"length\":", c.length,
                    ",\"closed\":", c.closed ? "true" : "false", ",\"senders\":", c.waiting_senders,
                    ",\"receivers\":", c.waiting_receivers, "}");
  }
  out += "]}";
  return out;
}

csp::Task<absl::Status> StatusPage::start() {
  internal::PageServerOptions options;
  options.id = id_;
  options.endpoint = config_.endpoint;
  options.tls = config_.tls;
  options.idle_timeout = std::chrono::seconds(60);  // the page polls every second
  options.pages["/"] = [] {
    transport::HttpServerOptions::Page page;
    page.content_type = "text/html; charset=utf-8";
    page.body = kStatusPageHtml;
    return page;
  };
  options.pages["/status.json"] = [this] {
    transport::HttpServerOptions::Page page;
    page.content_type = "application/json";
    page.body = json();
    return page;
  };
  // The report ("http" or "https") is what the ready line makes the page's URL of.
  absl::StatusOr<std::unique_ptr<transport::HttpServer>> server =
      internal::start_page_server(std::move(options), host_);
  if (!server.ok()) co_return server.status();
  server_ = *std::move(server);
  co_return absl::OkStatus();
}

csp::Task<void> StatusPage::shutdown(csp::Context ctx) {
  if (server_ == nullptr) co_return;
  co_await server_->shutdown_async(
      ctx.deadline().value_or(csp::Clock::now() + std::chrono::seconds(5)));
}

}  // namespace components
