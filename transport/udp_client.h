#pragma once
// UdpExporterClient: sends OTLP requests as datagrams to a UdpServer (udp_server.h gives the
// format: a signal tag byte, then the request).
//
// Contract:
//  - send(signal, parts, ctx) sends each part as one datagram, with one sendmmsg() call per
//    kUdpBatch datagrams, on a connected socket made on first use. The name is resolved then,
//    with the resolver's blocking call (no lock held); a failure is answered for a second
//    before the next attempt, so a DNS outage costs one lookup a second, not one per send.
//    Each part must fit: 1 + part.size() <= max_datagram_size, else INVALID_ARGUMENT and nothing
//    is sent. Splitting a request so that it fits is the caller's (the otlp_udp exporter).
//  - OK means the kernel took every datagram; UDP says nothing of delivery. A full send buffer
//    is waited out in 1 ms steps until ctx is done (DEADLINE_EXCEEDED or CANCELLED, with what
//    was sent so far sent). An error (ECONNREFUSED: the last datagrams met a closed port; no
//    route; ...) is UNAVAILABLE; not_received is set when none of this call's datagrams went.
//  - Thread-safe: goroutines may send at once (each datagram is whole on the wire).

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "csp/context.h"
#include "csp/task.h"
#include "otlp/signal_enum.h"
#include "transport/export.h"

namespace transport {

// What fits in one Ethernet frame of 1500 bytes over IPv4 or IPv6 with room for tunnels.
inline constexpr std::size_t kDefaultUdpClientDatagramSize = 1400;

struct UdpClientOptions {
  std::string endpoint;                                           // "host:port"
  std::size_t max_datagram_size = kDefaultUdpClientDatagramSize;  // tag included; in [2, 65507]

  absl::Status validate() const;
};

class UdpExporterClient {
 public:
  explicit UdpExporterClient(UdpClientOptions options);
  ~UdpExporterClient();
  UdpExporterClient(const UdpExporterClient&) = delete;
  UdpExporterClient& operator=(const UdpExporterClient&) = delete;

  csp::Task<ExportResult> send(otlp::Signal signal, std::vector<std::string_view> parts,
                               csp::Context ctx);
  const UdpClientOptions& options() const { return options_; }

 private:
  // The connected socket, made if there is none; -1 and *error on failure. After a failure
  // the same error is answered for a second without trying again.
  int socket(absl::Status* error);
  // Resolves the endpoint (blocking) and connects a new socket.
  absl::Status connect_socket(int* fd) const;

  const UdpClientOptions options_;
  std::mutex mu_;
  int fd_ = -1;  // guarded by mu_; kept for the client's life once connected
  std::chrono::steady_clock::time_point retry_at_;  // guarded by mu_
  absl::Status last_error_;                         // guarded by mu_
};

}  // namespace transport
