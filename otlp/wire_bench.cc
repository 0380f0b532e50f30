// What the wire helpers save: counting and splitting serialized requests
// without decoding them, against decode + count / decode + split + encode.

#include <benchmark/benchmark.h>

#include "otlp/binary_codec.h"
#include "otlp/signals.h"
#include "otlp/testing/bench_inputs.h"
#include "otlp/wire.h"

namespace otlp {
namespace {

void report(benchmark::State& state, size_t bytes, int items) {
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_WireCount(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) benchmark::DoNotOptimize(wire_count_items(Signal::kTraces, in.binary));
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_WireCount);

void BM_DecodeThenCount(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto request = decode_binary_on_arena<TracesRequest>(in.binary, arena);
    benchmark::DoNotOptimize(count_items(**request));
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_DecodeThenCount);

// What a server pays to reserve a decode's memory before decoding (compare BM_DecodeThenCount).
void BM_EstimateDecodedBytes(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) benchmark::DoNotOptimize(estimate_decoded_bytes(Signal::kTraces, in.binary));
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_EstimateDecodedBytes);

// 10 resources × 10 spans cut into requests of at most 20 spans.
void BM_WireSplit(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) benchmark::DoNotOptimize(wire_split(Signal::kTraces, in.batch_binary, 20));
  report(state, in.batch_binary.size(), 100);
}
BENCHMARK(BM_WireSplit);

void BM_DecodeSplitEncode(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    TracesRequest request;
    absl::Status status = decode_binary(in.batch_binary, request);
    std::vector<std::string> out;
    for (const TracesRequest& part : split(std::move(request), 20)) {
      out.push_back(*encode_binary(part));
    }
    benchmark::DoNotOptimize(out);
  }
  report(state, in.batch_binary.size(), 100);
}
BENCHMARK(BM_DecodeSplitEncode);

void BM_WireConcat(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  std::vector<std::string_view> parts(10, in.binary);
  for (auto _ : state) benchmark::DoNotOptimize(wire_concat(Signal::kTraces, parts));
  report(state, in.binary.size() * 10, in.spans * 10);
}
BENCHMARK(BM_WireConcat);

}  // namespace
}  // namespace otlp
