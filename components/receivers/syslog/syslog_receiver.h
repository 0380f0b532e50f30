#pragma once
// The `syslog` receiver: syslog over UDP and TCP (RFC 5424 or RFC 3164; on TCP octet-counted
// (RFC 6587) or newline framing) as OTLP logs, configured as the Collector (contrib) spells it:
//
//   receivers:
//     syslog:
//       udp: {listen_address: "0.0.0.0:5140"}
//       tcp: {listen_address: "0.0.0.0:5140"}
//       protocol: rfc5424              # or rfc3164
//       location: UTC                  # rfc3164 time zone: UTC or Local
//       enable_octet_counting: false   # tcp: "LEN SP MSG" frames instead of lines
//       max_log_size: 1MiB             # tcp: longest message
//
// Contract:
//  - Each message becomes one log record (syslog_parser.h). A message that does not parse is
//    not lost: it becomes a record whose body is the message as received, without the parsed
//    attributes. `malformed` counts those apart from the outcomes: every message ends up
//    accepted, too_large, busy or refused, and a malformed one is also counted as malformed.
//  - TCP: a connection's messages are handed to the pipeline a read at a time, and the next
//    read waits for the pipeline's answer, so a slow pipeline slows the sender (backpressure).
//    A message longer than max_log_size is dropped and counted (too_large), and the stream
//    resynchronises at the next frame. Buffer growth past 64 KiB is claimed from the memory
//    budget first; without room the connection is closed.
//  - UDP: one datagram is one message (a trailing newline is dropped). UDP cannot push back:
//    datagrams the pipeline has no room for (a queue of 1024 batches, each claimed from the
//    memory budget) are dropped and counted (busy); what the pipeline refuses is counted
//    (refused).
//  - shutdown(ctx) closes the sockets and ends the connections; hand-ons still waiting when
//    ctx's deadline passes are given up (refused), so it returns soon after the deadline.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "components/receivers/syslog/syslog_parser.h"
#include "csp/chan.h"
#include "csp/wait_group.h"
#include "pipeline/component.h"
#include "pipeline/host.h"
#include "telemetry/registry.h"
#include "transport/internal/datagram_socket.h"
#include "transport/internal/listener.h"

namespace components {

struct SyslogReceiverConfig {
  SyslogParseOptions parse;
  std::optional<std::string> udp_endpoint;  // udp::listen_address
  std::optional<std::string> tcp_endpoint;  // tcp::listen_address
  std::size_t max_log_size = 1u << 20;      // tcp::max_log_size
  bool octet_counting = false;              // enable_octet_counting
  std::size_t max_connections = 4096;       // tcp: connections at once
  // How long a batch may wait for the pipeline's answer.
  csp::Duration request_timeout = std::chrono::seconds(5);
};

class SyslogReceiver final : public pipeline::Receiver {
 public:
  SyslogReceiver(std::string id, SyslogReceiverConfig config, pipeline::Host& host);
  ~SyslogReceiver() override;

  void connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  // What happened to each message, for tests and metrics.
  enum Outcome { kAccepted = 0, kMalformed = 1, kTooLarge = 2, kBusy = 3, kRefused = 4 };
  static constexpr std::size_t kOutcomes = 5;
  std::int64_t count(Outcome outcome) const {
    return counts_[outcome].load(std::memory_order_relaxed);
  }

 private:
  // Parses one message into `records` (a malformed one too, counted).
  void parse_into(std::string_view message, std::int64_t now_ns,
                  std::vector<SyslogRecord>& records);
  // The records as one logs batch.
  pipeline::Batch batch_of(std::vector<SyslogRecord>& records) const;
  // Hands a batch on and counts the outcome; OK when accepted.
  csp::Task<bool> deliver(pipeline::Batch batch);
  void note(Outcome outcome, std::int64_t n = 1);
  csp::Task<void> udp_sender();
  csp::Task<void> serve_tcp(std::shared_ptr<transport::internal::TcpSocket> socket,
                            transport::internal::ConnectionSlot slot);

  std::string id_;
  SyslogReceiverConfig config_;
  pipeline::Host& host_;
  std::shared_ptr<pipeline::Consumer> next_;

  std::shared_ptr<transport::internal::UdpSocket> udp_;
  std::shared_ptr<transport::internal::Listener> tcp_;
  // A datagram's batch and the memory claimed for it until it is handed on.
  struct Queued {
    pipeline::Batch batch;
    std::shared_ptr<void> claim;
  };
  csp::Chan<Queued> udp_queue_{1024};
  // Cancelled when the shutdown deadline passes: hand-ons still waiting give up.
  csp::Context stop_ctx_;
  csp::CancelFunc stop_;
  csp::WaitGroup goroutines_;
  std::mutex mu_;  // guards connections_ and stopping_
  std::vector<std::weak_ptr<transport::internal::TcpSocket>> connections_;
  bool stopping_ = false;

  std::array<std::atomic<std::int64_t>, kOutcomes> counts_{};
  std::array<telemetry::Counter*, kOutcomes> metrics_{};
};

}  // namespace components
