// ThreadSanitizer suppressions for the transport tests, compiled into each test binary (TSan
// calls __tsan_default_suppressions() at start-up), so no TSAN_OPTIONS are needed.
//
// Why: protobuf, gRPC, gpr, zlib and Abseil come from Debian, built without
// -fsanitize=thread. They synchronize with their own atomics, call_once and absl::Mutex, which
// TSan cannot see, so every hand-over through them looks like a race:
//  - both binaries: protobuf builds its descriptor pool lazily on first use (two goroutines
//    decoding at once in a fresh process), and absl::Status shares its message through a
//    refcount decremented inside libabsl_status (the last owner's delete looks unordered with
//    the other owners' reads);
//  - transport_grpc_test (OTLPD_TSAN_SUPPRESS_GRPC): a request buffer written by our thread and
//    sent by a gRPC thread, a reactor deleted in OnDone, a response read after the client's
//    callback. These rules match a report when either access has a frame in those libraries or
//    in the gRPC headers inlined into our code. gRPC's TLS hands OpenSSL's buffers between its
//    own threads the same way, so libssl and libcrypto are in that list too; our TLS code
//    (transport/internal/tls_io.h, the https client) is checked without these rules by
//    transport_http_test (HttpClientTest.HttpsWithMutualTls...).
//
// What stays checked: everything of ours. Hand-overs between goroutines, the poller thread and
// gRPC callbacks go through csp channels and WaitGroups, which are instrumented (grpc_server.cc
// ends each serve() goroutine on a WaitGroup for exactly this reason), and all socket work of the
// HTTP side is ours and Asio's headers, instrumented too.

#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race:libprotobuf.so\n"
         "called_from_lib:libprotobuf.so\n"
         "race:absl::*Status::Unref\n"
#if defined(OTLPD_TSAN_SUPPRESS_GRPC)
         "race:libgrpc.so\n"
         "race:libgrpc++.so\n"
         "race:libgpr.so\n"
         "race:libabsl_\n"
         "race:libz.so\n"
         "race:libssl.so\n"
         "race:libcrypto.so\n"
         "race:/usr/include/grpcpp/\n"
         "race:/usr/include/grpc/\n"
         "called_from_lib:libgrpc.so\n"
         "called_from_lib:libgrpc++.so\n"
         "called_from_lib:libgpr.so\n"
         "deadlock:libgrpc.so\n"
         "deadlock:libabsl_\n"
#endif
      ;
}
#endif
