// The CSP runtime's costs, case for case with Go's own benchmarks in
// ../shared/anchors/go-csp/csp_test.go (BM_X here is BenchmarkX there). Each benchmark body runs
// inside a goroutine, as Go's do, and does the same work per iteration. bench/csp-vs-go runs
// both and prints the ratios.

#include <benchmark/benchmark.h>

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

}  // namespace
}  // namespace csp

BENCHMARK_MAIN();
