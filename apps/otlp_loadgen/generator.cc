#include "apps/otlp_loadgen/generator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <random>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "otlp/wire.h"

namespace loadgen {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace resource = opentelemetry::proto::resource::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
namespace logs = opentelemetry::proto::logs::v1;

// Keys that real instrumentation uses, so that attribute maps look (and compress) like real
// ones; beyond the list, numbered keys.
constexpr std::array<std::string_view, 16> kAttributeKeys = {
    "http.request.method", "url.path",       "http.response.status_code",
    "server.address",      "server.port",    "network.protocol.version",
    "user_agent.original", "client.address", "http.route",
    "db.system",           "db.namespace",   "messaging.system",
    "rpc.service",         "rpc.method",     "thread.name",
    "code.function"};
constexpr std::array<std::string_view, 6> kSpanNames = {
    "GET /api/orders",   "POST /api/checkout",   "SELECT orders",
    "redis GET session", "publish order.events", "GET /api/users/{id}"};
constexpr std::array<std::string_view, 6> kMetricNames = {"http.server.request.duration",
                                                          "http.server.active_requests",
                                                          "db.client.connections.usage",
                                                          "process.cpu.time",
                                                          "jvm.memory.used",
                                                          "messaging.process.duration"};
constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr int kSpansPerTrace = 10;

class Maker {
 public:
  Maker(const GeneratorOptions& options, std::uint64_t seed)
      : options_(options),
        rng_(seed),
        now_ns_(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count())) {}

  std::string text(int bytes) {
    std::string s(static_cast<std::size_t>(bytes), 'x');
    std::uniform_int_distribution<int> pick(0, static_cast<int>(sizeof(kAlphabet)) - 2);
    for (char& c : s) c = kAlphabet[pick(rng_)];
    return s;
  }
  std::string id(int bytes) {
    std::string s(static_cast<std::size_t>(bytes), '\0');
    for (char& c : s) c = static_cast<char>(rng_() & 0xff);
    return s;
  }
  std::uint64_t now_ns() const { return now_ns_; }
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }

  void attributes(google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
    for (int i = 0; i < options_.attributes_per_item; ++i) {
      common::KeyValue* kv = out->Add();
      const std::size_t k = static_cast<std::size_t>(i);
      kv->set_key(k < kAttributeKeys.size() ? std::string(kAttributeKeys[k])
                                            : absl::StrCat("app.attribute_", i));
      kv->mutable_value()->set_string_value(text(options_.attribute_value_bytes));
    }
  }

  void resource(resource::Resource* r, int index) {
    auto add = [r](std::string key, std::string value) {
      common::KeyValue* kv = r->add_attributes();
      kv->set_key(std::move(key));
      kv->mutable_value()->set_string_value(std::move(value));
    };
    add("service.name", absl::StrCat("loadgen-service-", index));
    add("service.instance.id", text(16));
    add("host.name", absl::StrCat("host-", index % 8));
    add("telemetry.sdk.name", "opentelemetry");
    add("telemetry.sdk.language", "cpp");
  }

  void scope(common::InstrumentationScope* s) {
    s->set_name("otlp-loadgen");
    s->set_version("1.0.0");
  }

  const GeneratorOptions& options() const { return options_; }

 private:
  const GeneratorOptions& options_;
  std::mt19937_64 rng_;
  std::uint64_t now_ns_;
};

// Items of resource `r` when `total` are spread over `resources`.
int share(int total, int resources, int r) { return total / resources + (r < total % resources); }

void fill_spans(Maker& m, trace::ScopeSpans* ss, int n) {
  std::string trace_id;
  std::string root_id;
  for (int i = 0; i < n; ++i) {
    trace::Span* s = ss->add_spans();
    // Spans come in traces of kSpansPerTrace: a root and its children.
    if (i % kSpansPerTrace == 0) {
      trace_id = m.id(16);
      root_id = m.id(8);
      s->set_span_id(root_id);
      s->set_kind(trace::Span::SPAN_KIND_SERVER);
    } else {
      s->set_span_id(m.id(8));
      s->set_parent_span_id(root_id);
      s->set_kind(i % 2 ? trace::Span::SPAN_KIND_CLIENT : trace::Span::SPAN_KIND_INTERNAL);
    }
    s->set_trace_id(trace_id);
    s->set_name(std::string(kSpanNames[static_cast<std::size_t>(i) % kSpanNames.size()]));
    const std::uint64_t start = m.now_ns() - 1'000'000'000 + m.below(500'000'000);
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + 100'000 + m.below(50'000'000));
    m.attributes(s->mutable_attributes());
    s->mutable_status()->set_code(i % 50 == 49 ? trace::Status::STATUS_CODE_ERROR
                                               : trace::Status::STATUS_CODE_UNSET);
  }
}

