// GrpcServer: one ExportCall reactor per RPC, one goroutine per request.
//
// The life of a call:
//  1. gRPC creates an ExportCall (CreateReactor, gRPC thread). An unknown method is finished
//     UNIMPLEMENTED at once; otherwise the reactor asks for the request message.
//  2. OnReadDone (gRPC thread) starts ExportCall::serve as a goroutine and returns.
//  3. serve flattens the message, validates it (otlp::decode_binary on an Arena), awaits the
//     handler, and finishes the RPC (StartWriteAndFinish / Finish may be called from any
//     thread). After that call it touches nothing of the reactor: gRPC may delete it.
//  4. OnDone (gRPC thread) deletes the reactor and marks the call done in `calls`.
//
// Shutdown protocol (GrpcServer::shutdown):
//  1. Mark the server stopped under `mu`, so start() cannot run again.
//  2. grpc::Server::Shutdown(deadline): stop accepting calls; wait for in-flight calls until the
//     deadline, then cancel them on the wire. Our goroutines still finish each call they own.
//  3. Wait for `calls` and `goroutines` to reach zero: every reactor has seen OnDone and every
//     serve() goroutine has ended, so nothing will touch Impl again.
//  4. Destroy the grpc::Server.

#include "transport/grpc_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/scheduler.h"
#include "csp/wait_group.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/messages.h"

namespace transport {
namespace {

int clamp_ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<std::int64_t>(d.count(), 0, INT_MAX));
}

// gRPC names peers "ipv4:127.0.0.1:5000" or "ipv6:%5B::1%5D:5000"; the pipeline wants
// "127.0.0.1:5000" and "[::1]:5000".
std::string normalize_peer(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.substr(0, scheme.size()) == scheme) {
      peer.remove_prefix(scheme.size());
      break;
    }
  }
  std::string out;
  out.reserve(peer.size());
  for (std::size_t i = 0; i < peer.size(); ++i) {
    if (peer[i] == '%' && i + 2 < peer.size()) {
      const auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(peer[i + 1]);
      const int lo = hex(peer[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(peer[i]);
  }
  return out;
}

std::string flatten(const grpc::ByteBuffer& buffer) {
  std::string out;
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// grpc::Server::Shutdown takes a system_clock deadline; ours is steady. Far futures are capped
// (gRPC's conversion would overflow on TimePoint::max()).
std::chrono::system_clock::time_point to_system_deadline(csp::TimePoint deadline) {
  const csp::TimePoint now = csp::Clock::now();
  if (deadline <= now) return std::chrono::system_clock::now();
  const auto remaining = std::min<csp::Duration>(deadline - now, std::chrono::hours(24 * 365 * 10));
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(remaining);
}

}  // namespace

absl::Status GrpcServerOptions::validate() const {
  absl::StatusOr<internal::HostPort> hp = internal::parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  if (max_recv_msg_size_mib <= 0 || max_recv_msg_size_mib > 2047) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_recv_msg_size_mib: must be in [1, 2047], got ", max_recv_msg_size_mib));
  }
  if (max_concurrent_streams.has_value() && *max_concurrent_streams <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_concurrent_streams: must be positive, got ", *max_concurrent_streams));
  }
  if (max_any_value_depth <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_any_value_depth: must be positive, got ", max_any_value_depth));
  }
  const std::pair<const char*, const std::optional<std::chrono::milliseconds>*> durations[] = {
      {"keepalive.server_parameters.time", &keepalive.time},
      {"keepalive.server_parameters.timeout", &keepalive.timeout},
      {"keepalive.server_parameters.max_connection_idle", &keepalive.max_connection_idle},
      {"keepalive.server_parameters.max_connection_age", &keepalive.max_connection_age},
      {"keepalive.server_parameters.max_connection_age_grace", &keepalive.max_connection_age_grace},
      {"keepalive.enforcement_policy.min_time", &keepalive_enforcement.min_time},
  };
  for (const auto& [name, value] : durations) {
    if (value->has_value() && (*value)->count() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": must not be negative"));
    }
  }
  return absl::OkStatus();
}

