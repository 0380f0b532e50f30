#pragma once
// GrpcExporterClient: sends serialized Export*ServiceRequests over OTLP/gRPC — what the `otlp`
// exporter uses. The body goes out as is (grpc::GenericStub, no re-encoding).
//
// Contract:
//  - export_request() is a goroutine-only coroutine and never blocks its worker: the RPC runs on
//    gRPC's callback API and the goroutine parks on a channel until the completion arrives.
//    Any number of exports may run at once, from any goroutines, over one HTTP/2 channel.
//  - Result: the server's status as received (code and message); retry_after from the
//    google.rpc.RetryInfo detail of grpc-status-details-bin; rejected_items / partial_message
//    from the response's partial_success. Transport failures are gRPC's own codes (UNAVAILABLE
//    when the server cannot be reached, DEADLINE_EXCEEDED after `timeout`).
//  - Cancellation: the RPC's deadline is the earlier of now + timeout and ctx's deadline;
//    cancelling ctx cancels the RPC, and export_request() then returns ctx.err(). It returns
//    only after gRPC has released everything of the call.
//  - Configuration errors (options.validate(), an unreadable ca_file) are reported by every
//    export_request() as INVALID_ARGUMENT; construction never fails.
//  - Lifetime: the client must outlive every export_request() it started.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/context.h"
#include "csp/task.h"
#include "otlp/compression.h"
#include "transport/export.h"
#include "transport/tls.h"

namespace grpc {
class Channel;
class ChannelArguments;
class ChannelCredentials;
template <class RequestType, class ResponseType>
class TemplatedGenericStub;
class ByteBuffer;
class Slice;
}  // namespace grpc

namespace transport {

inline constexpr std::chrono::milliseconds kDefaultGrpcClientTimeout{5000};

struct GrpcClientOptions {
  // "host:port" (a gRPC target: "dns:///host:port" works too). A leading "http://" or
  // "https://" is dropped; TLS is decided by `insecure` alone.
  std::string endpoint;
  // true: plaintext. false: TLS as `tls` says (by default verifying the server against the
  // system's roots).
  bool insecure = false;
  // ca_file, cert_file/key_file (mTLS), server_name_override, insecure_skip_verify. The files
  // are read once, at construction. min_version must stay 1.2 (gRPC offers 1.2 and 1.3 anyway);
  // max_version cannot be set.
  TlsClientOptions tls;
  // Sent as metadata on every call; keys are lower-cased as HTTP/2 requires.
  std::map<std::string, std::string> headers;
  // The `authorization` metadata of each call, asked anew every time (a rotated token is sent
  // from then on); empty = none. Thread-safe.
  std::function<std::string()> authorization;
  // kNone, kGzip or kDeflate (gRPC 1.51 has no zstd).
  otlp::Compression compression = otlp::Compression::kGzip;
  // Deadline of each export; must be positive.
  std::chrono::milliseconds timeout = kDefaultGrpcClientTimeout;

  absl::Status validate() const;
};

class GrpcExporterClient {
 public:
  explicit GrpcExporterClient(GrpcClientOptions options);
  ~GrpcExporterClient();
  GrpcExporterClient(const GrpcExporterClient&) = delete;
  GrpcExporterClient& operator=(const GrpcExporterClient&) = delete;

  csp::Task<ExportResult> export_request(otlp::Signal signal, std::string body, csp::Context ctx);
  // The same without taking the body: it is the caller's again once the task completes, and
  // must stay alive and unchanged until then. No copy of it is made. `headers` (if given,
  // alive until the task completes): sent with this request instead of the options' headers
  // (a headers_setter's result); the options' authorization is still added.
  csp::Task<ExportResult> export_borrowed(otlp::Signal signal, std::string_view body,
                                          csp::Context ctx, const Headers* headers = nullptr);

 private:
  csp::Task<ExportResult> call(otlp::Signal signal, grpc::Slice body, csp::Context ctx,
                               const Headers* headers = nullptr);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> make_credentials(
      grpc::ChannelArguments& args) const;

  using GenericStub = grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer>;

  GrpcClientOptions options_;
  absl::Status config_status_;  // OK, or why every export fails
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<GenericStub> stub_;
};

}  // namespace transport
