// One split algorithm for all signals, parameterised by a Layout that names a
// signal's resource / scope / item types and how to copy their headers. Items
// have a weight (1 for spans and logs; data points for a metric; samples for a
// profile); a heavy item is cut into pieces with move_range().

#include "otlp/signals.h"

#include <algorithm>

namespace otlp {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace profiles = opentelemetry::proto::profiles::v1development;

template <class Resource>
void copy_resource_header(const Resource& from, Resource& to) {
  if (from.has_resource()) *to.mutable_resource() = from.resource();
  to.set_schema_url(from.schema_url());
}

template <class Scope>
void copy_scope_header(const Scope& from, Scope& to) {
  if (from.has_scope()) *to.mutable_scope() = from.scope();
  to.set_schema_url(from.schema_url());
}

// Moves elements [begin, end) of `from` to the end of `to`.
template <class T>
void move_elements(google::protobuf::RepeatedPtrField<T>& from, uint64_t begin, uint64_t end,
                   google::protobuf::RepeatedPtrField<T>& to) {
  to.Reserve(static_cast<int>(to.size() + (end - begin)));
  for (uint64_t i = begin; i < end; ++i) *to.Add() = std::move(from[static_cast<int>(i)]);
}

struct TracesLayout {
  using Request = TracesRequest;
  using Resource = trace::ResourceSpans;
  using Scope = trace::ScopeSpans;
  using Item = trace::Span;
  static auto* resources(Request& r) { return r.mutable_resource_spans(); }
  static auto* scopes(Resource& r) { return r.mutable_scope_spans(); }
  static auto* items(Scope& s) { return s.mutable_spans(); }
  static void copy_request_header(const Request&, Request&) {}
  static uint64_t weight(const Item&) { return 1; }
  static void move_range(Item& from, uint64_t, uint64_t, Item& to) { to = std::move(from); }
};

struct LogsLayout {
  using Request = LogsRequest;
  using Resource = logs::ResourceLogs;
  using Scope = logs::ScopeLogs;
  using Item = logs::LogRecord;
  static auto* resources(Request& r) { return r.mutable_resource_logs(); }
  static auto* scopes(Resource& r) { return r.mutable_scope_logs(); }
  static auto* items(Scope& s) { return s.mutable_log_records(); }
  static void copy_request_header(const Request&, Request&) {}
  static uint64_t weight(const Item&) { return 1; }
  static void move_range(Item& from, uint64_t, uint64_t, Item& to) { to = std::move(from); }
};

struct MetricsLayout {
  using Request = MetricsRequest;
  using Resource = metrics::ResourceMetrics;
  using Scope = metrics::ScopeMetrics;
  using Item = metrics::Metric;
  static auto* resources(Request& r) { return r.mutable_resource_metrics(); }
  static auto* scopes(Resource& r) { return r.mutable_scope_metrics(); }
  static auto* items(Scope& s) { return s.mutable_metrics(); }
  static void copy_request_header(const Request&, Request&) {}
  static uint64_t weight(const Item& metric) { return count_data_points(metric); }

  // `to` becomes a metric like `from` holding data points [begin, end).
  static void move_range(Item& from, uint64_t begin, uint64_t end, Item& to) {
    to.set_name(from.name());
    to.set_description(from.description());
    to.set_unit(from.unit());
    *to.mutable_metadata() = from.metadata();
    switch (from.data_case()) {
      case Item::kGauge:
        move_elements(*from.mutable_gauge()->mutable_data_points(), begin, end,
                      *to.mutable_gauge()->mutable_data_points());
        break;
      case Item::kSum:
        to.mutable_sum()->set_aggregation_temporality(from.sum().aggregation_temporality());
        to.mutable_sum()->set_is_monotonic(from.sum().is_monotonic());
        move_elements(*from.mutable_sum()->mutable_data_points(), begin, end,
                      *to.mutable_sum()->mutable_data_points());
        break;
      case Item::kHistogram:
        to.mutable_histogram()->set_aggregation_temporality(
            from.histogram().aggregation_temporality());
        move_elements(*from.mutable_histogram()->mutable_data_points(), begin, end,
                      *to.mutable_histogram()->mutable_data_points());
        break;
      case Item::kExponentialHistogram:
        to.mutable_exponential_histogram()->set_aggregation_temporality(
            from.exponential_histogram().aggregation_temporality());
        move_elements(*from.mutable_exponential_histogram()->mutable_data_points(), begin, end,
                      *to.mutable_exponential_histogram()->mutable_data_points());
        break;
      case Item::kSummary:
        move_elements(*from.mutable_summary()->mutable_data_points(), begin, end,
                      *to.mutable_summary()->mutable_data_points());
        break;
      case Item::DATA_NOT_SET:
        break;
    }
  }
};

struct ProfilesLayout {
  using Request = ProfilesRequest;
  using Resource = profiles::ResourceProfiles;
  using Scope = profiles::ScopeProfiles;
  using Item = profiles::Profile;
  static auto* resources(Request& r) { return r.mutable_resource_profiles(); }
  static auto* scopes(Resource& r) { return r.mutable_scope_profiles(); }
  static auto* items(Scope& s) { return s.mutable_profiles(); }
  // Indices point into the dictionary: every piece needs all of it.
  static void copy_request_header(const Request& from, Request& to) {
    if (from.has_dictionary()) *to.mutable_dictionary() = from.dictionary();
  }
  static uint64_t weight(const Item& profile) { return profile.samples_size(); }

