// Binary codec cost on a realistic request (100 spans × 10 attributes):
// decoding onto the heap vs onto an Arena, validating without decoding, and encoding.

#include <benchmark/benchmark.h>

#include "otlp/binary_codec.h"
#include "otlp/testing/bench_inputs.h"

namespace otlp {
namespace {

void report(benchmark::State& state, size_t bytes, int items) {
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_BinaryDecode_Heap(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    TracesRequest request;
    absl::Status status = decode_binary(in.binary, request);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_BinaryDecode_Heap);

void BM_BinaryDecode_Arena(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto request = decode_binary_on_arena<TracesRequest>(in.binary, arena);
    benchmark::DoNotOptimize(request);
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_BinaryDecode_Arena);

// What the servers run instead of a decode: the same verdict (compare BM_BinaryDecode_Arena).
void BM_ValidateBinary(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    absl::Status status = validate_binary(Signal::kTraces, in.binary);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_ValidateBinary);

// The depth check alone: the share of decode_binary spent before protobuf parses.
void BM_BinaryDecode_DepthCheckOnly(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    absl::Status status =
        check_any_value_depth(in.binary, *TracesRequest::descriptor(), kDefaultMaxAnyValueDepth);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_BinaryDecode_DepthCheckOnly);

void BM_BinaryDecode_ProtobufParseOnly(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* request = google::protobuf::Arena::CreateMessage<TracesRequest>(&arena);
    benchmark::DoNotOptimize(request->ParseFromString(in.binary));
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_BinaryDecode_ProtobufParseOnly);

void BM_BinaryEncode(benchmark::State& state) {
  const auto& in = testing::bench_inputs();
  std::string out;
  for (auto _ : state) {
    out.clear();
    absl::Status status = encode_binary_append(in.request, out);
    benchmark::DoNotOptimize(status);
  }
  report(state, in.binary.size(), in.spans);
}
BENCHMARK(BM_BinaryEncode);

}  // namespace
}  // namespace otlp