void fill_number_point(Maker& m, metrics::NumberDataPoint* p, bool as_int) {
  m.attributes(p->mutable_attributes());
  p->set_start_time_unix_nano(m.now_ns() - 60'000'000'000);
  p->set_time_unix_nano(m.now_ns());
  if (as_int) {
    p->set_as_int(static_cast<std::int64_t>(m.below(1'000'000)));
  } else {
    p->set_as_double(static_cast<double>(m.below(1'000'000)) / 1000.0);
  }
}

void fill_metrics(Maker& m, metrics::ScopeMetrics* sm, int n) {
  const int per_metric = m.options().points_per_metric;
  for (int done = 0, index = 0; done < n; ++index) {
    const int points = std::min(per_metric, n - done);
    done += points;
    metrics::Metric* metric = sm->add_metrics();
    const std::size_t kind = static_cast<std::size_t>(index) % 3;
    metric->set_name(
        std::string(kMetricNames[static_cast<std::size_t>(index) % kMetricNames.size()]));
    // Sums, gauges and histograms in turn: the three kinds SDKs send most.
    if (kind == 0) {
      metric->set_unit("1");
      metrics::Sum* sum = metric->mutable_sum();
      sum->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
      sum->set_is_monotonic(true);
      for (int p = 0; p < points; ++p) fill_number_point(m, sum->add_data_points(), true);
    } else if (kind == 1) {
      metric->set_unit("By");
      metrics::Gauge* gauge = metric->mutable_gauge();
      for (int p = 0; p < points; ++p) fill_number_point(m, gauge->add_data_points(), false);
    } else {
      metric->set_unit("s");
      metrics::Histogram* h = metric->mutable_histogram();
      h->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
      for (int p = 0; p < points; ++p) {
        metrics::HistogramDataPoint* dp = h->add_data_points();
        m.attributes(dp->mutable_attributes());
        dp->set_start_time_unix_nano(m.now_ns() - 60'000'000'000);
        dp->set_time_unix_nano(m.now_ns());
        std::uint64_t count = 0;
        for (double bound : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0}) {
          dp->add_explicit_bounds(bound);
          const std::uint64_t c = m.below(100);
          dp->add_bucket_counts(c);
          count += c;
        }
        dp->add_bucket_counts(0);  // the overflow bucket
        dp->set_count(count);
        dp->set_sum(static_cast<double>(count) * 0.1);
      }
    }
  }
}

void fill_logs(Maker& m, logs::ScopeLogs* sl, int n) {
  for (int i = 0; i < n; ++i) {
    logs::LogRecord* r = sl->add_log_records();
    const std::uint64_t t = m.now_ns() - m.below(1'000'000'000);
    r->set_time_unix_nano(t);
    r->set_observed_time_unix_nano(t + 1000);
    const bool warn = i % 10 == 9;
    r->set_severity_number(warn ? logs::SEVERITY_NUMBER_WARN : logs::SEVERITY_NUMBER_INFO);
    r->set_severity_text(warn ? "WARN" : "INFO");
    r->mutable_body()->set_string_value(m.text(m.options().log_body_bytes));
    m.attributes(r->mutable_attributes());
    r->set_trace_id(m.id(16));
    r->set_span_id(m.id(8));
  }
}

std::string make_one(const GeneratorOptions& o, std::uint64_t seed) {
  Maker m(o, seed);
  const int n = o.items_per_request;
  const int resources = o.resources_per_request;
  switch (o.signal) {
    case otlp::Signal::kTraces: {
      otlp::TracesRequest req;
      for (int r = 0; r < resources; ++r) {
        trace::ResourceSpans* rs = req.add_resource_spans();
        m.resource(rs->mutable_resource(), r);
        trace::ScopeSpans* ss = rs->add_scope_spans();
        m.scope(ss->mutable_scope());
        fill_spans(m, ss, share(n, resources, r));
      }
      return req.SerializeAsString();
    }
    case otlp::Signal::kMetrics: {
      otlp::MetricsRequest req;
      for (int r = 0; r < resources; ++r) {
        metrics::ResourceMetrics* rm = req.add_resource_metrics();
        m.resource(rm->mutable_resource(), r);
        metrics::ScopeMetrics* sm = rm->add_scope_metrics();
        m.scope(sm->mutable_scope());
        fill_metrics(m, sm, share(n, resources, r));
      }
      return req.SerializeAsString();
    }
    case otlp::Signal::kLogs: {
      otlp::LogsRequest req;
      for (int r = 0; r < resources; ++r) {
        logs::ResourceLogs* rl = req.add_resource_logs();
        m.resource(rl->mutable_resource(), r);
        logs::ScopeLogs* sl = rl->add_scope_logs();
        m.scope(sl->mutable_scope());
        fill_logs(m, sl, share(n, resources, r));
      }
      return req.SerializeAsString();
    }
    case otlp::Signal::kProfiles:
      break;
  }
  return {};
}

}  // namespace

absl::Status GeneratorOptions::validate() const {
  if (signal == otlp::Signal::kProfiles) {
    return absl::InvalidArgumentError("signal: profiles are not generated (traces, metrics, logs)");
  }
  if (items_per_request < 1) return absl::InvalidArgumentError("items per request must be >= 1");
  if (resources_per_request < 1 || resources_per_request > items_per_request) {
    return absl::InvalidArgumentError("resources per request must be 1..items per request");
  }
  if (attributes_per_item < 0) return absl::InvalidArgumentError("attributes must be >= 0");
  if (attribute_value_bytes < 0 || log_body_bytes < 0) {
    return absl::InvalidArgumentError("value sizes must be >= 0");
  }
  if (points_per_metric < 1) return absl::InvalidArgumentError("points per metric must be >= 1");
  if (variants < 1) return absl::InvalidArgumentError("variants must be >= 1");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<GeneratedRequest>> generate_requests(const GeneratorOptions& options) {
  if (absl::Status s = options.validate(); !s.ok()) return s;
  std::vector<GeneratedRequest> out;
  out.reserve(static_cast<std::size_t>(options.variants));
  for (int v = 0; v < options.variants; ++v) {
    GeneratedRequest g;
    g.body = make_one(options, options.seed * 1'000'003 + static_cast<std::uint64_t>(v));
    // The count the backend will see, taken the way a collector counts.
    absl::StatusOr<std::uint64_t> items = otlp::wire_count_items(options.signal, g.body);
    if (!items.ok()) return items.status();
    if (*items != static_cast<std::uint64_t>(options.items_per_request)) {
      return absl::InternalError(
          absl::StrCat("generated ", *items, " items, wanted ", options.items_per_request));
    }
    g.items = *items;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace loadgen
