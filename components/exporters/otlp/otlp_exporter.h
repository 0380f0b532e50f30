#pragma once
// The `otlp` (gRPC) and `otlp_http` (alias `otlphttp`) exporters: a transport client behind the
// sending queue, retry and timeout of QueuedRetryExporter.
//
// Which failures are retried follows the OTLP specification: gRPC CANCELLED,
// DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS, and RESOURCE_EXHAUSTED
// when the server sent RetryInfo; HTTP 429, 502, 503 and 504 (the transport reports them as
// UNAVAILABLE or RESOURCE_EXHAUSTED with retry_after). Everything else is permanent.

#include <memory>
#include <string>

#include "components/exporters/helper/queued_retry.h"
#include "components/extensions/headers_setter/headers_setter.h"
#include "transport/grpc_client.h"
#include "transport/http_client.h"

namespace components {

struct OtlpGrpcExporterConfig {
  transport::GrpcClientOptions client;
  QueueConfig queue;
  RetryConfig retry;
  // auth: headers_setter — the headers of each request, from its batch's client metadata.
  std::shared_ptr<HeadersSetter> headers_setter;
};

struct OtlpHttpExporterConfig {
  transport::HttpClientOptions client;
  QueueConfig queue;
  RetryConfig retry;
  // auth: headers_setter — the headers of each request, from its batch's client metadata.
  std::shared_ptr<HeadersSetter> headers_setter;
};

// Whether a failed export should be retried (see above).
bool is_retryable_export(const absl::Status& status, bool has_retry_after);

// A transport's result as the queue sees it. `http`: OTLP/HTTP retries 429 (RESOURCE_EXHAUSTED)
// with or without Retry-After; gRPC-style transports only with RetryInfo.
SendOutcome outcome_of(transport::ExportResult r, bool http);

std::shared_ptr<pipeline::Exporter> make_otlp_grpc_exporter(std::string id,
                                                            OtlpGrpcExporterConfig config,
                                                            pipeline::Host& host);
std::shared_ptr<pipeline::Exporter> make_otlp_http_exporter(std::string id,
                                                            OtlpHttpExporterConfig config,
                                                            pipeline::Host& host);

}  // namespace components