struct GrpcServer::Impl final : grpc::CallbackGenericService {
  Impl(GrpcServerOptions o, ExportHandler h) : options(std::move(o)), handler(std::move(h)) {
    limits.max_message_bytes = static_cast<std::size_t>(options.max_recv_msg_size_mib) << 20;
    limits.max_any_value_depth = options.max_any_value_depth;
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

  absl::StatusOr<int> start();
  void shutdown(csp::TimePoint deadline);

  const GrpcServerOptions options;
  const ExportHandler handler;
  otlp::DecodeLimits limits;

  enum class State { kNew, kRunning, kStopped };
  std::mutex mu;                         // guards state and server; held through shutdown
  State state = State::kNew;             // guarded by mu
  std::unique_ptr<grpc::Server> server;  // guarded by mu
  std::atomic<int> port{0};
  csp::WaitGroup calls;       // reactors created and not yet done (OnDone)
  csp::WaitGroup goroutines;  // serve() goroutines not yet ended
};

namespace {

// One Export RPC. Created and deleted by gRPC (CreateReactor / OnDone); owned by its goroutine
// between OnReadDone and the call that finishes the RPC.
class ExportCall final : public grpc::ServerGenericBidiReactor {
 public:
  ExportCall(GrpcServer::Impl* server, grpc::GenericCallbackServerContext* ctx) : server_(server) {
    server_->calls.add(1);
    signal_ = internal::signal_of_method(ctx->method());
    if (!signal_.has_value()) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("unknown method ", ctx->method())));
      return;
    }
    peer_ = normalize_peer(ctx->peer());
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed (or went away) without sending its request.
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "missing request message"));
      return;
    }
    server_->goroutines.add(1);
    csp::go(serve(this));
  }

  void OnDone() override {
    GrpcServer::Impl* server = server_;
    delete this;
    server->calls.done();
  }

 private:
  static csp::Task<void> serve(ExportCall* call) {
    GrpcServer::Impl* const server = call->server_;
    grpc::Status status = co_await call->answer();
    if (status.ok()) {
      call->StartWriteAndFinish(&call->response_, grpc::WriteOptions(), status);
    } else {
      call->Finish(std::move(status));
    }
    // The reactor may be gone from here on; the server is not (shutdown waits for us). Ending
    // through our own WaitGroup also gives shutdown a happens-before edge that ThreadSanitizer
    // can see, which the path through gRPC's OnDone (uninstrumented) does not provide.
    server->goroutines.done();
  }

  csp::Task<grpc::Status> answer() {
    std::string body = flatten(request_);
    request_.Clear();
    if (absl::Status valid = validate(body); !valid.ok()) {
      co_return grpc::Status(static_cast<grpc::StatusCode>(valid.code()),
                             std::string(valid.message()));
    }
    ExportResult result;
    try {
      // The Task is bound to a local before awaiting: g++ 12 mishandles class temporaries
      // (here the ExportRequest argument) inside a co_await operand (docs/csp.md).
      csp::Task<ExportResult> handled =
          server_->handler(ExportRequest{*signal_, std::move(body), peer_});
      result = co_await std::move(handled);
    } catch (const std::exception& e) {
      co_return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("export failed: ", e.what()));
    } catch (...) {
      co_return grpc::Status(grpc::StatusCode::INTERNAL, "export failed");
    }
    co_return to_grpc(result);
  }

  // Decodes once on an Arena so that the handler only ever sees requests that decode.
  absl::Status validate(std::string_view body) const {
    google::protobuf::Arena arena;
    google::protobuf::Message* message = otlp::new_request(*signal_, &arena);
    absl::Status status = otlp::decode_binary(body, *message, server_->limits);
    if (status.ok()) return status;
    return absl::Status(status.code(),
                        absl::StrCat("invalid ", otlp::request_descriptor(*signal_)->name(), ": ",
                                     status.message()));
  }

  grpc::Status to_grpc(const ExportResult& result) {
    if (result.status.ok()) {
      const std::string bytes =
          internal::make_export_response(*signal_, result.rejected_items, result.partial_message)
              ->SerializeAsString();
      grpc::Slice slice(bytes);
      response_ = grpc::ByteBuffer(&slice, 1);
      return grpc::Status::OK;
    }
    std::string details;
    if (result.retry_after.has_value()) {
      details = internal::make_rpc_status(result.status, result.retry_after).SerializeAsString();
    }
    return grpc::Status(static_cast<grpc::StatusCode>(result.status.code()),
                        std::string(result.status.message()), details);
  }

  GrpcServer::Impl* const server_;
  std::optional<otlp::Signal> signal_;
  std::string peer_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

