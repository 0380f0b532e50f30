// What one batch costs on its way through a pipeline, from the receiver's hand-off to the
// exporter. It was written before the engine became pipeline/graph (entrance on the caller's
// goroutine, batch processor without its own retry loop) and run on both; docs/collector.md
// has the two tables.
//
// Every case pushes the same 100-span traces request (otlp::testing::bench_inputs(), 47 KiB of
// wire bytes) and ends in a counting exporter that discards what it gets:
//   BM_Direct                       the caller consumes into the exporter itself (baseline);
//   BM_Entrance                     entrance → exporter;
//   BM_EntranceBatch                entrance → batch (8192 items, 200ms) → exporter;
//   BM_EntranceMemoryLimiterBatch   entrance → memory_limiter → batch → exporter, the
//                                   processors of otlpd's built-in config (apps/otlpd).
// Each runs with 1 and with 8 callers: goroutines that share the iterations and each consume
// one batch at a time, as receiver goroutines do. Time is wall time per batch (UseRealTime; a
// goroutine may change threads, so a thread's CPU clock means nothing) and CPU is the whole
// process's, the batch goroutine included.
//
// Reading the numbers:
//  - Every push copies the request bytes into a fresh Batch, as a receiver holds a fresh buffer
//    per request; the baseline pays that copy too, so "ns over direct" in the table printed at
//    the end is what the pipeline itself adds, and "x direct" the whole per-request ratio.
//  - With the batch processor a push is answered once the batch is in the processor's input
//    channel; the concatenation and export happen later on its goroutine. So the clock stops
//    only when everything pushed has reached the exporter: for a pipeline, after its shutdown
//    has flushed what the batch processor held (the rest of shutdown costs microseconds per
//    run). Buffers of any depth thus cost what their contents cost. Each run then checks that
//    every item pushed reached the exporter, or reports the run as an error.
//  - The pipelines are built from YAML through the engine's public API by start_pipeline(),
//    the one function (with RunningPipeline::stop) to adapt when that API changes.
//
// Run: build/bin/components_pipeline_path_bench (docs/collector.md, "Measuring the pipeline").

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "components/factories.h"
#include "csp/csp.h"
#include "otlp/testing/bench_inputs.h"
#include "otlp/wire.h"
#include "pipeline/config/config.h"
#include "pipeline/factory.h"
#include "pipeline/graph.h"
#include "pipeline/host.h"

namespace components {
namespace {

using namespace std::chrono_literals;

// ---- The ends of the pipeline ----------------------------------------------------------------

// Counts what reaches it and drops it. Any goroutine; counts are exact once the pipeline has
// shut down.
class CountingExporter final : public pipeline::Exporter {
 public:
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch batch) override {
    batches_.fetch_add(1, std::memory_order_relaxed);
    items_.fetch_add(batch.items, std::memory_order_relaxed);
    co_return absl::OkStatus();
  }
  std::int64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  std::int64_t items() const { return items_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> batches_{0};
  std::atomic<std::int64_t> items_{0};
};

// A receiver with no network: it keeps the consumer the engine connects it to, and the
// benchmark's callers push into that consumer as a real receiver's request handlers do.
class CapturingReceiver final : public pipeline::Receiver {
 public:
  void connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) override {
    if (signal == otlp::Signal::kTraces) traces_ = std::move(next);
  }
  const std::shared_ptr<pipeline::Consumer>& traces() const { return traces_; }

 private:
  std::shared_ptr<pipeline::Consumer> traces_;
};

// Factories for the two ends (types "bench_capture" and "bench_count"). Each hands the instance
// it creates to *created, so that the benchmark can reach it; one pipeline uses one of each.
class CapturingReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  explicit CapturingReceiverFactory(std::shared_ptr<CapturingReceiver>* created)
      : created_(created) {}
  std::string_view type() const override { return "bench_capture"; }
  bool supports(otlp::Signal signal) const override { return signal == otlp::Signal::kTraces; }
  absl::StatusOr<std::shared_ptr<pipeline::Receiver>> create(const pipeline::ComponentId&,
                                                             const pipeline::ConfigNode& config,
                                                             pipeline::Host&) const override {
    if (auto s = config.check_no_unknown_keys(); !s.ok()) return s;
    *created_ = std::make_shared<CapturingReceiver>();
    return std::shared_ptr<pipeline::Receiver>(*created_);
  }

