// alloc_burst: how much resident memory an allocator gives back after a burst like otlpd's.
//
// Several threads each take OTLP requests as a server does — the body as one large string, a
// decode on an Arena (many small protobuf objects) and one on the heap (every object its own
// malloc), a re-encoded copy — and keep them all until the burst's peak; then everything is
// freed. RSS (MiB) is printed at the peak, right after the free, after a 12 s wait (allocators
// that return memory on a timer, e.g. jemalloc's decay) and then after the memory limiter's
// give-back call (malloc_trim, or jemalloc's purge when jemalloc is loaded). Run it under each
// allocator with LD_PRELOAD and MALLOC_ARENA_MAX / GLIBC_TUNABLES; scripts/alloc-burst prints the
// table of docs/memory.md.
//
// Usage: alloc_burst [threads] [requests per thread] [spans per request]

#include <google/protobuf/arena.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "components/processors/memory_limiter/memory_limiter.h"
#include "otlp/binary_codec.h"
#include "otlp/signal.h"
#include "otlp/testing/random_requests.h"

namespace {

double rss_mib() { return static_cast<double>(components::resident_memory_bytes()) / (1 << 20); }

struct Held {
  std::string body;
  std::unique_ptr<google::protobuf::Arena> arena;
  std::unique_ptr<otlp::TracesRequest> heap_copy;
  std::string reencoded;
};

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 4;
  const int requests = argc > 2 ? std::atoi(argv[2]) : 40;
  const int spans = argc > 3 ? std::atoi(argv[3]) : 2000;
  const double before = rss_mib();

  std::vector<std::vector<Held>> held(static_cast<std::size_t>(threads));
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < requests; ++i) {
          Held h;
          h.body = otlp::testing::realistic_traces(spans, 10).SerializeAsString();
          // A large string value, as logs and attribute-heavy spans carry.
          h.body += otlp::testing::realistic_traces(1, 1).SerializeAsString();
          h.arena = std::make_unique<google::protobuf::Arena>();
          auto decoded = otlp::decode_binary_on_arena<otlp::TracesRequest>(h.body, *h.arena);
          if (!decoded.ok()) std::abort();
          h.heap_copy = std::make_unique<otlp::TracesRequest>();
          if (!otlp::decode_binary(h.body, *h.heap_copy).ok()) std::abort();
          h.reencoded = (*decoded)->SerializeAsString();
          held[static_cast<std::size_t>(t)].push_back(std::move(h));
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  const double peak = rss_mib();
  const auto burst_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
  // Free on other threads than the ones that allocated, as pipelines do.
  {
    std::vector<std::thread> freers;
    for (int t = 0; t < threads; ++t) {
      freers.emplace_back([&, t] { held[static_cast<std::size_t>((t + 1) % threads)].clear(); });
    }
    for (auto& f : freers) f.join();
  }
  const double after_free = rss_mib();
  std::this_thread::sleep_for(std::chrono::seconds(12));
  const double after_wait = rss_mib();
  components::give_back_free_memory();
  const double after_give_back = rss_mib();
  // One markdown table row: | burst ms | before | peak | after free | after 12 s | after give-back
  // |
  std::printf("| %lld | %.0f | %.0f | %.0f | %.0f | %.0f |\n", static_cast<long long>(burst_ms),
              before, peak, after_free, after_wait, after_give_back);
  return 0;
}
