#include "otlp/testing/random_requests.h"

#include <limits>
#include <random>
#include <string>

namespace otlp::testing {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace resource = opentelemetry::proto::resource::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace profiles = opentelemetry::proto::profiles::v1development;

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  uint64_t u64() { return engine_(); }
  int range(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine_); }
  bool chance(int percent) { return range(0, 99) < percent; }

  std::string bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(u64() & 0xff);
    return out;
  }

  // Mostly ASCII, with JSON-special and multi-byte characters mixed in.
  std::string text(int max_len = 12) {
    static constexpr const char* kPieces[] = {"a",  "b",  "z",  "0",  "9",    " ", ".",    "_",
                                              "\"", "\\", "\n", "\t", "\x01", "é", "日本", "🙂"};
    std::string out;
    int n = range(0, max_len);
    for (int i = 0; i < n; ++i) {
      int pick = chance(85) ? range(0, 7) : range(0, 15);
      out += kPieces[pick];
    }
    return out;
  }

  double number() {
    switch (range(0, 9)) {
      case 0:
        return std::numeric_limits<double>::quiet_NaN();
      case 1:
        return std::numeric_limits<double>::infinity();
      case 2:
        return -std::numeric_limits<double>::infinity();
      case 3:
        return 0.0;
      case 4:
        return -0.0;
      case 5:
        return static_cast<double>(range(-1000, 1000));
      case 6:
        return std::numeric_limits<double>::max();
      case 7:
        return std::numeric_limits<double>::denorm_min();
      default:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(engine_);
    }
  }

  int64_t int64() {
    switch (range(0, 4)) {
      case 0:
        return std::numeric_limits<int64_t>::min();
      case 1:
        return std::numeric_limits<int64_t>::max();
      case 2:
        return 0;
      default:
        return static_cast<int64_t>(u64());
    }
  }

  void any_value(common::AnyValue& v, int depth) {
    int kind = range(0, depth > 1 ? 8 : 6);
    switch (kind) {
      case 0:
        v.set_string_value(text());
        break;
      case 1:
        v.set_bool_value(chance(50));
        break;
      case 2:
        v.set_int_value(int64());
        break;
      case 3:
        v.set_double_value(number());
        break;
      case 4:
        v.set_bytes_value(bytes(range(0, 9)));
        break;
      case 5:
        break;  // the empty AnyValue
      case 6:
        v.set_string_value("");
        break;
      case 7: {
        common::ArrayValue* array = v.mutable_array_value();
        for (int i = range(0, 3); i > 0; --i) any_value(*array->add_values(), depth - 1);
        break;
      }
      default: {
        common::KeyValueList* list = v.mutable_kvlist_value();
        for (int i = range(0, 3); i > 0; --i) {
          common::KeyValue* kv = list->add_values();
          kv->set_key(text(6));
          any_value(*kv->mutable_value(), depth - 1);
        }
      }
    }
  }

  void attributes(google::protobuf::RepeatedPtrField<common::KeyValue>& out, int n, int depth) {
    for (int i = 0; i < n; ++i) {
      common::KeyValue* kv = out.Add();
      kv->set_key("attr." + std::to_string(i) + text(4));
      if (chance(95)) any_value(*kv->mutable_value(), depth);
    }
  }

  void resource(resource::Resource& r, const RandomShape& shape) {
    attributes(*r.mutable_attributes(), range(0, shape.attributes), shape.max_any_value_depth);
    if (chance(20)) r.set_dropped_attributes_count(range(1, 5));
    if (chance(30)) {
      common::EntityRef* ref = r.add_entity_refs();
      ref->set_type("service");
      ref->set_schema_url("https://opentelemetry.io/schemas/1.30.0");
      ref->add_id_keys("service.name");
      ref->add_description_keys("service.version");
    }
  }

  void scope(common::InstrumentationScope& s, const RandomShape& shape) {
    s.set_name("lib." + text(6));
    if (chance(70)) s.set_version("1." + std::to_string(range(0, 9)));
    attributes(*s.mutable_attributes(), range(0, 2), shape.max_any_value_depth);
    if (chance(10)) s.set_dropped_attributes_count(1);
  }

  uint64_t time() { return 1700000000000000000ull + (u64() % 1000000000000ull); }

 private:
  std::mt19937_64 engine_;
};

