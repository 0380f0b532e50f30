// Deterministic random OTLP requests for tests, benchmarks and fuzz seeds.
// The same seed and shape always give the same request. Requests use every
// AnyValue kind (including empty, bytes, nested arrays and kvlists), every
// metric type, optional fields both present and absent, and a consistent
// profiles dictionary (entry 0 of each table is the zero value).
#pragma once

#include <cstdint>
#include <memory>

#include "otlp/signal.h"

namespace otlp::testing {

struct RandomShape {
  int resources = 3;
  int scopes_per_resource = 2;
  int items_per_scope = 4;  // spans, metrics, log records or profiles
  int attributes = 4;       // per item
  int points_per_metric = 3;
  int samples_per_profile = 5;
  int max_any_value_depth = 3;
};

TracesRequest random_traces(uint64_t seed, const RandomShape& shape = {});
MetricsRequest random_metrics(uint64_t seed, const RandomShape& shape = {});
LogsRequest random_logs(uint64_t seed, const RandomShape& shape = {});
ProfilesRequest random_profiles(uint64_t seed, const RandomShape& shape = {});
std::unique_ptr<google::protobuf::Message> random_request(Signal signal, uint64_t seed,
                                                          const RandomShape& shape = {});

// What a typical SDK sends: one resource, one scope, `spans` server/client
// spans with `attributes` string/int/bool attributes each, ids, timestamps,
// a status and an event on some spans.
TracesRequest realistic_traces(int spans = 100, int attributes = 10);

}  // namespace otlp::testing
