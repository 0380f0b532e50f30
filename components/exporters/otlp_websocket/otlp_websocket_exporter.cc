#include "components/exporters/otlp_websocket/otlp_websocket_exporter.h"

#include "components/exporters/otlp/otlp_exporter.h"

namespace components {

std::shared_ptr<pipeline::Exporter> make_otlp_websocket_exporter(std::string id,
                                                                 OtlpWebSocketExporterConfig config,
                                                                 pipeline::Host& host) {
  auto client = std::make_shared<transport::WebSocketExporterClient>(config.client);
  SendFn send = [client](const pipeline::Batch& batch, csp::Context ctx) -> csp::Task<SendOutcome> {
    // The queue keeps the batch for retries: lend it rather than copy it per attempt.
    transport::ExportResult r =
        co_await client->export_borrowed(batch.signal, batch.bytes, std::move(ctx));
    co_return outcome_of(std::move(r), /*http=*/false);  // RetryInfo, as gRPC
  };
  return std::make_shared<QueuedRetryExporter>(std::move(id), config.queue, config.retry,
                                               config.client.timeout, std::move(send), host);
}

}  // namespace components
