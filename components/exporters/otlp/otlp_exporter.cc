#include "components/exporters/otlp/otlp_exporter.h"

#include <map>
#include <optional>
#include <string>

namespace components {

bool is_retryable_export(const absl::Status& status, bool has_retry_after) {
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
      return true;
    case absl::StatusCode::kResourceExhausted:
      return has_retry_after;
    default:
      return false;
  }
}

SendOutcome outcome_of(transport::ExportResult r, bool http) {
  SendOutcome out;
  const bool retry_after = r.retry_after.has_value() || http;
  out.retryable = !r.status.ok() && is_retryable_export(r.status, retry_after);
  out.retry_after = r.retry_after;
  out.not_received = r.not_received;
  out.status = std::move(r.status);
  return out;
}

namespace {

// A request's headers when a headers_setter is the exporter's auth: the configured headers with
// its rules applied for the batch's client metadata; nullopt (the client's own) otherwise.
struct RequestHeaders {
  std::shared_ptr<HeadersSetter> setter;
  std::map<std::string, std::string> base;
  std::optional<transport::Headers> of(const pipeline::Batch& batch) const {
    if (setter == nullptr) return std::nullopt;
    return setter->apply(base, batch.client.get());
  }
};

}  // namespace

std::shared_ptr<pipeline::Exporter> make_otlp_grpc_exporter(std::string id,
                                                            OtlpGrpcExporterConfig config,
                                                            pipeline::Host& host) {
  auto client = std::make_shared<transport::GrpcExporterClient>(config.client);
  SendFn send = [client, headers = RequestHeaders{config.headers_setter, config.client.headers}](
                    const pipeline::Batch& batch, csp::Context ctx) -> csp::Task<SendOutcome> {
    const std::optional<transport::Headers> h = headers.of(batch);
    // The queue keeps the batch for retries: lend it rather than copy it per attempt.
    transport::ExportResult r = co_await client->export_borrowed(batch.signal, batch.bytes,
                                                                 std::move(ctx), h ? &*h : nullptr);
    co_return outcome_of(std::move(r), /*http=*/false);
  };
  return std::make_shared<QueuedRetryExporter>(std::move(id), config.queue, config.retry,
                                               config.client.timeout, std::move(send), host);
}

std::shared_ptr<pipeline::Exporter> make_otlp_http_exporter(std::string id,
                                                            OtlpHttpExporterConfig config,
                                                            pipeline::Host& host) {
  auto client = std::make_shared<transport::HttpExporterClient>(config.client);
  SendFn send = [client, headers = RequestHeaders{config.headers_setter, config.client.headers}](
                    const pipeline::Batch& batch, csp::Context ctx) -> csp::Task<SendOutcome> {
    const std::optional<transport::Headers> h = headers.of(batch);
    transport::ExportResult r = co_await client->export_borrowed(batch.signal, batch.bytes,
                                                                 std::move(ctx), h ? &*h : nullptr);
    co_return outcome_of(std::move(r), /*http=*/true);
  };
  return std::make_shared<QueuedRetryExporter>(std::move(id), config.queue, config.retry,
                                               config.client.timeout, std::move(send), host);
}

}  // namespace components
