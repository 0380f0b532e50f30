// Signal-level views of decoded export requests: counting items, iterating
// resources and scopes, splitting into bounded requests, and merging.
//
// Items are what batching counts: spans; metric data points (of every metric
// type); log records; profile samples.
//
// Contract:
//  - split() consumes its request and returns requests of at most max_items
//    items each (max_items == 0 means "no limit": one request). Every output
//    request keeps the resource → scope grouping of the input: an item stays
//    under a copy of its resource and scope (with their schema URLs), and the
//    order of items is kept. A metric with more data points than fit is cut
//    into several metrics with the same name, description, unit, metadata,
//    kind, temporality and monotonicity; a profile with too many samples is cut
//    the same way, and every profiles request carries the whole dictionary.
//    Resources and scopes without items are kept. Totals are preserved:
//    the sum of count_items() over the outputs equals the input's.
//  - merge() moves everything of `from` into `into`, after `into`'s own
//    resources. For profiles it appends `from`'s dictionary to `into`'s and
//    rewrites every index of `from` so it still points at the same entries.
//    (Entry 0 of each table is the spec's zero value, shared, not copied.)
//  - Requests are plain protobuf messages: thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/signal.h"

namespace otlp {

// Number of items in a request; see above for what an item is.
uint64_t count_items(const TracesRequest& request);
uint64_t count_items(const MetricsRequest& request);
uint64_t count_items(const LogsRequest& request);
uint64_t count_items(const ProfilesRequest& request);
uint64_t count_data_points(const opentelemetry::proto::metrics::v1::Metric& metric);
// Any Export*ServiceRequest; InvalidArgument for other message types.
absl::StatusOr<uint64_t> count_items(const google::protobuf::Message& request);

// The resource-level and scope-level lists, for range-for iteration:
//   for (const auto& rs : resources(request))
//     for (const auto& ss : scopes(rs)) … items(ss) …
inline const auto& resources(const TracesRequest& r) { return r.resource_spans(); }
inline const auto& resources(const MetricsRequest& r) { return r.resource_metrics(); }
inline const auto& resources(const LogsRequest& r) { return r.resource_logs(); }
inline const auto& resources(const ProfilesRequest& r) { return r.resource_profiles(); }
inline const auto& scopes(const opentelemetry::proto::trace::v1::ResourceSpans& r) {
  return r.scope_spans();
}
inline const auto& scopes(const opentelemetry::proto::metrics::v1::ResourceMetrics& r) {
  return r.scope_metrics();
}
inline const auto& scopes(const opentelemetry::proto::logs::v1::ResourceLogs& r) {
  return r.scope_logs();
}
inline const auto& scopes(
    const opentelemetry::proto::profiles::v1development::ResourceProfiles& r) {
  return r.scope_profiles();
}
inline const auto& items(const opentelemetry::proto::trace::v1::ScopeSpans& s) { return s.spans(); }
inline const auto& items(const opentelemetry::proto::metrics::v1::ScopeMetrics& s) {
  return s.metrics();
}
inline const auto& items(const opentelemetry::proto::logs::v1::ScopeLogs& s) {
  return s.log_records();
}
inline const auto& items(const opentelemetry::proto::profiles::v1development::ScopeProfiles& s) {
  return s.profiles();
}

// Calls fn(resource_x, scope_x) for every scope of every resource, in order.
template <class Request, class Fn>
void for_each_scope(const Request& request, Fn&& fn) {
  for (const auto& resource : resources(request)) {
    for (const auto& scope : scopes(resource)) fn(resource, scope);
  }
}

std::vector<TracesRequest> split(TracesRequest&& request, uint64_t max_items);
std::vector<MetricsRequest> split(MetricsRequest&& request, uint64_t max_items);
std::vector<LogsRequest> split(LogsRequest&& request, uint64_t max_items);
std::vector<ProfilesRequest> split(ProfilesRequest&& request, uint64_t max_items);

void merge(TracesRequest& into, TracesRequest&& from);
void merge(MetricsRequest& into, MetricsRequest&& from);
void merge(LogsRequest& into, LogsRequest&& from);
void merge(ProfilesRequest& into, ProfilesRequest&& from);

}  // namespace otlp