 private:
  std::shared_ptr<CapturingReceiver>* created_;
};

class CountingExporterFactory final : public pipeline::ExporterFactory {
 public:
  explicit CountingExporterFactory(std::shared_ptr<CountingExporter>* created)
      : created_(created) {}
  std::string_view type() const override { return "bench_count"; }
  bool supports(otlp::Signal signal) const override { return signal == otlp::Signal::kTraces; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId&,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host&) const override {
    if (auto s = config.check_no_unknown_keys(); !s.ok()) return s;
    *created_ = std::make_shared<CountingExporter>();
    return std::shared_ptr<pipeline::Exporter>(*created_);
  }

 private:
  std::shared_ptr<CountingExporter>* created_;
};

// ---- Building a pipeline (the only code that uses the engine's API) --------------------------

// Every processor a case may list, configured as otlpd's built-in config configures them
// (apps/otlpd/collector.cc); batch's two settings are its defaults, written out.
constexpr std::string_view kComponents = R"(
receivers: {bench_capture: {}}
processors:
  memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
  batch: {send_batch_size: 8192, timeout: 200ms}
exporters: {bench_count: {}}
)";

struct RunningPipeline {
  std::unique_ptr<pipeline::Host> host;  // outlives the service (declared first)
  std::unique_ptr<pipeline::Graph> service;
  std::shared_ptr<pipeline::Consumer> head;  // what the engine connected the receiver to
  std::shared_ptr<CountingExporter> exporter;

  // Shuts the pipeline down in the engine's order: the batch processor flushes what it holds.
  csp::Task<void> stop() {
    const csp::Duration deadline = 10s;  // named: no temporary in a co_await operand
    co_await service->shutdown(deadline);
  }
};

// Builds and starts bench_capture → <processors> → bench_count, processors being a YAML
// flow-list body ("memory_limiter, batch"; "" for none).
absl::StatusOr<RunningPipeline> start_pipeline(std::string_view processors) {
  pipeline::LoadOptions options;
  options.inline_yaml = std::string(kComponents) + "service: {pipelines: {traces: {" +
                        "receivers: [bench_capture], processors: [" + std::string(processors) +
                        "], exporters: [bench_count]}}}\n";
  options.inline_name = "pipeline_path_bench";
  absl::StatusOr<pipeline::Config> config = pipeline::load_config(options);
  if (!config.ok()) return config.status();

  std::shared_ptr<CapturingReceiver> receiver;
  RunningPipeline p;
  pipeline::Factories factories = make_factories();
  factories.receivers.push_back(std::make_unique<CapturingReceiverFactory>(&receiver));
  factories.exporters.push_back(std::make_unique<CountingExporterFactory>(&p.exporter));
  p.host = std::make_unique<pipeline::Host>(pipeline::LogLevel::kWarn);
  auto service = pipeline::Graph::build(*config, factories, *p.host);
  if (!service.ok()) return service.status();
  p.service = *std::move(service);
  if (absl::Status s = csp::block_on(p.service->start()); !s.ok()) return s;
  p.head = receiver->traces();
  return p;
}

// ---- Driving it ------------------------------------------------------------------------------

struct PushResult {
  std::atomic<std::int64_t> refused{0};
  absl::Status first_refusal;  // written once, by whoever raises refused from 0
};

