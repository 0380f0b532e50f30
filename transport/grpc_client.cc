// GrpcExporterClient: GenericStub::UnaryCall (callback API) bridged to a goroutine by a
// one-slot channel. The call's state lives in the goroutine's frame; the goroutine always waits
// for gRPC's completion (cancelling first if its context is done), so gRPC never refers to a
// frame that is gone.

#include "transport/grpc_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/byte_buffer.h>

#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/select.h"
#include "google/rpc/status.pb.h"
#include "otlp/binary_codec.h"
#include "transport/internal/grpc_status_codes.h"
#include "transport/internal/messages.h"
#include "transport/internal/strings.h"

namespace transport {
namespace {

std::string_view strip_scheme(std::string_view endpoint) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (endpoint.substr(0, scheme.size()) == scheme) return endpoint.substr(scheme.size());
  }
  return endpoint;
}

absl::StatusOr<std::string> read_file(std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::av(key), " \"", path, "\": cannot open"));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
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

ExportResult result_of(otlp::Signal signal, const grpc::Status& status,
                       const grpc::ByteBuffer& response) {
  ExportResult result;
  if (status.ok()) {
    // A response we cannot read still means success: the data was accepted.
    std::unique_ptr<google::protobuf::Message> message =
        internal::make_export_response(signal, 0, "");
    if (otlp::decode_binary(flatten(response), *message).ok()) {
      internal::PartialSuccess partial = internal::partial_success_of(signal, *message);
      result.rejected_items = partial.rejected_items;
      result.partial_message = std::move(partial.message);
    }
    return result;
  }
  result.status =
      absl::Status(internal::code_for_grpc_status(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    google::rpc::Status details;
    if (details.ParseFromString(status.error_details())) {
      result.retry_after = internal::retry_info_of(details);
    }
  }
  return result;
}

// Whether a failed call certainly left nothing with the server. Two cases are certain: the
// server sent the status itself (it came with trailers or a google.rpc.Status: a transport
// failure has neither), and the channel had no connection to send on (gRPC fails such calls at
// once with this message). A bare status without either is left "unknown": it may as well have
// come from a connection lost after the request was written.
bool not_received(grpc::ClientContext& context, const grpc::Status& status) {
  if (!status.error_details().empty() || !context.GetServerTrailingMetadata().empty()) {
    return true;
  }
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         absl::StartsWith(status.error_message(), "failed to connect to all addresses");
}

}  // namespace

absl::Status GrpcClientOptions::validate() const {
  if (strip_scheme(endpoint).empty()) return absl::InvalidArgumentError("endpoint: must be set");
  if (compression == otlp::Compression::kZstd) {
    return absl::InvalidArgumentError(
        "compression: zstd is not supported over gRPC (gRPC 1.51 knows none, gzip, deflate)");
  }
  if (timeout.count() <= 0) return absl::InvalidArgumentError("timeout: must be positive");
  if (!insecure) {
    if (absl::Status s = tls.validate(); !s.ok()) return s;
    // gRPC 1.51's credentials choose the versions themselves (1.2 and 1.3) and cannot be told
    // otherwise: a setting that would be ignored is refused.
    if (tls.min_version != kDefaultTlsMinVersion) {
      return absl::InvalidArgumentError(
          "min_version: the gRPC client cannot restrict TLS versions (gRPC offers 1.2 and 1.3)");
    }
    if (!tls.max_version.empty()) {
      return absl::InvalidArgumentError("max_version: not settable on the gRPC client");
    }
  }
  for (const auto& [key, value] : headers) {
    if (key.empty()) return absl::InvalidArgumentError("headers: empty header name");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> GrpcExporterClient::make_credentials(
    grpc::ChannelArguments& args) const {
  if (options_.insecure) return grpc::InsecureChannelCredentials();
  const TlsClientOptions& tls = options_.tls;
  std::string roots, cert, key;
  for (auto [name, path, into] :
       {std::tuple{"ca_file", &tls.ca_file, &roots}, std::tuple{"cert_file", &tls.cert_file, &cert},
        std::tuple{"key_file", &tls.key_file, &key}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = read_file(name, *path);
    if (!pem.ok()) return pem.status();
    *into = *std::move(pem);
  }
  if (!tls.server_name_override.empty()) args.SetSslTargetNameOverride(tls.server_name_override);
  if (!tls.insecure_skip_verify) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = std::move(roots);
    ssl.pem_cert_chain = std::move(cert);
    ssl.pem_private_key = std::move(key);
    return grpc::SslCredentials(ssl);
  }
  // Encrypted but unverified: gRPC's TLS credentials with a verifier that accepts anything.
  grpc::experimental::TlsChannelCredentialsOptions unverified;
  if (!cert.empty()) {
    unverified.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            roots, std::vector<grpc::experimental::IdentityKeyCertPair>{{key, cert}}));
    unverified.watch_identity_key_cert_pairs();
  }
  unverified.set_verify_server_certs(false);
  unverified.set_check_call_host(false);
  unverified.set_certificate_verifier(
      std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(unverified);
}

GrpcExporterClient::GrpcExporterClient(GrpcClientOptions options) : options_(std::move(options)) {
  config_status_ = options_.validate();
  if (!config_status_.ok()) return;
  grpc::ChannelArguments args;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = make_credentials(args);
  if (!credentials.ok()) {
    config_status_ = credentials.status();
    return;
  }
  args.SetUserAgentPrefix("otlpd");
  // Let every message through: the pipeline sizes its batches, and responses are tiny.
  args.SetMaxSendMessageSize(-1);
  channel_ =
      grpc::CreateCustomChannel(std::string(strip_scheme(options_.endpoint)), *credentials, args);
  stub_ = std::make_unique<GenericStub>(channel_);
}

GrpcExporterClient::~GrpcExporterClient() = default;

csp::Task<ExportResult> GrpcExporterClient::export_request(otlp::Signal signal, std::string body,
                                                           csp::Context ctx) {
  // The slice takes the body over instead of copying it.
  auto owned = std::make_unique<std::string>(std::move(body));
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); },
      owned.get());
  owned.release();  // the slice's now
  co_return co_await call(signal, std::move(slice), std::move(ctx));
}

