// ThreadSanitizer suppressions compiled into every test binary of a TSan build (TSan calls
// __tsan_default_suppressions() at start-up), unless the test brings its own (transport/).
//
// protobuf and Abseil come from Debian, built without -fsanitize=thread, so their internal
// synchronisation is invisible to TSan: protobuf's lazily built descriptor pool (two goroutines
// decoding at once in a fresh process) and absl::Status's shared-message refcount look like
// races. Everything of ours stays checked. transport/testing/tsan_suppressions.cc has the same
// two rules plus gRPC's.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race:libprotobuf.so\n"
         "called_from_lib:libprotobuf.so\n"
         "race:absl::*Status::Unref\n";
}
#endif
