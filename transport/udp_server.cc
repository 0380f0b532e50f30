#include "transport/udp_server.h"

#include <array>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/csp.h"
#include "csp/wait_group.h"
#include "otlp/wire.h"
#include "transport/internal/datagram_socket.h"
#include "transport/internal/endpoint.h"
#include "transport/internal/listener.h"

namespace transport {

std::uint8_t udp_tag_of(otlp::Signal signal) { return static_cast<std::uint8_t>(signal) + 1; }

std::optional<otlp::Signal> signal_of_udp_tag(std::uint8_t tag) {
  if (tag < 1 || tag > 4) return std::nullopt;
  return static_cast<otlp::Signal>(tag - 1);
}

const char* udp_drop_name(UdpDrop why) {
  switch (why) {
    case UdpDrop::kTooLarge:
      return "too_large";
    case UdpDrop::kMalformed:
      return "malformed";
    case UdpDrop::kBusy:
      return "busy";
    case UdpDrop::kRefused:
      return "refused";
  }
  return "unknown";
}

absl::Status UdpServerOptions::validate() const {
  absl::StatusOr<internal::HostPort> hp = internal::parse_host_port(endpoint, "endpoint");
  if (!hp.ok()) return hp.status();
  if (max_datagram_size < 1 || max_datagram_size > kMaxUdpPayload) {
    return absl::InvalidArgumentError(absl::StrCat("max_datagram_size: must be in [1, ",
                                                   kMaxUdpPayload, "], got ", max_datagram_size));
  }
  if (max_requests_in_flight == 0) {
    return absl::InvalidArgumentError("max_requests_in_flight: must be positive");
  }
  if (max_any_value_depth <= 0) {
    return absl::InvalidArgumentError("max_any_value_depth: must be positive");
  }
  return absl::OkStatus();
}

using internal::UdpSocket;

struct UdpServer::Impl : std::enable_shared_from_this<UdpServer::Impl> {
  Impl(UdpServerOptions o, ExportHandler h, OnDrop d)
      : options(std::move(o)), handler(std::move(h)), on_drop(std::move(d)), drained(0) {
    limits.max_message_bytes = options.max_datagram_size;
    limits.max_any_value_depth = options.max_any_value_depth;
  }

