// The sending queue on disk against the sending queue in memory: what acknowledging only after
// fdatasync costs a pass-through exporter.
//
// Every case pushes the 100-span traces request (otlp::testing::bench_inputs(), 47 KiB) into a
// QueuedRetryExporter whose backend answers OK at once, from 1, 8 or 32 goroutines at a time
// (receivers run one per request; group commit makes one fdatasync cover every append made
// while the previous one ran, so concurrency is what the durable queue lives on):
//   BM_MemoryQueue    the default queue: OK once the batch is in a channel;
//   BM_DurableQueue   sending_queue.storage with fsync (the default): OK once on disk.
// Counters: items/s, and the 50th and 99th percentile of the time a push waits for its OK. The
// table printed at the end gives each durable case's throughput against the memory queue with
// the same callers. The durable queue writes to a directory under $TMPDIR (set it to the disk
// the collector would use: tmpfs measures no fsync at all).
//
// Run: build/bin/components_durable_queue_bench (docs/reliability.md, "What it costs").

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "components/exporters/helper/queued_retry.h"
#include "components/extensions/file_storage/file_storage.h"
#include "csp/csp.h"
#include "otlp/testing/bench_inputs.h"

namespace components {
namespace {

using namespace std::chrono_literals;

std::map<std::string, double> g_items_per_second;  // "memory/8" -> items/s, for the table

void run(benchmark::State& state, bool durable) {
  const int callers = static_cast<int>(state.range(0));
  const auto& input = otlp::testing::bench_inputs();
  std::string dir;
  pipeline::Host host(pipeline::LogLevel::kError);
  QueueConfig queue{true, 4, 1000};
  if (durable) {
    dir = (std::filesystem::temp_directory_path() / "otlpd-durable-bench-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) {
      state.SkipWithError("mkdtemp failed");
      return;
    }
    auto storage =
        std::make_shared<FileStorage>("file_storage", FileStorageConfig{dir, true, true});
    if (!csp::block_on(storage->start()).ok()) {
      state.SkipWithError("file_storage did not start");
      return;
    }
    host.add_extension("file_storage", storage);
    queue.storage = "file_storage";
  }
  std::atomic<std::int64_t> delivered{0};
  SendFn backend = [&](const pipeline::Batch&, csp::Context) -> csp::Task<SendOutcome> {
    delivered.fetch_add(1, std::memory_order_relaxed);
    co_return SendOutcome{};
  };
  auto exporter =
      std::make_shared<QueuedRetryExporter>("otlp", queue, RetryConfig{}, 5s, backend, host);
  if (!csp::block_on(exporter->start()).ok()) {
    state.SkipWithError("the exporter did not start");
    return;
  }
  std::mutex latencies_mu;
  std::vector<double> latencies_us;
  std::int64_t pushed = 0;
  while (state.KeepRunningBatch(callers * 16)) {
    csp::WaitGroup wg;
    wg.add(callers);
    for (int c = 0; c < callers; ++c) {
      csp::go([&]() -> csp::Task<void> {
        std::vector<double> mine;
        for (int i = 0; i < 16; ++i) {
          pipeline::Batch batch{otlp::Signal::kTraces, input.binary, input.spans};
          const auto start = std::chrono::steady_clock::now();
          auto ctx = csp::with_timeout(csp::Context::background(), 30s).first;
          absl::Status s = co_await exporter->consume(ctx, std::move(batch));
          mine.push_back(
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                  .count());
          if (!s.ok()) std::abort();
        }
        {
          std::lock_guard lock(latencies_mu);
          latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
        }
        wg.done();
      }());
    }
    wg.wait_blocking();
    pushed += callers * 16;
  }
  auto ctx = csp::with_timeout(csp::Context::background(), 60s).first;
  csp::block_on(exporter->shutdown(ctx));
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    return latencies_us.empty()
               ? 0.0
               : latencies_us[std::min(latencies_us.size() - 1,
                                       static_cast<std::size_t>(p * latencies_us.size()))];
  };
  state.SetItemsProcessed(pushed * input.spans);
  state.counters["p50_ack_us"] = pct(0.50);
  state.counters["p99_ack_us"] = pct(0.99);
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

void BM_MemoryQueue(benchmark::State& state) { run(state, false); }
void BM_DurableQueue(benchmark::State& state) { run(state, true); }

BENCHMARK(BM_MemoryQueue)->ArgName("callers")->Arg(1)->Arg(8)->Arg(32)->UseRealTime();
BENCHMARK(BM_DurableQueue)->ArgName("callers")->Arg(1)->Arg(8)->Arg(32)->UseRealTime();

// Collects items/s per case for the closing table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      std::string name = run.benchmark_name();
      const std::string memory = "BM_MemoryQueue/callers:";
      const std::string durable = "BM_DurableQueue/callers:";
      std::string key;
      if (name.rfind(memory, 0) == 0) key = "memory/" + name.substr(memory.size());
      if (name.rfind(durable, 0) == 0) key = "durable/" + name.substr(durable.size());
      key = key.substr(0, key.find('/', key.find('/') + 1));
      if (!key.empty()) g_items_per_second[key] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace
}  // namespace components

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  components::TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::cout << "\nDurable queue throughput against the memory queue, same callers:\n"
            << absl::StrFormat("%-8s %16s %16s %8s\n", "callers", "memory items/s",
                               "durable items/s", "ratio");
  for (const char* callers : {"1", "8", "32"}) {
    const double m = components::g_items_per_second["memory/" + std::string(callers)];
    const double d = components::g_items_per_second["durable/" + std::string(callers)];
    std::cout << absl::StrFormat("%-8s %16.0f %16.0f %8.2f\n", callers, m, d, m > 0 ? d / m : 0);
  }
  benchmark::Shutdown();
  return 0;
}
