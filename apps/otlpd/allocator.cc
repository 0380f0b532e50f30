// otlpd's allocator settings (docs/memory.md). Linked into the otlpd executable only, and only
// when it links jemalloc (apps/otlpd/CMakeLists.txt).
//
// jemalloc reads `malloc_conf` when it starts; the MALLOC_CONF environment variable still
// overrides it. A background thread returns dirty pages one second after they were freed (and
// skips the "muzzy" stage), so RSS falls back after a burst even while the collector is idle;
// the memory limiter's check can also purge at once (components::give_back_free_memory).

extern "C" {
// NOLINTNEXTLINE: the name is jemalloc's.
__attribute__((used)) const char* malloc_conf =
    "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