  absl::StatusOr<int> start();
  csp::Task<void> read_loop();
  void take(const char* data, std::size_t size, bool truncated, const sockaddr_storage& from);
  csp::Task<void> handle(ExportRequest request, std::int64_t items);
  void drop(UdpDrop why, otlp::Signal signal, std::int64_t items) {
    dropped[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
    if (on_drop) on_drop(why, signal, items);
  }
  MemoryClaim reserve(std::int64_t bytes) const {
    if (!options.reserve_memory) return std::make_shared<int>(0);
    return options.reserve_memory(bytes);
  }
  csp::Task<void> shutdown(csp::TimePoint deadline);

  const UdpServerOptions options;
  const ExportHandler handler;
  const OnDrop on_drop;
  otlp::DecodeLimits limits;

  std::mutex mu;  // guards phase and socket
  enum class Phase { kNew, kRunning, kStopping, kStopped } phase = Phase::kNew;
  std::shared_ptr<UdpSocket> socket;
  std::atomic<int> port{0};
  std::size_t granted_buffer = 0;

  csp::WaitGroup goroutines;     // the reader and every handler
  csp::Chan<csp::Unit> drained;  // closed once every goroutine is done after shutdown began

  std::atomic<std::uint64_t> datagrams{0};
  std::atomic<std::uint64_t> accepted{0};
  std::array<std::atomic<std::uint64_t>, kUdpDropReasons> dropped{};
  std::atomic<std::uint64_t> in_flight{0};
};

absl::StatusOr<int> UdpServer::Impl::start() {
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;
  std::lock_guard lock(mu);
  if (phase != Phase::kNew) return absl::FailedPreconditionError("the UDP server was started");
  absl::StatusOr<internal::BoundUdp> bound =
      internal::open_udp(options.endpoint, "udp", options.receive_buffer_size);
  if (!bound.ok()) return bound.status();
  granted_buffer = bound->receive_buffer;
  const int port_bound = bound->port;
  socket = std::move(bound->socket);
  port.store(port_bound, std::memory_order_release);
  phase = Phase::kRunning;
  goroutines.add(1);
  csp::go([](std::shared_ptr<Impl> self) -> csp::Task<void> {
    co_await self->read_loop();
    self->goroutines.done();
  }(shared_from_this()));
  return port_bound;
}

csp::Task<void> UdpServer::Impl::read_loop() {
  co_await internal::read_datagrams(
      socket, options.max_datagram_size,
      [this](std::string_view data, bool truncated, const sockaddr_storage& from) {
        take(data.data(), data.size(), truncated, from);
      });
}

void UdpServer::Impl::take(const char* data, std::size_t size, bool truncated,
                           const sockaddr_storage& from) {
  datagrams.fetch_add(1, std::memory_order_relaxed);
  if (truncated) {
    drop(UdpDrop::kTooLarge, otlp::Signal::kTraces, 0);
    return;
  }
  const std::optional<otlp::Signal> signal =
      size > 0 ? signal_of_udp_tag(static_cast<std::uint8_t>(data[0])) : std::nullopt;
  if (!signal) {
    drop(UdpDrop::kMalformed, otlp::Signal::kTraces, 0);
    return;
  }
  const std::string_view body(data + 1, size - 1);
  std::int64_t decoded_bytes = 0;
  if (!otlp::validate_binary(*signal, body, limits, &decoded_bytes).ok()) {
    drop(UdpDrop::kMalformed, *signal, 0);
    return;
  }
  const absl::StatusOr<std::uint64_t> items = otlp::wire_count_items(*signal, body);
  const std::int64_t n = items.ok() ? static_cast<std::int64_t>(*items) : 0;
  // A place among the requests in flight, then the memory: the bytes kept for the handler, and
  // room for a decode the pipeline may make later (checked, not kept, as the TCP servers do).
  if (in_flight.fetch_add(1, std::memory_order_acq_rel) >= options.max_requests_in_flight) {
    in_flight.fetch_sub(1, std::memory_order_acq_rel);
    drop(UdpDrop::kBusy, *signal, n);
    return;
  }
  MemoryClaim claim = reserve(static_cast<std::int64_t>(body.size()));
  bool room = claim != nullptr;
  if (room) room = reserve(decoded_bytes) != nullptr;
  if (!room) {
    in_flight.fetch_sub(1, std::memory_order_acq_rel);
    drop(UdpDrop::kBusy, *signal, n);
    return;
  }
  ExportRequest request{
      *signal, std::string(body), internal::format_sockaddr(from), std::move(claim), {}};
  goroutines.add(1);
  csp::go(
      [](std::shared_ptr<Impl> self, ExportRequest request, std::int64_t items) -> csp::Task<void> {
        csp::Task<void> handled = self->handle(std::move(request), items);
        co_await std::move(handled);
        self->in_flight.fetch_sub(1, std::memory_order_acq_rel);
        self->goroutines.done();
      }(shared_from_this(), std::move(request), n));
}

csp::Task<void> UdpServer::Impl::handle(ExportRequest request, std::int64_t items) {
  const otlp::Signal signal = request.signal;
  bool ok = false;
  try {
    csp::Task<ExportResult> task = handler(std::move(request));
    ExportResult result = co_await std::move(task);
    ok = result.status.ok();
  } catch (...) {
    ok = false;
  }
  if (ok) {
    accepted.fetch_add(1, std::memory_order_relaxed);
  } else {
    drop(UdpDrop::kRefused, signal, items);
  }
}

csp::Task<void> UdpServer::Impl::shutdown(csp::TimePoint deadline) {
  bool first = false;
  {
    std::lock_guard lock(mu);
    if (phase == Phase::kNew) {
      phase = Phase::kStopped;
      drained.close();
    } else if (phase == Phase::kRunning) {
      phase = Phase::kStopping;
      first = true;
      socket->abort();
    }
  }
  if (first) {
    csp::go([](std::shared_ptr<Impl> self) -> csp::Task<void> {
      co_await self->goroutines.wait();
      {
        std::lock_guard lock(self->mu);
        self->phase = Phase::kStopped;
      }
      self->drained.close();
    }(shared_from_this()));
  }
  // Handlers end on their own, within the pipeline's request timeout; there is no connection
  // to cut short.
  co_await internal::await_drained(drained, deadline, [] {});
}

UdpServer::UdpServer(UdpServerOptions options, ExportHandler handler, OnDrop on_drop)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler), std::move(on_drop))) {}

UdpServer::~UdpServer() {
  bool running = false;
  {
    std::lock_guard lock(impl_->mu);
    running = impl_->phase == Impl::Phase::kRunning;
  }
  if (running) shutdown(csp::Clock::now());
}

absl::StatusOr<int> UdpServer::start() { return impl_->start(); }

int UdpServer::port() const { return impl_->port.load(std::memory_order_acquire); }

std::size_t UdpServer::receive_buffer_size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->granted_buffer;
}

csp::Task<void> UdpServer::shutdown_async(csp::TimePoint deadline) {
  std::shared_ptr<Impl> impl = impl_;  // the goroutine keeps the server alive
  co_await impl->shutdown(deadline);
}

void UdpServer::shutdown(csp::TimePoint deadline) { csp::block_on(shutdown_async(deadline)); }

UdpServerStats UdpServer::stats() const {
  UdpServerStats s;
  // Outcomes before `datagrams`, so a datagram finishing meanwhile never makes in_flight wrong
  // the other way.
  s.accepted = impl_->accepted.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kUdpDropReasons; ++i) {
    s.dropped[i] = impl_->dropped[i].load(std::memory_order_relaxed);
  }
  s.in_flight = impl_->in_flight.load(std::memory_order_relaxed);
  s.datagrams = impl_->datagrams.load(std::memory_order_relaxed);
  return s;
}

}  // namespace transport
