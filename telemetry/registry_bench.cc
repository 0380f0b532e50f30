// What self-telemetry costs on the data path: one add to a striped counter (what a receiver
// does per request, an exporter per batch) against one to a plain shared atomic, alone and
// with every thread adding at once, and a histogram record.

#include <benchmark/benchmark.h>

#include <atomic>

#include "telemetry/registry.h"

namespace {

telemetry::Registry& registry() {
  static telemetry::Registry r;
  return r;
}

void BM_CounterAdd(benchmark::State& state) {
  telemetry::Counter& c = registry().counter("bench_counter", "", {{"thread", "any"}});
  for (auto _ : state) c.add(100);
  benchmark::DoNotOptimize(c.value());
}
BENCHMARK(BM_CounterAdd)->ThreadRange(1, 2);

// The baseline a striped counter replaces: one atomic every thread adds to.
void BM_SharedAtomicAdd(benchmark::State& state) {
  static std::atomic<std::int64_t> shared{0};
  for (auto _ : state) shared.fetch_add(100, std::memory_order_relaxed);
  benchmark::DoNotOptimize(shared.load());
}
BENCHMARK(BM_SharedAtomicAdd)->ThreadRange(1, 2);

void BM_HistogramRecord(benchmark::State& state) {
  telemetry::Histogram& h =
      registry().histogram("bench_histogram", "", telemetry::latency_buckets_seconds());
  double v = 0.0001;
  for (auto _ : state) {
    h.record(v);
    v = v < 10 ? v * 1.5 : 0.0001;
  }
}
BENCHMARK(BM_HistogramRecord)->ThreadRange(1, 2);

void BM_RenderPage(benchmark::State& state) {
  telemetry::Registry r;
  for (int i = 0; i < 200; ++i) {
    r.counter("otelcol_receiver_accepted_spans", "help", {{"receiver", std::to_string(i)}}).add(i);
  }
  for (auto _ : state) benchmark::DoNotOptimize(r.prometheus_text());
}
BENCHMARK(BM_RenderPage);

}  // namespace

BENCHMARK_MAIN();
