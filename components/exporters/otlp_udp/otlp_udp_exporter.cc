#include "components/exporters/otlp_udp/otlp_udp_exporter.h"

#include "absl/strings/str_cat.h"
#include "components/processors/batch/batch_processor.h"
#include "otlp/wire.h"

namespace components {

absl::StatusOr<FittedRequests> split_to_fit(otlp::Signal signal, std::string bytes,
                                            std::size_t max_bytes) {
  FittedRequests out;
  std::vector<std::string> todo;
  todo.push_back(std::move(bytes));
  while (!todo.empty()) {
    std::string b = std::move(todo.back());
    todo.pop_back();
    if (b.size() <= max_bytes) {
      out.parts.push_back(std::move(b));
      continue;
    }
    absl::StatusOr<std::uint64_t> items = otlp::wire_count_items(signal, b);
    if (!items.ok()) return items.status();
    if (*items <= 1) {
      out.oversized_items += static_cast<std::int64_t>(*items);
      continue;
    }
    // Halves (by items) until each fits: each step at least halves the largest piece's items.
    absl::StatusOr<std::vector<std::string>> halves = split_request(signal, b, (*items + 1) / 2);
    if (!halves.ok()) return halves.status();
    if (halves->size() <= 1) {
      // Cannot be cut further (should not happen with two or more items): not sendable.
      out.oversized_items += static_cast<std::int64_t>(*items);
      continue;
    }
    // Kept in order: the pieces go out in the order they were in the batch.
    for (auto it = halves->rbegin(); it != halves->rend(); ++it) todo.push_back(std::move(*it));
  }
  return out;
}

std::shared_ptr<pipeline::Exporter> make_otlp_udp_exporter(std::string id,
                                                           OtlpUdpExporterConfig config,
                                                           pipeline::Host& host) {
  auto client = std::make_shared<transport::UdpExporterClient>(config.client);
  telemetry::Counter* oversized = nullptr;
  if (host.telemetry().enabled()) {
    oversized = &host.telemetry().counter(
        "otlpd_exporter_udp_oversized_items",
        "Items dropped because alone they do not fit in max_datagram_size.", {{"exporter", id}});
  }
  const std::size_t max_request = config.client.max_datagram_size - 1;  // the tag byte
  SendFn send = [client, oversized, max_request, &host, id](
                    const pipeline::Batch& batch, csp::Context ctx) -> csp::Task<SendOutcome> {
    SendOutcome out;
    absl::StatusOr<FittedRequests> fitted = split_to_fit(batch.signal, batch.bytes, max_request);
    if (!fitted.ok()) {
      out.status = absl::InvalidArgumentError(
          absl::StrCat("cannot cut the batch into datagrams: ", fitted.status().message()));
      out.not_received = true;
      co_return out;
    }
    if (fitted->oversized_items > 0) {
      if (oversized != nullptr) oversized->add(fitted->oversized_items);
      host.log(pipeline::LogLevel::kError, id,
               absl::StrCat("dropping ", fitted->oversized_items,
                            " items that alone do not fit in max_datagram_size (", max_request + 1,
                            " bytes)"));
    }
    std::vector<std::string_view> views(fitted->parts.begin(), fitted->parts.end());
    transport::ExportResult r = co_await client->send(batch.signal, std::move(views), ctx);
    out.retryable = r.status.code() == absl::StatusCode::kUnavailable ||
                    r.status.code() == absl::StatusCode::kDeadlineExceeded;
    out.not_received = r.not_received;
    out.status = std::move(r.status);
    co_return out;
  };
  return std::make_shared<QueuedRetryExporter>(std::move(id), config.queue, config.retry,
                                               config.timeout, std::move(send), host);
}

}  // namespace components