csp::Task<ExportResult> GrpcExporterClient::export_borrowed(otlp::Signal signal,
                                                            std::string_view body, csp::Context ctx,
                                                            const Headers* headers) {
  // gRPC may hold the request's slice a little past the call's end (a write still queued when
  // the server answered early, a cancelled call being torn down), so the call's answer is not
  // the end of gRPC's reading. The slice's release is: it signals `released`, and only then
  // does the body go back to the caller.
  csp::Chan<csp::Unit> released(1);
  auto signal_released = std::make_unique<csp::Chan<csp::Unit>>(released);
  grpc::Slice slice(
      const_cast<char*>(body.data()), body.size(),
      [](void* p) {
        std::unique_ptr<csp::Chan<csp::Unit>> released(static_cast<csp::Chan<csp::Unit>*>(p));
        released->try_send(csp::Unit{});
      },
      signal_released.get());
  signal_released.release();  // the slice's now
  ExportResult result = co_await call(signal, std::move(slice), std::move(ctx), headers);
  co_await released.recv();
  co_return result;
}

csp::Task<ExportResult> GrpcExporterClient::call(otlp::Signal signal, grpc::Slice body,
                                                 csp::Context ctx, const Headers* headers) {
  // The request holds the only reference to the body once this returns: taken here so that
  // every path out of this function drops it.
  grpc::ByteBuffer request(&body, 1);
  body = grpc::Slice();
  if (!config_status_.ok()) co_return ExportResult{config_status_};
  if (ctx.is_done()) co_return ExportResult{ctx.err()};

  grpc::ClientContext context;
  csp::TimePoint deadline = csp::Clock::now() + options_.timeout;
  if (std::optional<csp::TimePoint> ctx_deadline = ctx.deadline()) {
    deadline = std::min(deadline, *ctx_deadline);
  }
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::max(deadline - csp::Clock::now(), csp::Duration::zero())));
  switch (options_.compression) {
    case otlp::Compression::kGzip:
      context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
      break;
    case otlp::Compression::kDeflate:
      context.set_compression_algorithm(GRPC_COMPRESS_DEFLATE);
      break;
    default:
      break;
  }
  if (headers != nullptr) {
    for (const auto& [key, value] : *headers)
      context.AddMetadata(absl::AsciiStrToLower(key), value);
  } else {
    for (const auto& [key, value] : options_.headers) {
      context.AddMetadata(absl::AsciiStrToLower(key), value);
    }
  }
  if (options_.authorization) context.AddMetadata("authorization", options_.authorization());

  grpc::ByteBuffer response;
  grpc::Status status;
  // Written by gRPC's callback thread before it sends on `completed`; read after the receive.
  csp::Chan<csp::Unit> completed(1);
  stub_->UnaryCall(&context, std::string(internal::export_method(signal)), grpc::StubOptions(),
                   &request, &response, [completed, &status](grpc::Status s) {
                     status = std::move(s);
                     completed.try_send(csp::Unit{});
                   });

  csp::Chan<csp::Unit> ctx_done = ctx.done();
  if (co_await csp::select(csp::recv(completed), csp::recv(ctx_done)) == 1) {
    context.TryCancel();
    co_await completed.recv();
    if (!status.ok()) co_return ExportResult{ctx.err()};
  }
  ExportResult result = result_of(signal, status, response);
  if (!status.ok()) result.not_received = not_received(context, status);
  co_return result;
}

}  // namespace transport
