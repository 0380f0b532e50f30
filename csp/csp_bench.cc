// The CSP runtime's costs. Every BM_X here has a Go twin, BenchmarkX in
// bench/csp-vs-go/go/csp_twins_test.go, that does the same work per iteration: the same channel
// capacities, the same number of goroutines, the same operation. Each body runs inside a
// goroutine, as a Go benchmark does. bench/csp-vs-go/run runs both sides and prints the ratios.
// Change a case here and its twin there together.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <vector>

#include "csp/csp.h"

namespace csp {
namespace {

// Runs body(state) as a goroutine on the default scheduler and waits for it.
template <class Body>
void run_in_goroutine(benchmark::State& state, Body body) {
  block_on(body(state));
}

void BM_ChanBufferedUncontended(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Chan<int> ch(128);
    int i = 0;
    for (auto _ : st) {
      co_await ch.send(i++);
      benchmark::DoNotOptimize(co_await ch.recv());
    }
  });
}
BENCHMARK(BM_ChanBufferedUncontended)->UseRealTime();

void BM_ChanUnbufferedPingPong(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Chan<int> ping(0), pong(0);
    WaitGroup echo_done;
    echo_done.add(1);
    go([&]() -> Task<void> {
      while (auto v = co_await ping.recv()) co_await pong.send(*v);
      echo_done.done();
    });
    int i = 0;
    for (auto _ : st) {
      co_await ping.send(i++);
      benchmark::DoNotOptimize(co_await pong.recv());
    }
    ping.close();
    co_await echo_done.wait();
  });
}
BENCHMARK(BM_ChanUnbufferedPingPong)->UseRealTime();

void BM_ChanProdCons1024(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Chan<int> ch(1024);
    Chan<Unit> done(0);
    go([&]() -> Task<void> {
      while (co_await ch.recv()) {
      }
      done.close();
    });
    int i = 0;
    for (auto _ : st) co_await ch.send(i++);
    ch.close();
    co_await done.recv();
  });
}
BENCHMARK(BM_ChanProdCons1024)->UseRealTime();

void BM_ChanMPMC4x4(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    // Go splits b.N items over 4 producers; here each batch of kBatch items is split the same
    // way, and consumers live across batches as in Go.
    constexpr std::int64_t kBatch = 1 << 14;
    Chan<int> ch(1024);
    WaitGroup consumers;
    consumers.add(4);
    for (int c = 0; c < 4; ++c) {
      go([&]() -> Task<void> {
        while (co_await ch.recv()) {
        }
        consumers.done();
      });
    }
    while (st.KeepRunningBatch(kBatch)) {
      WaitGroup producers;
      producers.add(4);
      for (int p = 0; p < 4; ++p) {
        go([&]() -> Task<void> {
          for (std::int64_t i = 0; i < kBatch / 4; ++i) co_await ch.send(static_cast<int>(i));
          producers.done();
        });
      }
      co_await producers.wait();
    }
    ch.close();
    co_await consumers.wait();
  });
}
BENCHMARK(BM_ChanMPMC4x4)->UseRealTime();

void BM_Select3Ready(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Chan<int> a(1), c(1);
    auto [ctx, cancel] = with_cancel(Context::background());
    Chan<Unit> done = ctx.done();
    int i = 0;
    for (auto _ : st) {
      co_await a.send(i++);
      benchmark::DoNotOptimize(co_await select(recv(a), recv(c), recv(done)));
    }
    cancel();
  });
}
BENCHMARK(BM_Select3Ready)->UseRealTime();

void BM_SelectDefault(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Chan<int> a(0), c(0);
    for (auto _ : st) {
      benchmark::DoNotOptimize(co_await select(recv(a), recv(c), default_case()));
    }
  });
}
BENCHMARK(BM_SelectDefault)->UseRealTime();

void BM_GoSpawnJoin(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    WaitGroup wg;
    struct Child {
      static Task<void> run(WaitGroup* wg) {
        wg->done();
        co_return;
      }
    };
    for (auto _ : st) {
      wg.add(1);
      go(Child::run(&wg));
    }
    co_await wg.wait();
  });
}
BENCHMARK(BM_GoSpawnJoin)->UseRealTime();

void BM_ContextWithCancel(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Context root = Context::background();
    for (auto _ : st) {
      auto [ctx, cancel] = with_cancel(root);
      cancel();
    }
    co_return;
  });
}
BENCHMARK(BM_ContextWithCancel)->UseRealTime();

// --- The cases a collector lives on -------------------------------------------------------

// select over eight buffered(1) channels of which exactly one holds a value; the ready channel
// rotates so that no position in the case list is favoured.
void BM_Select8OneReady(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    std::array<Chan<int>, 8> c{Chan<int>(1), Chan<int>(1), Chan<int>(1), Chan<int>(1),
                               Chan<int>(1), Chan<int>(1), Chan<int>(1), Chan<int>(1)};
    int i = 0;
    for (auto _ : st) {
      co_await c[i & 7].send(i);
      ++i;
      benchmark::DoNotOptimize(co_await select(recv(c[0]), recv(c[1]), recv(c[2]), recv(c[3]),
                                               recv(c[4]), recv(c[5]), recv(c[6]), recv(c[7])));
    }
  });
}
BENCHMARK(BM_Select8OneReady)->UseRealTime();