void fill_span(Random& rnd, trace::Span& span, const RandomShape& shape) {
  span.set_trace_id(rnd.bytes(16));
  span.set_span_id(rnd.bytes(8));
  if (rnd.chance(70)) span.set_parent_span_id(rnd.bytes(8));
  if (rnd.chance(30)) span.set_trace_state("k=v" + std::to_string(rnd.range(0, 9)));
  span.set_flags(rnd.chance(50) ? 0x301 : 0);
  span.set_name(rnd.text());
  span.set_kind(static_cast<trace::Span::SpanKind>(rnd.range(0, 5)));
  span.set_start_time_unix_nano(rnd.time());
  span.set_end_time_unix_nano(span.start_time_unix_nano() + rnd.range(0, 1000000));
  rnd.attributes(*span.mutable_attributes(), shape.attributes, shape.max_any_value_depth);
  if (rnd.chance(10)) span.set_dropped_attributes_count(rnd.range(1, 3));
  for (int i = rnd.range(0, 2); i > 0; --i) {
    trace::Span::Event* e = span.add_events();
    e->set_time_unix_nano(rnd.time());
    e->set_name(rnd.text());
    rnd.attributes(*e->mutable_attributes(), rnd.range(0, 2), shape.max_any_value_depth);
  }
  if (rnd.chance(20)) span.set_dropped_events_count(1);
  for (int i = rnd.range(0, 1); i > 0; --i) {
    trace::Span::Link* l = span.add_links();
    l->set_trace_id(rnd.bytes(16));
    l->set_span_id(rnd.bytes(8));
    l->set_flags(0x100);
    rnd.attributes(*l->mutable_attributes(), rnd.range(0, 2), shape.max_any_value_depth);
  }
  if (rnd.chance(60)) {
    span.mutable_status()->set_code(static_cast<trace::Status::StatusCode>(rnd.range(0, 2)));
    if (rnd.chance(50)) span.mutable_status()->set_message(rnd.text());
  }
}

void fill_exemplars(Random& rnd, google::protobuf::RepeatedPtrField<metrics::Exemplar>& out,
                    const RandomShape& shape) {
  for (int i = rnd.range(0, 1); i > 0; --i) {
    metrics::Exemplar* e = out.Add();
    e->set_time_unix_nano(rnd.time());
    if (rnd.chance(50)) {
      e->set_as_double(rnd.number());
    } else {
      e->set_as_int(rnd.int64());
    }
    e->set_trace_id(rnd.bytes(16));
    e->set_span_id(rnd.bytes(8));
    rnd.attributes(*e->mutable_filtered_attributes(), 1, shape.max_any_value_depth);
  }
}

template <class Point>
void fill_point_common(Random& rnd, Point& p, const RandomShape& shape) {
  rnd.attributes(*p.mutable_attributes(), rnd.range(0, shape.attributes),
                 shape.max_any_value_depth);
  if (rnd.chance(70)) p.set_start_time_unix_nano(rnd.time());
  p.set_time_unix_nano(rnd.time());
  if (rnd.chance(10)) p.set_flags(1);
}

