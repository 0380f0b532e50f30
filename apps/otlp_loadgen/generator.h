#pragma once
// Synthetic OTLP requests for load generation: traces, metrics or logs shaped like what an SDK
// sends, with the size of each part set by the caller.
//
// Contract:
//  - generate_requests() builds `variants` different requests of one shape (ids, timestamps and
//    attribute values differ; the shape and the item count do not), serialized as binary
//    Export*ServiceRequests. A sender cycles through them, so a backend never sees one body
//    repeated (which would flatter compression and caches).
//  - Every request holds exactly items_per_request items (spans, metric data points or log
//    records), spread over resources_per_request resources (one scope each) as evenly as
//    possible; GeneratedRequest::items is that count, checked with otlp::wire_count_items.
//  - Deterministic: the same options (seed included) give the same bytes, except for
//    timestamps, which are taken from the clock so that backends see current data.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/signal.h"

namespace loadgen {

struct GeneratorOptions {
  otlp::Signal signal = otlp::Signal::kTraces;
  int items_per_request = 100;
  int resources_per_request = 1;
  // Per span, data point or log record; every value is a string of attribute_value_bytes.
  int attributes_per_item = 10;
  int attribute_value_bytes = 16;
  // Log record bodies (logs only).
  int log_body_bytes = 128;
  // Data points per metric (metrics only): a metric with several time series.
  int points_per_metric = 5;
  int variants = 16;
  std::uint64_t seed = 1;

  // Names the offending field.
  absl::Status validate() const;
};

struct GeneratedRequest {
  std::string body;  // binary Export*ServiceRequest
  std::uint64_t items = 0;
};

absl::StatusOr<std::vector<GeneratedRequest>> generate_requests(const GeneratorOptions& options);

}  // namespace loadgen