grpc::ServerGenericBidiReactor* GrpcServer::Impl::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return new ExportCall(this, ctx);
}

absl::StatusOr<int> GrpcServer::Impl::start() {
  std::lock_guard lock(mu);
  if (state != State::kNew) {
    return absl::FailedPreconditionError(state == State::kRunning
                                             ? "GrpcServer: start() called twice"
                                             : "GrpcServer: start() after shutdown()");
  }
  if (!handler) return absl::FailedPreconditionError("GrpcServer: no handler");
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;

  // gRPC wants a host: ":4317" means every interface, as in Go.
  std::string address = options.endpoint;
  if (!address.empty() && address.front() == ':') address = "[::]" + address;

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  builder.RegisterCallbackGenericService(this);
  builder.SetMaxReceiveMessageSize(options.max_recv_msg_size_mib << 20);
  // Two servers on one port should be an error, not a silent load balancer.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  const auto& ka = options.keepalive;
  if (ka.time) builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, clamp_ms(*ka.time));
  if (ka.timeout) builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, clamp_ms(*ka.timeout));
  if (ka.max_connection_idle) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, clamp_ms(*ka.max_connection_idle));
  }
  if (ka.max_connection_age) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, clamp_ms(*ka.max_connection_age));
  }
  if (ka.max_connection_age_grace) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               clamp_ms(*ka.max_connection_age_grace));
  }
  const auto& policy = options.keepalive_enforcement;
  if (policy.min_time) {
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                               clamp_ms(*policy.min_time));
  }
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             policy.permit_without_stream ? 1 : 0);
  if (options.max_concurrent_streams) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, *options.max_concurrent_streams);
  }

  server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    server.reset();
    return absl::UnavailableError(
        absl::StrCat("GrpcServer: cannot listen on \"", options.endpoint, "\""));
  }
  state = State::kRunning;
  port.store(selected_port, std::memory_order_release);
  return selected_port;
}

void GrpcServer::Impl::shutdown(csp::TimePoint deadline) {
  std::lock_guard lock(mu);
  const State was = std::exchange(state, State::kStopped);
  if (was != State::kRunning) return;
  server->Shutdown(to_system_deadline(deadline));
  calls.wait_blocking();
  goroutines.wait_blocking();
  server.reset();
}

GrpcServer::GrpcServer(GrpcServerOptions options, ExportHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

GrpcServer::~GrpcServer() { impl_->shutdown(csp::Clock::now()); }

absl::StatusOr<int> GrpcServer::start() { return impl_->start(); }

int GrpcServer::port() const { return impl_->port.load(std::memory_order_acquire); }

void GrpcServer::shutdown(csp::TimePoint deadline) { impl_->shutdown(deadline); }

csp::Task<void> GrpcServer::shutdown_async(csp::TimePoint deadline) {
  csp::Chan<csp::Unit> done(1);
  std::thread([impl = impl_.get(), deadline, done] {
    impl->shutdown(deadline);
    done.try_send(csp::Unit{});
  }).detach();
  co_await done.recv();
}

}  // namespace transport