void fill_metric(Random& rnd, metrics::Metric& m, const RandomShape& shape) {
  m.set_name("metric." + rnd.text(8));
  if (rnd.chance(50)) m.set_description(rnd.text());
  if (rnd.chance(50)) m.set_unit("ms");
  if (rnd.chance(10)) rnd.attributes(*m.mutable_metadata(), 1, 1);
  const int points = shape.points_per_metric;
  auto temporality = [&] { return static_cast<metrics::AggregationTemporality>(rnd.range(0, 2)); };
  switch (rnd.range(0, 5)) {
    case 0:
      for (int i = 0; i < points; ++i) {
        auto* p = m.mutable_gauge()->add_data_points();
        fill_point_common(rnd, *p, shape);
        rnd.chance(50) ? p->set_as_double(rnd.number()) : p->set_as_int(rnd.int64());
        fill_exemplars(rnd, *p->mutable_exemplars(), shape);
      }
      break;
    case 1:
      m.mutable_sum()->set_aggregation_temporality(temporality());
      m.mutable_sum()->set_is_monotonic(rnd.chance(50));
      for (int i = 0; i < points; ++i) {
        auto* p = m.mutable_sum()->add_data_points();
        fill_point_common(rnd, *p, shape);
        rnd.chance(50) ? p->set_as_double(rnd.number()) : p->set_as_int(rnd.int64());
      }
      break;
    case 2:
      m.mutable_histogram()->set_aggregation_temporality(temporality());
      for (int i = 0; i < points; ++i) {
        auto* p = m.mutable_histogram()->add_data_points();
        fill_point_common(rnd, *p, shape);
        p->set_count(rnd.u64());
        if (rnd.chance(60)) p->set_sum(rnd.number());
        if (rnd.chance(50)) p->set_min(rnd.chance(20) ? 0.0 : rnd.number());
        if (rnd.chance(50)) p->set_max(rnd.number());
        for (int b = rnd.range(0, 4); b > 0; --b) {
          p->add_bucket_counts(rnd.u64());
          p->add_explicit_bounds(rnd.number());
        }
        p->add_bucket_counts(0);
        fill_exemplars(rnd, *p->mutable_exemplars(), shape);
      }
      break;
    case 3:
      m.mutable_exponential_histogram()->set_aggregation_temporality(temporality());
      for (int i = 0; i < points; ++i) {
        auto* p = m.mutable_exponential_histogram()->add_data_points();
        fill_point_common(rnd, *p, shape);
        p->set_count(rnd.u64());
        if (rnd.chance(60)) p->set_sum(rnd.number());
        p->set_scale(rnd.range(-10, 20));
        p->set_zero_count(rnd.u64() % 100);
        if (rnd.chance(50)) p->set_zero_threshold(1e-9);
        p->mutable_positive()->set_offset(rnd.range(-5, 5));
        for (int b = rnd.range(0, 4); b > 0; --b) p->mutable_positive()->add_bucket_counts(b);
        if (rnd.chance(50)) p->mutable_negative()->set_offset(-1);
        if (rnd.chance(50)) p->set_min(-1.5);
        if (rnd.chance(50)) p->set_max(0.0);
      }
      break;
    case 4:
      for (int i = 0; i < points; ++i) {
        auto* p = m.mutable_summary()->add_data_points();
        fill_point_common(rnd, *p, shape);
        p->set_count(rnd.u64());
        p->set_sum(rnd.number());
        for (int q = rnd.range(0, 3); q > 0; --q) {
          auto* v = p->add_quantile_values();
          v->set_quantile(q / 4.0);
          v->set_value(rnd.number());
        }
      }
      break;
    default:
      break;  // a metric with no data
  }
}

void fill_log(Random& rnd, logs::LogRecord& r, const RandomShape& shape) {
  r.set_time_unix_nano(rnd.time());
  r.set_observed_time_unix_nano(rnd.time());
  r.set_severity_number(static_cast<logs::SeverityNumber>(rnd.range(0, 24)));
  if (rnd.chance(60)) r.set_severity_text("INFO");
  if (rnd.chance(90)) rnd.any_value(*r.mutable_body(), shape.max_any_value_depth);
  rnd.attributes(*r.mutable_attributes(), shape.attributes, shape.max_any_value_depth);
  if (rnd.chance(10)) r.set_dropped_attributes_count(2);
  if (rnd.chance(50)) {
    r.set_flags(1);
    r.set_trace_id(rnd.bytes(16));
    r.set_span_id(rnd.bytes(8));
  }
  if (rnd.chance(30)) r.set_event_name("event." + rnd.text(5));
}

void fill_dictionary(Random& rnd, profiles::ProfilesDictionary& d) {
  // Entry 0 of every table is the zero value.
  d.add_mapping_table();
  d.add_location_table();
  d.add_function_table();
  d.add_link_table();
  d.add_string_table("");
  d.add_attribute_table();
  d.add_stack_table();
  for (int i = 1; i <= 6; ++i) d.add_string_table("str" + std::to_string(i) + rnd.text(3));
  for (int i = 0; i < 2; ++i) {
    auto* m = d.add_mapping_table();
    m->set_memory_start(0x400000 * (i + 1));
    m->set_memory_limit(0x500000 * (i + 1));
    m->set_filename_strindex(rnd.range(1, 6));
  }
  for (int i = 0; i < 3; ++i) {
    auto* f = d.add_function_table();
    f->set_name_strindex(rnd.range(1, 6));
    f->set_system_name_strindex(rnd.range(0, 6));
    f->set_filename_strindex(rnd.range(1, 6));
    f->set_start_line(rnd.range(1, 500));
  }
  for (int i = 0; i < 4; ++i) {
    auto* l = d.add_location_table();
    l->set_mapping_index(rnd.range(1, 2));
    l->set_address(rnd.u64() % 0x100000);
    auto* line = l->add_lines();
    line->set_function_index(rnd.range(1, 3));
    line->set_line(rnd.range(1, 1000));
    if (rnd.chance(30)) line->set_column(rnd.range(1, 80));
  }
  for (int i = 0; i < 2; ++i) {
    auto* l = d.add_link_table();
    l->set_trace_id(rnd.bytes(16));
    l->set_span_id(rnd.bytes(8));
  }
  for (int i = 0; i < 3; ++i) {
    auto* a = d.add_attribute_table();
    a->set_key_strindex(rnd.range(1, 6));
    if (rnd.chance(50)) {
      a->mutable_value()->set_string_value_strindex(rnd.range(1, 6));
    } else {
      a->mutable_value()->set_int_value(rnd.range(0, 100));
    }
    if (rnd.chance(30)) a->set_unit_strindex(rnd.range(1, 6));
  }
  for (int i = 0; i < 3; ++i) {
    auto* s = d.add_stack_table();
    for (int k = rnd.range(1, 4); k > 0; --k) s->add_location_indices(rnd.range(1, 4));
  }
}

