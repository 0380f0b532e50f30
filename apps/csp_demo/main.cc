// csp_demo: a small pipeline on the CSP runtime — a producer, a pool of workers and a sink,
// joined by bounded channels, stopped by a context deadline. It prints what it did and the
// runtime's own counters. `make run` starts it until the collector exists.

#include <cstdio>

#include "csp/csp.h"

namespace {

using namespace std::chrono_literals;

csp::Task<void> produce(csp::Context ctx, csp::Chan<int> out) {
  for (int i = 0;; ++i) {
    if (!(co_await csp::send_ctx(ctx, out, i)).ok()) break;
  }
  out.close();
}

csp::Task<void> square(csp::Chan<int> in, csp::Chan<long long> out, csp::WaitGroup* wg) {
  while (auto v = co_await in.recv()) {
    co_await out.send(static_cast<long long>(*v) * *v);
  }
  wg->done();
}

csp::Task<void> run() {
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), 500ms);
  csp::Chan<int> numbers(64);
  csp::Chan<long long> squares(64);
  csp::WaitGroup workers;
  constexpr int kWorkers = 4;
  workers.add(kWorkers);
  csp::go(produce(ctx, numbers));
  for (int i = 0; i < kWorkers; ++i) csp::go(square(numbers, squares, &workers));
  csp::go([&]() -> csp::Task<void> {
    co_await workers.wait();
    squares.close();
  });

  csp::Ticker ticker(100ms);
  long long count = 0;
  long long sum = 0;
  for (;;) {
    std::optional<long long> v;
    std::size_t k = co_await csp::select(csp::recv(squares, &v), csp::recv(ticker.chan()));
    if (k == 1) {
      csp::RuntimeStats s = csp::runtime_stats();
      std::printf("  %lld values so far; goroutines live=%lld runnable=%lld parked=%lld\n", count,
                  static_cast<long long>(s.live_goroutines), static_cast<long long>(s.runnable),
                  static_cast<long long>(s.parked));
      continue;
    }
    if (!v) break;
    ++count;
    sum += *v;
  }
  cancel();
  std::printf("csp_demo: squared %lld numbers in 500ms on %zu workers (checksum %lld)\n", count,
              csp::default_scheduler().worker_count(), sum);
}

}  // namespace

int main() {
  std::printf("csp_demo: producer -> %d workers -> sink over bounded channels, for 500ms\n", 4);
  csp::block_on(run());
  return 0;
}
