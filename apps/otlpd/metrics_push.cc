#include "apps/otlpd/metrics_push.h"

#include <cstdio>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "otlp/signal.h"

namespace otlpd {

namespace {

namespace pb = opentelemetry::proto;

// The schema writes times as integers of milliseconds; "10s" is taken too.
absl::StatusOr<std::chrono::milliseconds> millis(const pipeline::ConfigNode& node,
                                                 std::string_view key,
                                                 std::chrono::milliseconds def) {
  if (!node.has(key)) return def;
  absl::StatusOr<std::int64_t> n = node.int64(key, def.count());
  std::chrono::milliseconds value;
  if (n.ok()) {
    value = std::chrono::milliseconds(*n);
  } else {
    absl::StatusOr<std::chrono::nanoseconds> d = node.duration(key, def);
    if (!d.ok()) return n.status();
    value = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (value.count() <= 0) return node.error_at(key, "must be positive");
  return value;
}

std::string random_instance_id() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> byte(0, 255);
  unsigned char b[16];
  for (unsigned char& c : b) c = static_cast<unsigned char>(byte(rd));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::uint64_t unix_nano_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

void add_attribute(google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* to,
                   const std::string& key, const std::string& value) {
  pb::common::v1::KeyValue* kv = to->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

}  // namespace

absl::StatusOr<MetricsPushConfig> decode_periodic_reader(const pipeline::ConfigNode& periodic) {
  MetricsPushConfig c;
  absl::StatusOr<std::chrono::milliseconds> interval = millis(periodic, "interval", c.interval);
  if (!interval.ok()) return interval.status();
  c.interval = *interval;
  absl::StatusOr<std::chrono::milliseconds> timeout = millis(periodic, "timeout", c.timeout);
  if (!timeout.ok()) return timeout.status();
  c.timeout = *timeout;
  const pipeline::ConfigNode exporter = periodic.child("exporter");
  if (!periodic.has("exporter")) return periodic.error("needs an exporter (otlp)");
  const pipeline::ConfigNode otlp = exporter.child("otlp");
  if (!exporter.has("otlp")) {
    if (absl::Status s = exporter.check_no_unknown_keys(); !s.ok()) return s;
    return exporter.error("expected an otlp exporter");
  }
  absl::StatusOr<std::string> protocol = otlp.string("protocol", "http/protobuf");
  if (!protocol.ok()) return protocol.status();
  if (*protocol == "grpc") {
    c.protocol = MetricsPushConfig::Protocol::kGrpc;
  } else if (*protocol == "http/protobuf") {
    c.protocol = MetricsPushConfig::Protocol::kHttpProtobuf;
  } else if (*protocol == "http/json") {
    c.protocol = MetricsPushConfig::Protocol::kHttpJson;
  } else {
    return otlp.error_at(
        "protocol",
        absl::StrCat("expected grpc, http/protobuf or http/json, got \"", *protocol, "\""));
  }
  const bool grpc = c.protocol == MetricsPushConfig::Protocol::kGrpc;
  absl::StatusOr<std::string> endpoint =
      otlp.string("endpoint", grpc ? "http://localhost:4317" : "http://localhost:4318/v1/metrics");
  if (!endpoint.ok()) return endpoint.status();
  c.endpoint = *endpoint;
  if (otlp.has("headers")) {
    absl::StatusOr<std::vector<pipeline::ConfigNode>> list = otlp.list("headers");
    if (list.ok()) {
      for (const pipeline::ConfigNode& h : *list) {
        absl::StatusOr<std::string> name = h.string("name", "");
        if (!name.ok()) return name.status();
        absl::StatusOr<std::string> value = h.string("value", "");
        if (!value.ok()) return value.status();
        if (name->empty()) return h.error("a header needs a name");
        if (absl::Status s = h.check_no_unknown_keys(); !s.ok()) return s;
        c.headers[*name] = *value;
      }
    } else {
      absl::StatusOr<std::map<std::string, std::string>> map = otlp.string_map("headers");
      if (!map.ok()) return map.status();
      c.headers = *std::move(map);
    }
  }
  absl::StatusOr<std::string> compression = otlp.string("compression", "gzip");
  if (!compression.ok()) return compression.status();
  if (*compression != "gzip" && *compression != "none") {
    return otlp.error_at("compression",
                         absl::StrCat("expected gzip or none, got \"", *compression, "\""));
  }
  c.gzip = *compression == "gzip";
  absl::StatusOr<std::chrono::milliseconds> export_timeout = millis(otlp, "timeout", c.timeout);
  if (!export_timeout.ok()) return export_timeout.status();
  c.timeout = std::min(c.timeout, *export_timeout);
  absl::StatusOr<bool> insecure = otlp.boolean("insecure", false);
  if (!insecure.ok()) return insecure.status();
  c.insecure = *insecure;
  for (auto [key, field] :
       {std::pair{"certificate", &c.tls.ca_file}, std::pair{"client_certificate", &c.tls.cert_file},
        std::pair{"client_key", &c.tls.key_file}}) {
    absl::StatusOr<std::string> path = otlp.string(key, "");
    if (!path.ok()) return path.status();
    *field = *path;
  }
  absl::StatusOr<std::string> temporality = otlp.string("temporality_preference", "cumulative");
  if (!temporality.ok()) return temporality.status();
  if (*temporality != "cumulative") {
    return otlp.error_at("temporality_preference",
                         "only cumulative is supported (otlpd's counters are cumulative)");
  }
  if (absl::Status s = otlp.check_no_unknown_keys(); !s.ok()) return s;
  if (absl::Status s = exporter.check_no_unknown_keys(); !s.ok()) return s;
  if (absl::Status s = periodic.check_no_unknown_keys(); !s.ok()) return s;
  if (absl::Status s = c.tls.validate(); !s.ok()) return otlp.error(std::string(s.message()));
  if (!grpc && c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0) {
    return otlp.error_at(
        "endpoint", absl::StrCat("expected an http:// or https:// URL, got \"", c.endpoint, "\""));
  }
  return c;
}

pb::collector::metrics::v1::ExportMetricsServiceRequest to_otlp(
    const std::vector<telemetry::Registry::FamilySnapshot>& families, const PushResource& resource,
    std::uint64_t start_unix_nano, std::uint64_t now_unix_nano) {
  pb::collector::metrics::v1::ExportMetricsServiceRequest request;
  pb::metrics::v1::ResourceMetrics* rm = request.add_resource_metrics();
  auto* attributes = rm->mutable_resource()->mutable_attributes();
  add_attribute(attributes, "service.name", "otlpd");
  add_attribute(attributes, "service.version", resource.service_version);
  add_attribute(attributes, "service.instance.id", resource.instance_id);
  pb::metrics::v1::ScopeMetrics* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("otlpd");
  sm->mutable_scope()->set_version(resource.service_version);
  using Kind = telemetry::Registry::Kind;
  for (const telemetry::Registry::FamilySnapshot& family : families) {
    pb::metrics::v1::Metric* m = sm->add_metrics();
    m->set_name(family.name);
    m->set_description(family.help);
    for (const telemetry::Registry::Sample& sample : family.samples) {
      google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* point_attributes = nullptr;
      switch (family.kind) {
        case Kind::kCounter: {
          pb::metrics::v1::Sum* sum = m->mutable_sum();
          sum->set_is_monotonic(true);
          sum->set_aggregation_temporality(pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
          pb::metrics::v1::NumberDataPoint* p = sum->add_data_points();
          p->set_as_int(static_cast<std::int64_t>(sample.value));
          p->set_start_time_unix_nano(start_unix_nano);
          p->set_time_unix_nano(now_unix_nano);
          point_attributes = p->mutable_attributes();
          break;
        }
        case Kind::kGauge: {
          pb::metrics::v1::NumberDataPoint* p = m->mutable_gauge()->add_data_points();
          p->set_as_double(sample.value);
          p->set_time_unix_nano(now_unix_nano);
          point_attributes = p->mutable_attributes();
          break;
        }
        case Kind::kHistogram: {
          pb::metrics::v1::Histogram* h = m->mutable_histogram();
          h->set_aggregation_temporality(pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
          pb::metrics::v1::HistogramDataPoint* p = h->add_data_points();
          const telemetry::Histogram::Snapshot& s = sample.histogram;
          p->set_start_time_unix_nano(start_unix_nano);
          p->set_time_unix_nano(now_unix_nano);
          p->set_count(static_cast<std::uint64_t>(s.count));
          p->set_sum(s.sum);
          for (double bound : s.bounds) p->add_explicit_bounds(bound);
          // The registry keeps cumulative counts (as Prometheus shows them); OTLP wants each
          // bucket's own.
          std::int64_t below = 0;
          for (std::int64_t cumulative : s.cumulative) {
            p->add_bucket_counts(static_cast<std::uint64_t>(cumulative - below));
            below = cumulative;
          }
          point_attributes = p->mutable_attributes();
          break;
        }
      }
      for (const auto& [key, value] : sample.labels) add_attribute(point_attributes, key, value);
    }
  }
  return request;
}

MetricsPusher::MetricsPusher(pipeline::Host& host, MetricsPushConfig config,
                             std::string service_version)
    : host_(host),
      config_(std::move(config)),
      resource_{std::move(service_version), random_instance_id()},
      start_unix_nano_(unix_nano_now()) {
  if (config_.protocol == MetricsPushConfig::Protocol::kGrpc) {
    transport::GrpcClientOptions o;
    o.endpoint = config_.endpoint;
    o.insecure = config_.insecure || config_.endpoint.rfind("http://", 0) == 0;
    o.tls = config_.tls;
    o.headers = config_.headers;
    o.compression = config_.gzip ? otlp::Compression::kGzip : otlp::Compression::kNone;
    o.timeout = config_.timeout;
    grpc_ = std::make_unique<transport::GrpcExporterClient>(std::move(o));
  } else {
    transport::HttpClientOptions o;
    std::string url = config_.endpoint;
    // A URL without a path gets the signal's: the schema's endpoint is the full URL, but a
    // Collector-style base URL is a common way to write it.
    const std::size_t scheme_end = url.find("://");
    if (url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3) == std::string::npos) {
      url += "/v1/metrics";
    }
    o.metrics_endpoint = url;
    o.traces_endpoint = o.logs_endpoint = o.profiles_endpoint = url;  // unused, must be valid
    o.encoding = config_.protocol == MetricsPushConfig::Protocol::kHttpJson
                     ? transport::HttpEncoding::kJson
                     : transport::HttpEncoding::kProto;
    o.compression = config_.gzip ? otlp::Compression::kGzip : otlp::Compression::kNone;
    o.headers = config_.headers;
    o.timeout = config_.timeout;
    o.tls = config_.tls;
    http_ = std::make_unique<transport::HttpExporterClient>(std::move(o));
  }
}

MetricsPusher::~MetricsPusher() { shutdown(); }

std::string MetricsPusher::describe() const {
  return absl::StrCat(config_.protocol == MetricsPushConfig::Protocol::kGrpc ? "grpc " : "",
                      config_.endpoint);
}

void MetricsPusher::start() {
  started_ = true;
  csp::go([this]() -> csp::Task<void> { co_await run(); });
}

void MetricsPusher::shutdown() {
  if (!started_) return;
  started_ = false;
  stop_.close();
  done_.recv_blocking();
}

csp::Task<void> MetricsPusher::run() {
  for (;;) {
    const csp::Chan<csp::TimePoint> tick = csp::after(config_.interval);
    const int chosen = co_await csp::select(csp::recv(tick), csp::recv(stop_));
    co_await push_once();  // at shutdown too: the last counts are not lost
    if (chosen == 1) break;
  }
  done_.close();
}

csp::Task<void> MetricsPusher::push_once() {
  const std::string body =
      to_otlp(host_.telemetry().snapshot(), resource_, start_unix_nano_, unix_nano_now())
          .SerializeAsString();
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), config_.timeout);
  transport::ExportResult result;
  if (grpc_ != nullptr) {
    result = co_await grpc_->export_borrowed(otlp::Signal::kMetrics, body, ctx);
  } else {
    result = co_await http_->export_borrowed(otlp::Signal::kMetrics, body, ctx);
  }
  cancel();
  pushes_.fetch_add(1);
  if (!result.status.ok() && !failing_) {
    failing_ = true;
    host_.log(
        pipeline::LogLevel::kWarn, "service",
        absl::StrCat("pushing otlpd's own metrics to ", describe(),
                     " failed (logged once until it works again): ", result.status.ToString()));
  } else if (result.status.ok() && failing_) {
    failing_ = false;
    host_.log(pipeline::LogLevel::kInfo, "service",
              absl::StrCat("pushing otlpd's own metrics to ", describe(), " works again"));
  }
}

}  // namespace otlpd
