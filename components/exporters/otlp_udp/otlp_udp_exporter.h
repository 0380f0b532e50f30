#pragma once
// The `otlp_udp` exporter: OTLP over UDP (transport/udp_server.h gives the datagram format) to
// an otlpd `otlp` receiver's `protocols.udp`, behind the usual sending queue, retry and timeout
// (QueuedRetryExporter).
//
//   exporters:
//     otlp_udp:
//       endpoint: "collector.example:4319"
//       max_datagram_size: 1400      # the default: fits a 1500-byte Ethernet frame
//
// Contract:
//  - Every datagram fits max_datagram_size: a batch is cut (split_to_fit) into requests of at
//    most max_datagram_size - 1 bytes, on resource and scope boundaries where they allow and
//    between items otherwise. An item that alone does not fit cannot be sent: it is dropped,
//    counted (otlpd_exporter_udp_oversized_items) and logged; the rest of its batch goes.
//  - OK means the kernel took every datagram; UDP reports no delivery. A send error (the port
//    answered "unreachable", no route) is retryable, and a retry sends the batch again whole:
//    at least once, never exactly once, over UDP.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "components/exporters/helper/queued_retry.h"
#include "transport/udp_client.h"

namespace components {

struct OtlpUdpExporterConfig {
  transport::UdpClientOptions client;
  QueueConfig queue;
  RetryConfig retry;
  csp::Duration timeout = std::chrono::seconds(5);
};

// `bytes` (a request of `signal`) as requests of at most max_bytes each, and how many items
// could not be made to fit (single items larger than max_bytes, dropped).
struct FittedRequests {
  std::vector<std::string> parts;
  std::int64_t oversized_items = 0;
};
absl::StatusOr<FittedRequests> split_to_fit(otlp::Signal signal, std::string bytes,
                                            std::size_t max_bytes);

std::shared_ptr<pipeline::Exporter> make_otlp_udp_exporter(std::string id,
                                                           OtlpUdpExporterConfig config,
                                                           pipeline::Host& host);

}  // namespace components
