#pragma once
// UdpServer: OTLP over UDP. Each datagram is one request and gets no answer:
//
//   [signal tag: 1 byte][Export{Trace,Metrics,Logs,Profiles}ServiceRequest, binary protobuf]
//
// with tag 1 = traces, 2 = metrics, 3 = logs, 4 = profiles (udp_tag_of). One port carries every
// signal. The contract for third-party senders is in docs/transport.md ("OTLP over UDP").
//
// UDP has no backpressure and no answers, so the server cannot ask a sender to slow down or try
// again: what it cannot take it drops, and it says exactly what it dropped and why
// (UdpServerStats, and on_drop for per-reason metrics).
//
// Contract:
//  - start() binds the endpoint (port 0 picks one) and starts one reader goroutine. It asks the
//    kernel for receive_buffer_size of socket buffer (SO_RCVBUFFORCE where permitted, else
//    SO_RCVBUF, which net.core.rmem_max caps); receive_buffer_size() says what it got.
//  - The reader takes up to kUdpBatch datagrams per recvmmsg() and parks on the poller only
//    when none are waiting. Each datagram is checked before anything else happens to it:
//    larger than max_datagram_size (truncated by the kernel) → kTooLarge; an unknown tag, or a
//    request that does not validate (otlp::validate_binary, the decoder's verdict) →
//    kMalformed; no room under max_requests_in_flight or in the memory budget (reserve_memory,
//    asked for the bytes and for what a decode would take) → kBusy. The rest go to the handler
//    (a goroutine each); a handler that refuses → kRefused, one that accepts → accepted.
//  - Every received datagram ends up in exactly one of accepted, the drop reasons, or in
//    flight: datagrams = accepted + dropped (all reasons) + in_flight.
//  - shutdown_async(deadline) closes the socket (what the kernel still holds is not read) and
//    waits, until the deadline, for the handlers in flight to finish. No exception escapes a
//    goroutine: a throwing handler counts as kRefused.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "otlp/binary_codec.h"
#include "transport/export.h"

namespace transport {

inline constexpr char kDefaultUdpEndpoint[] = "localhost:4319";
// The largest UDP payload over IPv4 (65535 - 8 bytes of UDP header - 20 of IP header).
inline constexpr std::size_t kMaxUdpPayload = 65507;
inline constexpr std::size_t kDefaultUdpReceiveBuffer = 8u << 20;  // 8 MiB
inline constexpr std::size_t kDefaultUdpRequestsInFlight = 256;
// Datagrams taken per recvmmsg() call.
inline constexpr std::size_t kUdpBatch = 16;

// The tag byte before each datagram's request, and back (nullopt for an unknown tag).
std::uint8_t udp_tag_of(otlp::Signal signal);
std::optional<otlp::Signal> signal_of_udp_tag(std::uint8_t tag);

struct UdpServerOptions {
  // "host:port"; port 0 picks a free port (start() returns it); ":port" = every interface.
  std::string endpoint = kDefaultUdpEndpoint;
  // Largest datagram accepted, tag included; larger ones are dropped (kTooLarge). In [1, 65507].
  std::size_t max_datagram_size = kMaxUdpPayload;
  // Socket receive buffer asked of the kernel (absorbs bursts while the reader is busy); 0 =
  // the system default.
  std::size_t receive_buffer_size = kDefaultUdpReceiveBuffer;
  // Datagrams handed to the handler and not yet finished; beyond, dropped (kBusy). Positive.
  std::size_t max_requests_in_flight = kDefaultUdpRequestsInFlight;
  int max_any_value_depth = otlp::kDefaultMaxAnyValueDepth;
  // Asked before a datagram's bytes are copied for the handler; empty = no budget.
  MemoryReserver reserve_memory;

  // Checks fields against each other; the message names the offending field.
  absl::Status validate() const;
};

// Why a datagram was dropped.
enum class UdpDrop { kTooLarge = 0, kMalformed = 1, kBusy = 2, kRefused = 3 };
inline constexpr std::size_t kUdpDropReasons = 4;
// "too_large", "malformed", "busy", "refused": label values for metrics.
const char* udp_drop_name(UdpDrop why);

struct UdpServerStats {
  std::uint64_t datagrams = 0;  // received
  std::uint64_t accepted = 0;   // the handler accepted
  std::uint64_t dropped[kUdpDropReasons] = {};
  std::uint64_t in_flight = 0;
  std::uint64_t dropped_total() const { return dropped[0] + dropped[1] + dropped[2] + dropped[3]; }
};

class UdpServer {
 public:
  // on_drop (optional): called for each dropped datagram, with how many items it held when
  // known (0 for datagrams that were never decoded), from the reader or a handler goroutine.
  using OnDrop = std::function<void(UdpDrop why, otlp::Signal signal, std::int64_t items)>;

  UdpServer(UdpServerOptions options, ExportHandler handler, OnDrop on_drop = {});
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  // Binds and starts reading; the bound port. Once only.
  absl::StatusOr<int> start();
  int port() const;
  // The socket receive buffer the kernel granted (after start).
  std::size_t receive_buffer_size() const;
  csp::Task<void> shutdown_async(csp::TimePoint deadline);
  // From a plain thread.
  void shutdown(csp::TimePoint deadline);

  UdpServerStats stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace transport