// One caller: `count` pushes, one at a time.
csp::Task<void> push_batches(pipeline::Consumer& head, const pipeline::Batch& request,
                             csp::Context ctx, std::int64_t count, PushResult& result,
                             csp::WaitGroup& callers) {
  for (std::int64_t i = 0; i < count; ++i) {
    pipeline::Batch batch = request;  // named: no temporary in a co_await operand (docs/csp.md)
    absl::Status s = co_await head.consume(ctx, std::move(batch));
    if (!s.ok() && result.refused.fetch_add(1, std::memory_order_relaxed) == 0) {
      result.first_refusal = std::move(s);
    }
  }
  callers.done();
}

// The timed part, in a goroutine: `callers` goroutines share this run's iterations, and the
// clock stops once the last of them has its last answer and `pipeline` (null: none, the
// callers push into the exporter) has shut down, so that all of it reached the exporter.
csp::Task<void> run_callers(benchmark::State& state, pipeline::Consumer& head,
                            const pipeline::Batch& request, int callers, PushResult& result,
                            RunningPipeline* pipeline) {
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), 60s);
  const std::int64_t total = state.max_iterations;
  while (state.KeepRunningBatch(total)) {  // once: the batch is the whole run
    csp::WaitGroup running;
    running.add(callers);
    for (int c = 0; c < callers; ++c) {
      const std::int64_t share = total / callers + (c < total % callers ? 1 : 0);
      csp::go(push_batches(head, request, ctx, share, result, running));
    }
    co_await running.wait();
    if (pipeline != nullptr) co_await pipeline->stop();
  }
  cancel();
}

const pipeline::Batch& traces_request() {
  static const pipeline::Batch* batch = [] {
    const auto& in = otlp::testing::bench_inputs();
    auto items = otlp::wire_count_items(otlp::Signal::kTraces, in.binary);
    return new pipeline::Batch{otlp::Signal::kTraces, in.binary,
                               items.ok() ? static_cast<std::int64_t>(*items) : 0};
  }();
  return *batch;
}

void report_rates(benchmark::State& state, const pipeline::Batch& request) {
  state.SetItemsProcessed(state.iterations() * request.items);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(request.bytes.size()));
}

void report_refusals(benchmark::State& state, const PushResult& result) {
  if (result.refused.load() == 0) return;
  state.SkipWithError(absl::StrCat(result.refused.load(),
                                   " pushes refused, first: ", result.first_refusal.ToString())
                          .c_str());
}

// Call once every push has been answered and the pipeline has shut down.
void report_lost_items(benchmark::State& state, const pipeline::Batch& request,
                       const PushResult& result, const CountingExporter& exporter) {
  const std::int64_t pushed = state.iterations() * request.items;
  if (result.refused.load() != 0 || exporter.items() == pushed) return;
  state.SkipWithError(
      absl::StrCat("pushed ", pushed, " items, the exporter got ", exporter.items()).c_str());
}

// ---- The cases -------------------------------------------------------------------------------

void BM_Direct(benchmark::State& state) {
  const pipeline::Batch& request = traces_request();
  CountingExporter exporter;
  PushResult result;
  csp::block_on(
      run_callers(state, exporter, request, static_cast<int>(state.range(0)), result, nullptr));
  report_rates(state, request);
  report_refusals(state, result);
  report_lost_items(state, request, result, exporter);
}

// Pushes through a pipeline with `processors` between entrance and exporter, then shuts it
// down; checks that every item pushed reached the exporter.
void run_pipeline_case(benchmark::State& state, std::string_view processors) {
  const pipeline::Batch& request = traces_request();
  absl::StatusOr<RunningPipeline> p = start_pipeline(processors);
  if (!p.ok()) {
    state.SkipWithError(p.status().ToString().c_str());
    for (auto _ : state) {
    }
    return;
  }
  PushResult result;
  csp::block_on(
      run_callers(state, *p->head, request, static_cast<int>(state.range(0)), result, &*p));
  report_rates(state, request);
  // Exports per pushed batch: 1 without batching, 100/8192 when batch flushes by size.
  state.counters["exports_per_batch"] =
      static_cast<double>(p->exporter->batches()) / static_cast<double>(state.iterations());
  report_refusals(state, result);
  report_lost_items(state, request, result, *p->exporter);
}