void fill_profile(Random& rnd, profiles::Profile& p, const RandomShape& shape) {
  p.mutable_sample_type()->set_type_strindex(rnd.range(1, 6));
  p.mutable_sample_type()->set_unit_strindex(rnd.range(1, 6));
  p.set_time_unix_nano(rnd.time());
  p.set_duration_nano(rnd.u64() % 1000000000);
  if (rnd.chance(50)) {
    p.mutable_period_type()->set_type_strindex(1);
    p.set_period(10000000);
  }
  p.set_profile_id(rnd.bytes(16));
  if (rnd.chance(20)) p.add_attribute_indices(rnd.range(1, 3));
  if (rnd.chance(10)) {
    p.set_original_payload_format("pprof");
    p.set_original_payload(rnd.bytes(12));
  }
  for (int i = 0; i < shape.samples_per_profile; ++i) {
    auto* s = p.add_samples();
    s->set_stack_index(rnd.range(1, 3));
    if (rnd.chance(30)) s->add_attribute_indices(rnd.range(1, 3));
    if (rnd.chance(30)) s->set_link_index(rnd.range(1, 2));
    s->add_values(rnd.range(1, 100000));
    if (rnd.chance(30)) s->add_timestamps_unix_nano(rnd.time());
  }
}

}  // namespace

TracesRequest random_traces(uint64_t seed, const RandomShape& shape) {
  Random rnd(seed);
  TracesRequest request;
  for (int r = 0; r < shape.resources; ++r) {
    auto* rs = request.add_resource_spans();
    if (rnd.chance(90)) rnd.resource(*rs->mutable_resource(), shape);
    if (rnd.chance(50)) rs->set_schema_url("https://opentelemetry.io/schemas/1.30.0");
    for (int s = 0; s < shape.scopes_per_resource; ++s) {
      auto* ss = rs->add_scope_spans();
      if (rnd.chance(90)) rnd.scope(*ss->mutable_scope(), shape);
      for (int i = 0; i < shape.items_per_scope; ++i) fill_span(rnd, *ss->add_spans(), shape);
    }
  }
  return request;
}

MetricsRequest random_metrics(uint64_t seed, const RandomShape& shape) {
  Random rnd(seed);
  MetricsRequest request;
  for (int r = 0; r < shape.resources; ++r) {
    auto* rm = request.add_resource_metrics();
    if (rnd.chance(90)) rnd.resource(*rm->mutable_resource(), shape);
    for (int s = 0; s < shape.scopes_per_resource; ++s) {
      auto* sm = rm->add_scope_metrics();
      if (rnd.chance(90)) rnd.scope(*sm->mutable_scope(), shape);
      if (rnd.chance(30)) sm->set_schema_url("https://example.com/schema");
      for (int i = 0; i < shape.items_per_scope; ++i) fill_metric(rnd, *sm->add_metrics(), shape);
    }
  }
  return request;
}

LogsRequest random_logs(uint64_t seed, const RandomShape& shape) {
  Random rnd(seed);
  LogsRequest request;
  for (int r = 0; r < shape.resources; ++r) {
    auto* rl = request.add_resource_logs();
    if (rnd.chance(90)) rnd.resource(*rl->mutable_resource(), shape);
    for (int s = 0; s < shape.scopes_per_resource; ++s) {
      auto* sl = rl->add_scope_logs();
      if (rnd.chance(90)) rnd.scope(*sl->mutable_scope(), shape);
      for (int i = 0; i < shape.items_per_scope; ++i) fill_log(rnd, *sl->add_log_records(), shape);
    }
  }
  return request;
}