  static void move_range(Item& from, uint64_t begin, uint64_t end, Item& to) {
    google::protobuf::RepeatedPtrField<profiles::Sample> samples;
    samples.Swap(from.mutable_samples());
    to = from;  // every field but the samples
    samples.Swap(from.mutable_samples());
    move_elements(*from.mutable_samples(), begin, end, *to.mutable_samples());
  }
};

template <class L>
uint64_t count_request(const typename L::Request& request) {
  uint64_t n = 0;
  for (const auto& resource : resources(request)) {
    for (const auto& scope : scopes(resource)) {
      for (const auto& item : items(scope)) n += L::weight(item);
    }
  }
  return n;
}

template <class L>
std::vector<typename L::Request> split_request(typename L::Request&& request, uint64_t max_items) {
  using Request = typename L::Request;
  std::vector<Request> out;
  const uint64_t total = count_request<L>(request);
  if (max_items == 0 || total <= max_items) {
    out.push_back(std::move(request));
    return out;
  }
  // Every request but the last is full, so this is enough room: `out` never
  // moves its elements while we fill them through the pointers below.
  out.reserve(total / max_items + 2);
  Request* current = nullptr;
  uint64_t used = 0;
  typename L::Resource* out_resource = nullptr;
  typename L::Scope* out_scope = nullptr;
  auto start_request = [&] {
    current = &out.emplace_back();
    L::copy_request_header(request, *current);
    used = 0;
    out_resource = nullptr;
    out_scope = nullptr;
  };

  for (auto& resource : *L::resources(request)) {
    out_resource = nullptr;
    auto ensure_resource = [&] {
      if (current == nullptr) start_request();
      if (out_resource == nullptr) {
        out_resource = L::resources(*current)->Add();
        copy_resource_header(resource, *out_resource);
        out_scope = nullptr;
      }
    };
    if (L::scopes(resource)->empty()) ensure_resource();
    for (auto& scope : *L::scopes(resource)) {
      out_scope = nullptr;
      auto ensure_scope = [&] {
        ensure_resource();
        if (out_scope == nullptr) {
          out_scope = L::scopes(*out_resource)->Add();
          copy_scope_header(scope, *out_scope);
        }
      };
      if (L::items(scope)->empty()) ensure_scope();
      for (auto& item : *L::items(scope)) {
        const uint64_t weight = L::weight(item);
        uint64_t begin = 0;
        do {
          // A full request takes no more weight; weightless items still fit.
          if (current != nullptr && used >= max_items && weight > begin) start_request();
          ensure_scope();
          const uint64_t take = std::min(max_items - used, weight - begin);
          if (begin == 0 && take == weight) {
            *L::items(*out_scope)->Add() = std::move(item);
          } else {
            L::move_range(item, begin, begin + take, *L::items(*out_scope)->Add());
          }
          used += take;
          begin += take;
        } while (begin < weight);
      }
    }
  }
  return out;
}

template <class L>
void merge_requests(typename L::Request& into, typename L::Request&& from) {
  auto* source = L::resources(from);
  auto* target = L::resources(into);
  target->Reserve(target->size() + source->size());
  for (auto& resource : *source) *target->Add() = std::move(resource);
  source->Clear();
}

// ---- profiles dictionary merge -------------------------------------------------

// Maps an index of `from`'s table into the merged table: entry 0 (the zero
// value) is shared, the rest follow `into`'s entries.
struct IndexShift {
  int32_t offset = 0;  // added to every index > 0; never negative
  int32_t operator()(int32_t index) const {
    if (index <= 0) return index;
    // An index past the end of its table (hostile or broken input) must stay past the end of
    // the merged one: saturate instead of overflowing, since no table reaches INT32_MAX.
    const int64_t shifted = int64_t{index} + offset;
    return shifted > INT32_MAX ? INT32_MAX : static_cast<int32_t>(shifted);
  }
};

struct DictionaryShift {
  IndexShift mapping, location, function, link, string, attribute, stack;
};

template <class T>
IndexShift append_table(google::protobuf::RepeatedPtrField<T>& into,
                        google::protobuf::RepeatedPtrField<T>& from) {
  IndexShift shift;
  int first = 0;
  if (!into.empty()) {
    shift.offset = into.size() - 1;
    first = 1;
  }
  for (int i = first; i < from.size(); ++i) *into.Add() = std::move(from[i]);
  return shift;
}

void shift_all(google::protobuf::RepeatedField<int32_t>& indices, IndexShift shift) {
  for (int32_t& index : indices) index = shift(index);
}

void shift_any_value(common::AnyValue& value, IndexShift strings);

void shift_key_values(google::protobuf::RepeatedPtrField<common::KeyValue>& kvs,
                      IndexShift strings) {
  for (common::KeyValue& kv : kvs) {
    if (kv.key_strindex() != 0) kv.set_key_strindex(strings(kv.key_strindex()));
    if (kv.has_value()) shift_any_value(*kv.mutable_value(), strings);
  }
}

// Recursion is bounded by the decode depth limit the value was accepted under.
void shift_any_value(common::AnyValue& value, IndexShift strings) {
  switch (value.value_case()) {
    case common::AnyValue::kStringValueStrindex:
      value.set_string_value_strindex(strings(value.string_value_strindex()));
      break;
    case common::AnyValue::kArrayValue:
      for (common::AnyValue& v : *value.mutable_array_value()->mutable_values()) {
        shift_any_value(v, strings);
      }
      break;
    case common::AnyValue::kKvlistValue:
      shift_key_values(*value.mutable_kvlist_value()->mutable_values(), strings);
      break;
    default:
      break;
  }
}

void shift_value_type(profiles::ValueType& type, IndexShift strings) {
  type.set_type_strindex(strings(type.type_strindex()));
  type.set_unit_strindex(strings(type.unit_strindex()));
}

// Rewrites the indices inside `from`'s own dictionary entries, before they move.
void shift_dictionary(profiles::ProfilesDictionary& d, const DictionaryShift& s) {
  for (auto& m : *d.mutable_mapping_table()) {
    m.set_filename_strindex(s.string(m.filename_strindex()));
    shift_all(*m.mutable_attribute_indices(), s.attribute);
  }
  for (auto& l : *d.mutable_location_table()) {
    l.set_mapping_index(s.mapping(l.mapping_index()));
    for (auto& line : *l.mutable_lines())
      line.set_function_index(s.function(line.function_index()));
    shift_all(*l.mutable_attribute_indices(), s.attribute);
  }
  for (auto& f : *d.mutable_function_table()) {
    f.set_name_strindex(s.string(f.name_strindex()));
    f.set_system_name_strindex(s.string(f.system_name_strindex()));
    f.set_filename_strindex(s.string(f.filename_strindex()));
  }
  for (auto& a : *d.mutable_attribute_table()) {
    a.set_key_strindex(s.string(a.key_strindex()));
    a.set_unit_strindex(s.string(a.unit_strindex()));
    if (a.has_value()) shift_any_value(*a.mutable_value(), s.string);
  }
  for (auto& st : *d.mutable_stack_table()) shift_all(*st.mutable_location_indices(), s.location);
}

void shift_profiles(ProfilesRequest& from, const DictionaryShift& s) {
  for (auto& rp : *from.mutable_resource_profiles()) {
    if (rp.has_resource()) shift_key_values(*rp.mutable_resource()->mutable_attributes(), s.string);
    for (auto& sp : *rp.mutable_scope_profiles()) {
      if (sp.has_scope()) shift_key_values(*sp.mutable_scope()->mutable_attributes(), s.string);
      for (auto& p : *sp.mutable_profiles()) {
        if (p.has_sample_type()) shift_value_type(*p.mutable_sample_type(), s.string);
        if (p.has_period_type()) shift_value_type(*p.mutable_period_type(), s.string);
        shift_all(*p.mutable_attribute_indices(), s.attribute);
        for (auto& sample : *p.mutable_samples()) {
          sample.set_stack_index(s.stack(sample.stack_index()));
          sample.set_link_index(s.link(sample.link_index()));
          shift_all(*sample.mutable_attribute_indices(), s.attribute);
        }
      }
    }
  }
}

IndexShift shift_for(int into_size) { return IndexShift{into_size > 0 ? into_size - 1 : 0}; }

void merge_profiles(ProfilesRequest& into, ProfilesRequest&& from) {
  if (from.has_dictionary()) {
    profiles::ProfilesDictionary& a = *into.mutable_dictionary();
    profiles::ProfilesDictionary& b = *from.mutable_dictionary();
    DictionaryShift s{shift_for(a.mapping_table_size()),  shift_for(a.location_table_size()),
                      shift_for(a.function_table_size()), shift_for(a.link_table_size()),
                      shift_for(a.string_table_size()),   shift_for(a.attribute_table_size()),
                      shift_for(a.stack_table_size())};
    shift_dictionary(b, s);
    shift_profiles(from, s);
    append_table(*a.mutable_mapping_table(), *b.mutable_mapping_table());
    append_table(*a.mutable_location_table(), *b.mutable_location_table());
    append_table(*a.mutable_function_table(), *b.mutable_function_table());
    append_table(*a.mutable_link_table(), *b.mutable_link_table());
    append_table(*a.mutable_string_table(), *b.mutable_string_table());
    append_table(*a.mutable_attribute_table(), *b.mutable_attribute_table());
    append_table(*a.mutable_stack_table(), *b.mutable_stack_table());
  }
  merge_requests<ProfilesLayout>(into, std::move(from));
}

}  // namespace