// How many timers are pending at once in the timer cases, and how far ahead they are set.
constexpr std::int64_t kTimerBatch = 100'000;
constexpr auto kFireDelay = std::chrono::milliseconds(1);
// Long enough that a batch is stopped before any of it fires.
constexpr auto kStopDelay = std::chrono::milliseconds(250);

// Arms kTimerBatch one-shot timers (csp::after, a channel each) 1 ms ahead, then receives from
// every channel: the heap, the timer thread and the wake-ups under load. ns per timer.
void BM_TimerFire100k(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    std::vector<Chan<TimePoint>> fired;
    fired.reserve(kTimerBatch);
    while (st.KeepRunningBatch(kTimerBatch)) {
      for (std::int64_t i = 0; i < kTimerBatch; ++i) fired.push_back(after(kFireDelay));
      for (const Chan<TimePoint>& ch : fired) benchmark::DoNotOptimize(co_await ch.recv());
      fired.clear();
    }
  });
}
BENCHMARK(BM_TimerFire100k)->UseRealTime();

// Arms kTimerBatch csp::Timer (channel + timer) well in the future, then stops each one, as a
// collector does with per-request deadlines that are met. ns per timer (arm + stop).
void BM_TimerStop100k(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    std::vector<Timer> timers;
    timers.reserve(kTimerBatch);
    while (st.KeepRunningBatch(kTimerBatch)) {
      for (std::int64_t i = 0; i < kTimerBatch; ++i) timers.emplace_back(kStopDelay);
      for (const Timer& t : timers) benchmark::DoNotOptimize(t.stop());
      timers.clear();
    }
    co_return;
  });
}
BENCHMARK(BM_TimerStop100k)->UseRealTime();

// A bounded pipeline of four stages joined by three channels of capacity kStageQueue: the
// benchmark goroutine allocates a 1 KiB value per iteration and sends it, two middle stages
// each stamp one byte and pass the value on, the last stage reads it and drops it. The value
// is a heap buffer that moves from stage to stage (a Go []byte, a std::vector here), as a
// request's data does in a collector. ns per value through all four stages.
constexpr std::size_t kValueBytes = 1024;
constexpr std::size_t kStageQueue = 64;
using Value = std::vector<std::byte>;

Task<void> pass_on(Chan<Value> in, Chan<Value> out, std::byte stamp) {
  while (auto v = co_await in.recv()) {
    Value value = std::move(*v);
    value[1] = stamp;
    co_await out.send(std::move(value));
  }
  out.close();
}

void BM_Pipeline4Stages1KiB(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    Chan<Value> first(kStageQueue), second(kStageQueue), third(kStageQueue);
    Chan<Unit> drained(0);
    std::uint64_t sum = 0;
    go(pass_on(first, second, std::byte{2}));
    go(pass_on(second, third, std::byte{3}));
    go([&]() -> Task<void> {
      while (auto v = co_await third.recv()) sum += std::to_integer<unsigned>((*v)[0] ^ (*v)[1]);
      drained.close();
    });
    std::uint8_t n = 0;
    for (auto _ : st) {
      Value value(kValueBytes);
      value[0] = std::byte{n++};
      co_await first.send(std::move(value));
    }
    first.close();
    co_await drained.recv();
    benchmark::DoNotOptimize(sum);
  });
}
BENCHMARK(BM_Pipeline4Stages1KiB)->UseRealTime();

// Resident set size of this process, from /proc/self/statm (the Go twin reads the same file).
std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

// Memory of kParked goroutines, each parked receiving on its own unbuffered channel: growth of
// the resident set from before the channels are made until every goroutine is parked, divided
// by kParked (so a goroutine's channel and its slot in the list are part of its cost). Reported
// as the counter bytes_per_goroutine; the time is that of making, parking and releasing them.
// Meaningful only as the first thing a process does (the frame pool keeps what earlier cases
// freed), so bench/csp-vs-go/run runs it alone, one iteration per process.
constexpr std::int64_t kParked = 100'000;

void BM_ParkedGoroutineMemory(benchmark::State& state) {
  run_in_goroutine(state, [](benchmark::State& st) -> Task<void> {
    double bytes_per_goroutine = 0;
    for (auto _ : st) {
      const std::int64_t before = resident_bytes();
      std::vector<Chan<int>> inboxes;
      inboxes.reserve(kParked);
      WaitGroup started, finished;
      started.add(kParked);
      finished.add(kParked);
      for (std::int64_t i = 0; i < kParked; ++i) {
        inboxes.emplace_back(0);
        go([inbox = inboxes.back(), &started, &finished]() -> Task<void> {
          started.done();
          benchmark::DoNotOptimize(co_await inbox.recv());
          finished.done();
        });
      }
      co_await started.wait();
      while (runtime_stats().parked < kParked) co_await sleep(std::chrono::milliseconds(1));
      bytes_per_goroutine = static_cast<double>(resident_bytes() - before) / kParked;
      for (const Chan<int>& inbox : inboxes) inbox.close();
      co_await finished.wait();
    }
    st.counters["bytes_per_goroutine"] = bytes_per_goroutine;
  });
}
BENCHMARK(BM_ParkedGoroutineMemory)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace csp

BENCHMARK_MAIN();