ProfilesRequest random_profiles(uint64_t seed, const RandomShape& shape) {
  Random rnd(seed);
  ProfilesRequest request;
  fill_dictionary(rnd, *request.mutable_dictionary());
  for (int r = 0; r < shape.resources; ++r) {
    auto* rp = request.add_resource_profiles();
    if (rnd.chance(90)) rnd.resource(*rp->mutable_resource(), shape);
    for (int s = 0; s < shape.scopes_per_resource; ++s) {
      auto* sp = rp->add_scope_profiles();
      if (rnd.chance(90)) rnd.scope(*sp->mutable_scope(), shape);
      for (int i = 0; i < shape.items_per_scope; ++i) {
        fill_profile(rnd, *sp->add_profiles(), shape);
      }
    }
  }
  return request;
}

std::unique_ptr<google::protobuf::Message> random_request(Signal signal, uint64_t seed,
                                                          const RandomShape& shape) {
  switch (signal) {
    case Signal::kTraces:
      return std::make_unique<TracesRequest>(random_traces(seed, shape));
    case Signal::kMetrics:
      return std::make_unique<MetricsRequest>(random_metrics(seed, shape));
    case Signal::kLogs:
      return std::make_unique<LogsRequest>(random_logs(seed, shape));
    case Signal::kProfiles:
      return std::make_unique<ProfilesRequest>(random_profiles(seed, shape));
  }
  return nullptr;
}

TracesRequest realistic_traces(int spans, int attributes) {
  Random rnd(42);
  TracesRequest request;
  auto* rs = request.add_resource_spans();
  auto add = [](auto* attrs, const std::string& key, const std::string& value) {
    auto* kv = attrs->Add();
    kv->set_key(key);
    kv->mutable_value()->set_string_value(value);
  };
  add(rs->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  add(rs->mutable_resource()->mutable_attributes(), "service.version", "2.4.1");
  add(rs->mutable_resource()->mutable_attributes(), "host.name", "ip-10-0-3-17");
  add(rs->mutable_resource()->mutable_attributes(), "telemetry.sdk.language", "cpp");
  rs->set_schema_url("https://opentelemetry.io/schemas/1.30.0");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.contrib.http");
  ss->mutable_scope()->set_version("1.31.0");
  const std::string trace_id = rnd.bytes(16);
  for (int i = 0; i < spans; ++i) {
    trace::Span* span = ss->add_spans();
    span->set_trace_id(i % 10 == 0 ? rnd.bytes(16) : trace_id);
    span->set_span_id(rnd.bytes(8));
    if (i % 10 != 0) span->set_parent_span_id(rnd.bytes(8));
    span->set_name(i % 2 == 0 ? "GET /api/v1/cart/{id}" : "SELECT orders");
    span->set_kind(i % 2 == 0 ? trace::Span::SPAN_KIND_SERVER : trace::Span::SPAN_KIND_CLIENT);
    span->set_flags(0x101);
    span->set_start_time_unix_nano(1700000000000000000ull + i * 1000000ull);
    span->set_end_time_unix_nano(span->start_time_unix_nano() + 2500000ull + i);
    for (int a = 0; a < attributes; ++a) {
      auto* kv = span->add_attributes();
      switch (a % 3) {
        case 0:
          kv->set_key("http.request.header." + std::to_string(a));
          kv->mutable_value()->set_string_value("value-" + std::to_string(i * 31 + a) +
                                                "-abcdefghij");
          break;
        case 1:
          kv->set_key("http.response.status_code." + std::to_string(a));
          kv->mutable_value()->set_int_value(200 + a);
          break;
        default:
          kv->set_key("feature.enabled." + std::to_string(a));
          kv->mutable_value()->set_bool_value(a % 2 == 0);
      }
    }
    if (i % 5 == 0) {
      auto* e = span->add_events();
      e->set_name("exception");
      e->set_time_unix_nano(span->start_time_unix_nano() + 1000);
      add(e->mutable_attributes(), "exception.message", "connection reset by peer");
    }
    span->mutable_status()->set_code(i % 17 == 0 ? trace::Status::STATUS_CODE_ERROR
                                                 : trace::Status::STATUS_CODE_UNSET);
  }
  return request;
}

}  // namespace otlp::testing
