// OTLP/JSON codec cost on the realistic request, next to protobuf's own JSON
// mapping on the same text (JsonStringToMessage reads the hex ids as base64,
// which it accepts since hex digits are base64 characters: same work, other
// bytes).

#include <benchmark/benchmark.h>
#include <google/protobuf/util/json_util.h>

#include "otlp/json_codec.h"
#include "otlp/testing/bench_inputs.h"

namespace otlp {
namespace {

void report(benchmark::State& state, size_t bytes, int items) {
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_JsonDecode_Heap(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    TracesRequest request;
    absl::Status status = decode_json(in.json, request);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.json.size(), in.spans);
}
BENCHMARK(BM_JsonDecode_Heap);

void BM_JsonDecode_Arena(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* request = google::protobuf::Arena::CreateMessage<TracesRequest>(&arena);
    absl::Status status = decode_json(in.json, *request);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.json.size(), in.spans);
}
BENCHMARK(BM_JsonDecode_Arena);

void BM_JsonDecode_ProtobufJsonStringToMessage(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    TracesRequest request;
    auto status = google::protobuf::util::JsonStringToMessage(in.json, &request);
    if (!status.ok()) state.SkipWithError("JsonStringToMessage failed");
    benchmark::DoNotOptimize(status);
  }
  report(state, in.json.size(), in.spans);
}
BENCHMARK(BM_JsonDecode_ProtobufJsonStringToMessage);

void BM_JsonEncode(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode_json_append(in.request, out);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, in.json.size(), in.spans);
}
BENCHMARK(BM_JsonEncode);

void BM_JsonEncode_ProtobufMessageToJsonString(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    std::string out;
    auto status = google::protobuf::util::MessageToJsonString(in.request, &out);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.json.size(), in.spans);
}
BENCHMARK(BM_JsonEncode_ProtobufMessageToJsonString);

}  // namespace
}  // namespace otlp
