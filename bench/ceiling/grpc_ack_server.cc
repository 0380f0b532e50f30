// grpc_ack_server: the gRPC ceiling for bench/run — a grpc++ callback server that answers every
// call, whatever its method, with an empty message and OK, without looking at the request.
// An empty Export*ServiceResponse is zero bytes on the wire, so every OTLP Export call gets a
// valid full-success answer; the request's bytes are received (that is the server's cost) but
// never parsed.
//
// Prints "grpc_ack_server: listening grpc HOST:PORT" and "grpc_ack_server: ready" on stdout, and
// "grpc_ack_server: totals: requests N bytes B" on SIGTERM or SIGINT before it exits.
//
//   grpc_ack_server [--listen 127.0.0.1:0]

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace {

std::atomic<std::uint64_t> g_requests{0};
std::atomic<std::uint64_t> g_bytes{0};

// One call: read the request, answer with the empty message, done. OTLP Export is unary, so the
// one read carries the whole request; the client's half-close need not be waited for.
class AckReactor final : public grpc::ServerGenericBidiReactor {
 public:
  AckReactor() { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    g_requests.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(request_.Length(), std::memory_order_relaxed);
    request_.Clear();
    grpc::Slice empty;
    response_ = grpc::ByteBuffer(&empty, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class AckService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new AckReactor();
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
      listen = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--listen HOST:PORT]\n"
                   "A grpc++ callback server that acks every call with an empty message, "
                   "without decoding it.\n",
                   argv[0]);
      return std::strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }

  // Block the stop signals before grpc++ starts its threads, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  AckService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(-1);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "grpc_ack_server: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("grpc_ack_server: listening grpc %s:%d\n", host.c_str(), port);
  std::printf("grpc_ack_server: ready\n");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server->Shutdown();
  std::printf("grpc_ack_server: totals: requests %llu bytes %llu\n",
              static_cast<unsigned long long>(g_requests.load()),
              static_cast<unsigned long long>(g_bytes.load()));
  return 0;
}