uint64_t count_data_points(const metrics::Metric& metric) {
  switch (metric.data_case()) {
    case metrics::Metric::kGauge:
      return metric.gauge().data_points_size();
    case metrics::Metric::kSum:
      return metric.sum().data_points_size();
    case metrics::Metric::kHistogram:
      return metric.histogram().data_points_size();
    case metrics::Metric::kExponentialHistogram:
      return metric.exponential_histogram().data_points_size();
    case metrics::Metric::kSummary:
      return metric.summary().data_points_size();
    case metrics::Metric::DATA_NOT_SET:
      break;
  }
  return 0;
}

uint64_t count_items(const TracesRequest& r) { return count_request<TracesLayout>(r); }
uint64_t count_items(const MetricsRequest& r) { return count_request<MetricsLayout>(r); }
uint64_t count_items(const LogsRequest& r) { return count_request<LogsLayout>(r); }
uint64_t count_items(const ProfilesRequest& r) { return count_request<ProfilesLayout>(r); }

absl::StatusOr<uint64_t> count_items(const google::protobuf::Message& request) {
  const google::protobuf::Descriptor* type = request.GetDescriptor();
  if (type == TracesRequest::descriptor()) {
    return count_items(static_cast<const TracesRequest&>(request));
  }
  if (type == MetricsRequest::descriptor()) {
    return count_items(static_cast<const MetricsRequest&>(request));
  }
  if (type == LogsRequest::descriptor()) {
    return count_items(static_cast<const LogsRequest&>(request));
  }
  if (type == ProfilesRequest::descriptor()) {
    return count_items(static_cast<const ProfilesRequest&>(request));
  }
  return absl::InvalidArgumentError("count_items: " + type->full_name() +
                                    " is not an export request");
}

std::vector<TracesRequest> split(TracesRequest&& r, uint64_t n) {
  return split_request<TracesLayout>(std::move(r), n);
}
std::vector<MetricsRequest> split(MetricsRequest&& r, uint64_t n) {
  return split_request<MetricsLayout>(std::move(r), n);
}
std::vector<LogsRequest> split(LogsRequest&& r, uint64_t n) {
  return split_request<LogsLayout>(std::move(r), n);
}
std::vector<ProfilesRequest> split(ProfilesRequest&& r, uint64_t n) {
  return split_request<ProfilesLayout>(std::move(r), n);
}

void merge(TracesRequest& into, TracesRequest&& from) {
  merge_requests<TracesLayout>(into, std::move(from));
}
void merge(MetricsRequest& into, MetricsRequest&& from) {
  merge_requests<MetricsLayout>(into, std::move(from));
}
void merge(LogsRequest& into, LogsRequest&& from) {
  merge_requests<LogsLayout>(into, std::move(from));
}
void merge(ProfilesRequest& into, ProfilesRequest&& from) { merge_profiles(into, std::move(from)); }

}  // namespace otlp
