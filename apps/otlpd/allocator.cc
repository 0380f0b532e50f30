// otlpd's allocator settings (docs/memory.md). Linked into the otlpd executable only, and only
// when it links jemalloc (apps/otlpd/CMakeLists.txt).
//
// jemalloc reads `malloc_conf` when it starts; the MALLOC_CONF environment variable still
// overrides it. With both decay times at zero, pages of freed extents go back to the OS when
// they are freed, so resident memory follows live memory: after a burst RSS falls at once, and
// under steady overload it stays close to what the limiter accounts (measured in
// docs/memory.md: a few percent slower bursts, far lower RSS than a 1 s decay).

extern "C" {
// The name is jemalloc's: it looks this symbol up at start.
__attribute__((used)) const char* malloc_conf = "dirty_decay_ms:0,muzzy_decay_ms:0";
}
