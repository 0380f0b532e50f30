// DurableLog append throughput on the real file system (a directory under $TMPDIR, or /tmp):
// fsync always with 1, 4 and 16 concurrent appenders (group commit: one fdatasync covers every
// append queued while the previous one ran) against fsync never, for 4 KiB and 64 KiB records.
// Appenders are goroutines on the csp scheduler; items_per_second is appends per second.
//
//   build/bin/storage_durable_log_bench --benchmark_min_time=2
//
// The numbers depend on the disk's fdatasync latency far more than on this code; docs/storage.md
// records a run on the development machine.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "csp/scheduler.h"
#include "csp/wait_group.h"
#include "storage/durable_log.h"

namespace storage {
namespace {

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/otlpd-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

// Runs `appends` appends of `record_bytes` spread over `appenders` goroutines.
void run_appends(DurableLog& log, int appenders, std::int64_t appends, std::size_t record_bytes,
                 std::atomic<std::int64_t>* failures) {
  csp::WaitGroup wg;
  wg.add(appenders);
  for (int a = 0; a < appenders; ++a) {
    const std::int64_t share = appends / appenders + (a < appends % appenders ? 1 : 0);
    csp::go([&log, &wg, share, record_bytes, failures]() -> csp::Task<void> {
      for (std::int64_t i = 0; i < share; ++i) {
        std::string record(record_bytes, 'r');
        absl::StatusOr<std::uint64_t> seq = co_await log.append(std::move(record));
        if (!seq.ok()) failures->fetch_add(1);
      }
      wg.done();
    });
  }
  wg.wait_blocking();
}

// Keeps the log small: a consumer goroutine would do this in the collector.
void settle_all(DurableLog& log) {
  for (;;) {
    absl::StatusOr<std::optional<Record>> r = log.try_next();
    if (!r.ok() || !r->has_value()) return;
    (void)log.ack((*r)->seq);
  }
}

void BM_Append(benchmark::State& state) {
  const auto policy = static_cast<FsyncPolicy>(state.range(0));
  const int appenders = static_cast<int>(state.range(1));
  const auto record_bytes = static_cast<std::size_t>(state.range(2));
  const std::string dir = make_temp_dir();
  DurableLogOptions options;
  options.fsync = policy;
  options.max_total_bytes = 4ull << 30;
  options.max_segment_bytes = 64ull << 20;
  options.max_record_bytes = 1 << 20;
  options.cursor_persist_interval = std::chrono::milliseconds(100);
  auto log = DurableLog::open(posix_file_system(), dir, options);
  if (!log.ok()) {
    state.SkipWithError(log.status().ToString().c_str());
    return;
  }
  std::atomic<std::int64_t> failures{0};
  const std::int64_t batch = 64;
  std::int64_t total = 0;
  for (auto _ : state) {
    run_appends(**log, appenders, batch, record_bytes, &failures);
    total += batch;
    state.PauseTiming();
    settle_all(**log);
    state.ResumeTiming();
  }
  const DurableLogStats s = (*log)->stats();
  state.SetItemsProcessed(total);
  state.SetBytesProcessed(total * static_cast<std::int64_t>(record_bytes));
  state.counters["appends_per_commit"] =
      s.group_commits > 0 ? static_cast<double>(s.appended) / static_cast<double>(s.group_commits)
                          : 0;
  if (failures.load() > 0) state.SkipWithError("appends failed");
  (void)(*log)->close();
  log->reset();
  std::filesystem::remove_all(dir);
}

void append_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"fsync_always0_never1", "appenders", "record_bytes"});
  for (std::int64_t size : {4 << 10, 64 << 10}) {
    for (std::int64_t appenders : {1, 4, 16}) {
      b->Args({static_cast<std::int64_t>(FsyncPolicy::kAlways), appenders, size});
    }
    b->Args({static_cast<std::int64_t>(FsyncPolicy::kNever), 1, size});
    b->Args({static_cast<std::int64_t>(FsyncPolicy::kNever), 16, size});
  }
  b->UseRealTime();
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Append)->Apply(append_args);

}  // namespace
}  // namespace storage

BENCHMARK_MAIN();