void BM_Entrance(benchmark::State& state) { run_pipeline_case(state, ""); }
void BM_EntranceBatch(benchmark::State& state) { run_pipeline_case(state, "batch"); }
void BM_EntranceMemoryLimiterBatch(benchmark::State& state) {
  run_pipeline_case(state, "memory_limiter, batch");
}

void callers_1_and_8(benchmark::internal::Benchmark* b) {
  b->ArgName("callers")->Arg(1)->Arg(8)->UseRealTime()->MeasureProcessCPUTime();
}
BENCHMARK(BM_Direct)->Apply(callers_1_and_8);
BENCHMARK(BM_Entrance)->Apply(callers_1_and_8);
BENCHMARK(BM_EntranceBatch)->Apply(callers_1_and_8);
BENCHMARK(BM_EntranceMemoryLimiterBatch)->Apply(callers_1_and_8);

// ---- The table against the baseline ----------------------------------------------------------

// Forwards every report to the reporter --benchmark_format chose, and keeps each case's wall
// time per batch: the median when repetitions give one, else the mean of its runs. Finalize()
// then prints every case against BM_Direct with the same callers (on stdout under the console
// format, else on stderr, so that JSON or CSV output stays parseable).
class RatioTable final : public benchmark::BenchmarkReporter {
 public:
  explicit RatioTable(benchmark::BenchmarkReporter* display) : display_(display) {}

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) record(run);
    display_->ReportRuns(runs);
  }

  void Finalize() override {
    display_->Finalize();
    auto* console = dynamic_cast<benchmark::ConsoleReporter*>(display_.get());
    print(console != nullptr ? console->GetOutputStream() : std::cerr);
  }

 private:
  struct Case {
    double median_ns = 0;  // 0: no median reported
    double sum_ns = 0;
    int runs = 0;
    double ns() const { return median_ns > 0 ? median_ns : sum_ns / runs; }
  };

  static double to_ns(double t, benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kNanosecond:
        return t;
      case benchmark::kMicrosecond:
        return t * 1e3;
      case benchmark::kMillisecond:
        return t * 1e6;
      case benchmark::kSecond:
        return t * 1e9;
    }
    return t;
  }

  void record(const Run& run) {
    if (run.error_occurred) return;
    const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
    if (run.run_type == Run::RT_Aggregate && !median) return;
    const std::string key = run.run_name.function_name + " " + run.run_name.args;
    if (!cases_.count(key)) order_.push_back(key);
    Case& c = cases_[key];
    const double ns = to_ns(run.GetAdjustedRealTime(), run.time_unit);
    if (median) {
      c.median_ns = ns;
    } else {
      c.sum_ns += ns;
      ++c.runs;
    }
  }

  void print(std::ostream& out) const {
    out << "\nPer batch (100 spans), wall time, against BM_Direct with the same callers:\n";
    out << absl::StrFormat("%-48s %12s %10s %14s\n", "case", "ns/batch", "x direct",
                           "ns over direct");
    for (const std::string& key : order_) {
      const Case& c = cases_.at(key);
      const std::string args = key.substr(key.find(' ') + 1);
      auto base = cases_.find("BM_Direct " + args);
      if (base == cases_.end()) {
        out << absl::StrFormat("%-48s %12.0f %10s %14s\n", key, c.ns(), "-", "-");
        continue;
      }
      out << absl::StrFormat("%-48s %12.0f %10.2f %14.0f\n", key, c.ns(),
                             c.ns() / base->second.ns(), c.ns() - base->second.ns());
    }
  }

  std::unique_ptr<benchmark::BenchmarkReporter> display_;
  std::map<std::string, Case> cases_;
  std::vector<std::string> order_;  // keys in the order first reported
};

}  // namespace
}  // namespace components

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  components::RatioTable table(benchmark::CreateDefaultDisplayReporter());
  benchmark::RunSpecifiedBenchmarks(&table);
  benchmark::Shutdown();
  return 0;
}
