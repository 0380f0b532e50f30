// The inputs every otlp benchmark uses, built once: a realistic traces request
// (100 spans, 10 attributes each, one resource) and a batch of 10 such
// resources of 10 spans for the resource-level (wire) helpers.
#pragma once

#include <string>

#include "otlp/json_codec.h"
#include "otlp/testing/random_requests.h"

namespace otlp::testing {

struct BenchInputs {
  TracesRequest request = realistic_traces(100, 10);
  std::string binary = request.SerializeAsString();
  std::string json = *encode_json(request);
  TracesRequest batch;
  std::string batch_binary;
  int spans = 100;

  BenchInputs() {
    for (int i = 0; i < 10; ++i) {
      TracesRequest part = realistic_traces(10, 10);
      part.mutable_resource_spans(0)
          ->mutable_resource()
          ->mutable_attributes(0)
          ->mutable_value()
          ->set_string_value("service-" + std::to_string(i));
      batch.MergeFrom(part);
    }
    batch_binary = batch.SerializeAsString();
  }
};

inline const BenchInputs& bench_inputs() {
  static const BenchInputs* inputs = new BenchInputs();
  return *inputs;
}

}  // namespace otlp::testing
