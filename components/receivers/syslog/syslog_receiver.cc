#include "components/receivers/syslog/syslog_receiver.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "components/internal/drain.h"
#include "components/internal/listen_address.h"
#include "csp/csp.h"
#include "otlp/wire.h"
#include "transport/internal/socket_io.h"

namespace components {

namespace {

constexpr std::size_t kReadChunk = 64u << 10;
// A connection's buffer is unbudgeted up to this; beyond, it is claimed first.
constexpr std::size_t kFreeBuffer = 64u << 10;
constexpr std::size_t kMaxMerged = 64;  // UDP batches merged into one hand-on
constexpr std::size_t kMaxUdpMessage = 65507;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* outcome_name(SyslogReceiver::Outcome o) {
  static constexpr const char* kNames[] = {"accepted", "malformed", "too_large", "busy", "refused"};
  return kNames[o];
}

}  // namespace

SyslogReceiver::SyslogReceiver(std::string id, SyslogReceiverConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {
  udp_queue_.set_name("receiver " + id_ + " udp queue");
  std::tie(stop_ctx_, stop_) = csp::with_cancel(csp::Context::background());
}

SyslogReceiver::~SyslogReceiver() {
  if (udp_ != nullptr) udp_->abort();
  if (tcp_ != nullptr) tcp_->close();
}

void SyslogReceiver::connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) {
  if (signal == otlp::Signal::kLogs) next_ = std::move(next);
}

void SyslogReceiver::note(Outcome outcome, std::int64_t n) {
  counts_[outcome].fetch_add(n, std::memory_order_relaxed);
  if (metrics_[outcome] != nullptr) metrics_[outcome]->add(n);
}

void SyslogReceiver::parse_into(std::string_view message, std::int64_t now,
                                std::vector<SyslogRecord>& records) {
  SyslogRecord& record = records.emplace_back();
  absl::Status parsed = parse_syslog(message, config_.parse, now, record);
  if (parsed.ok()) return;
  // Kept, not lost: the message as received, stamped when it arrived.
  record.Clear();
  record.mutable_body()->set_string_value(std::string(message));
  record.set_observed_time_unix_nano(static_cast<std::uint64_t>(now));
  record.set_time_unix_nano(static_cast<std::uint64_t>(now));
  note(kMalformed);
  host_.log(pipeline::LogLevel::kDebug, id_,
            absl::StrCat("a message did not parse (kept as received): ", parsed.message()));
}

pipeline::Batch SyslogReceiver::batch_of(std::vector<SyslogRecord>& records) const {
  otlp::LogsRequest request;
  auto* scope = request.add_resource_logs()->add_scope_logs();
  scope->mutable_scope()->set_name("otlpd/syslog");
  const auto n = static_cast<std::int64_t>(records.size());
  for (SyslogRecord& r : records) scope->add_log_records()->Swap(&r);
  records.clear();
  pipeline::Batch batch{otlp::Signal::kLogs, request.SerializeAsString(), n};
  batch.received = csp::Clock::now();
  return batch;
}

csp::Task<bool> SyslogReceiver::deliver(pipeline::Batch batch) {
  const std::int64_t n = batch.items;
  if (next_ == nullptr || n == 0) co_return true;
  auto [ctx, cancel] = csp::with_timeout(stop_ctx_, config_.request_timeout);
  absl::Status s = co_await next_->consume(ctx, std::move(batch));
  cancel();
  if (!s.ok()) {
    note(kRefused, n);
    host_.log(pipeline::LogLevel::kDebug, id_,
              absl::StrCat("the pipeline refused ", n, " messages: ", s.ToString()));
    co_return false;
  }
  note(kAccepted, n);
  co_return true;
}

csp::Task<absl::Status> SyslogReceiver::start() {
  telemetry::Registry& registry = host_.telemetry();
  if (registry.enabled()) {
    for (std::size_t o = 0; o < kOutcomes; ++o) {
      metrics_[o] = &registry.counter(
          "otlpd_receiver_syslog_messages",
          "Syslog messages by outcome: accepted, malformed (kept with the raw message as body), "
          "too_large, busy (UDP, no room), refused (by the pipeline).",
          {{"receiver", id_}, {"outcome", outcome_name(static_cast<Outcome>(o))}});
    }
  }
  // Both sockets first: a failure leaves no goroutine behind.
  int udp_port = 0;
  if (config_.udp_endpoint) {
    absl::StatusOr<transport::internal::BoundUdp> bound =
        transport::internal::open_udp(*config_.udp_endpoint, id_ + " udp", 4u << 20);
    if (!bound.ok()) co_return bound.status();
    udp_ = bound->socket;
    udp_port = bound->port;
  }
  if (config_.tcp_endpoint) {
    absl::StatusOr<std::shared_ptr<transport::internal::Listener>> listener =
        transport::internal::Listener::open(*config_.tcp_endpoint, id_ + " tcp",
                                            config_.max_connections);
    if (!listener.ok()) {
      if (udp_ != nullptr) udp_->abort();
      udp_ = nullptr;
      co_return listener.status();
    }
    tcp_ = *listener;
  }
  if (udp_ != nullptr) {
    host_.report_endpoint(id_, "udp", internal::listen_address(*config_.udp_endpoint, udp_port));
    goroutines_.add(2);
    csp::go([](SyslogReceiver* self) -> csp::Task<void> {
      csp::Task<void> read = transport::internal::read_datagrams(
          self->udp_, kMaxUdpMessage,
          [self](std::string_view data, bool truncated, const sockaddr_storage&) {
            if (truncated) {
              self->note(kTooLarge);
              return;
            }
            // Claimed before it is parsed and queued: a flood waits in the kernel's buffer,
            // not in ours, once the budget is spent.
            std::shared_ptr<void> claim =
                self->host_.admission().claim(static_cast<std::int64_t>(3 * data.size() + 256));
            if (claim == nullptr) {
              self->note(kBusy);
              return;
            }
            std::vector<SyslogRecord> records;
            self->parse_into(data, now_ns(), records);
            if (!self->udp_queue_.try_send(Queued{self->batch_of(records), std::move(claim)})) {
              self->note(kBusy);
            }
          });
      co_await std::move(read);
      self->udp_queue_.close();
      self->goroutines_.done();
    }(this));
    csp::go([](SyslogReceiver* self) -> csp::Task<void> {
      co_await self->udp_sender();
      self->goroutines_.done();
    }(this));
  }
  if (tcp_ != nullptr) {
    host_.report_endpoint(id_, "tcp",
                          internal::listen_address(*config_.tcp_endpoint, tcp_->port()));
    goroutines_.add(1);
    csp::go([](SyslogReceiver* self) -> csp::Task<void> {
      csp::Task<void> run =
          self->tcp_->run([self](std::shared_ptr<transport::internal::TcpSocket> socket,
                                 std::string, transport::internal::ConnectionSlot slot) {
            {
              std::lock_guard lock(self->mu_);
              if (self->stopping_) {
                socket->abort();  // accepted as the shutdown began
                return;
              }
              std::erase_if(self->connections_, [](const auto& w) { return w.expired(); });
              self->connections_.push_back(socket);
            }
            self->goroutines_.add(1);
            csp::go([](SyslogReceiver* self, std::shared_ptr<transport::internal::TcpSocket> s,
                       transport::internal::ConnectionSlot slot) -> csp::Task<void> {
              co_await self->serve_tcp(std::move(s), std::move(slot));
              self->goroutines_.done();
            }(self, std::move(socket), std::move(slot)));
          });
      co_await std::move(run);
      self->goroutines_.done();
    }(this));
  }
  co_return absl::OkStatus();
}

csp::Task<void> SyslogReceiver::udp_sender() {
  while (std::optional<Queued> first = co_await udp_queue_.recv()) {
    // What else is waiting goes with it: one hand-on for a burst of datagrams. The claims are
    // kept until the hand-on is answered.
    std::vector<Queued> parts;
    parts.push_back(std::move(*first));
    while (parts.size() < kMaxMerged) {
      std::optional<Queued> more = udp_queue_.try_recv();
      if (!more) break;
      parts.push_back(std::move(*more));
    }
    if (parts.size() == 1) {
      (void)co_await deliver(std::move(parts[0].batch));
      continue;
    }
    std::vector<std::string_view> views;
    std::int64_t items = 0;
    for (const Queued& q : parts) {
      views.push_back(q.batch.bytes);
      items += q.batch.items;
    }
    absl::StatusOr<std::string> merged = otlp::wire_concat(otlp::Signal::kLogs, views);
    if (!merged.ok()) {
      note(kRefused, items);
      continue;
    }
    pipeline::Batch batch{otlp::Signal::kLogs, *std::move(merged), items};
    batch.received = parts.front().batch.received;
    (void)co_await deliver(std::move(batch));
  }
}

csp::Task<void> SyslogReceiver::serve_tcp(std::shared_ptr<transport::internal::TcpSocket> socket,
                                          transport::internal::ConnectionSlot slot) {
  (void)slot;  // held for the connection's life
  std::string pending;
  std::vector<char> chunk(kReadChunk);
  std::size_t claimed = 0;  // bytes of `pending` past kFreeBuffer claimed from the budget
  std::shared_ptr<void> claim;
  std::size_t skip = 0;     // bytes of an over-long octet-counted frame still to skip
  bool discarding = false;  // inside an over-long line: drop up to its end
  std::vector<SyslogRecord> records;
  for (;;) {
    std::size_t got = 0;
    const transport::internal::ErrorCode ec = co_await transport::internal::read_some(
        *socket, chunk.data(), chunk.size(), got, csp::TimePoint::max());
    if (ec) break;  // closed, reset, or shutting down
    std::string_view in(chunk.data(), got);
    if (skip > 0) {
      const std::size_t n = std::min(skip, in.size());
      skip -= n;
      in.remove_prefix(n);
    }
    pending.append(in);
    const std::int64_t now = now_ns();
    std::size_t at = 0;
    for (;;) {
      std::string_view rest = std::string_view(pending).substr(at);
      if (rest.empty()) break;
      if (config_.octet_counting && std::isdigit(static_cast<unsigned char>(rest[0]))) {
        // "LEN SP MSG" (RFC 6587 octet counting).
        const std::size_t space = rest.find(' ');
        if (space == std::string_view::npos) {
          if (rest.size() > 10) {  // no length has that many digits: not a frame
            note(kMalformed);
            at = pending.size();
          }
          break;
        }
        std::size_t length = 0;
        bool digits = space > 0 && space <= 10;
        for (std::size_t i = 0; digits && i < space; ++i) {
          digits = std::isdigit(static_cast<unsigned char>(rest[i])) != 0;
          if (digits) length = length * 10 + static_cast<std::size_t>(rest[i] - '0');
        }
        if (!digits) {
          note(kMalformed);
          at += space + 1;
          continue;
        }
        if (length > config_.max_log_size) {
          note(kTooLarge);
          const std::size_t have = rest.size() - space - 1;
          if (have >= length) {
            at += space + 1 + length;
            continue;
          }
          skip = length - have;
          at = pending.size();
          break;
        }
        if (rest.size() - space - 1 < length) break;  // the rest has not arrived
        parse_into(rest.substr(space + 1, length), now, records);
        at += space + 1 + length;
        continue;
      }
      // Newline framing (also what an octet-counting connection falls back to for a frame
      // that does not start with a length).
      const std::size_t end = rest.find('\n');
      if (end == std::string_view::npos) {
        if (rest.size() > config_.max_log_size) {
          if (!discarding) note(kTooLarge);
          discarding = true;
          at = pending.size();
        }
        break;
      }
      if (discarding) {
        discarding = false;
      } else if (end > config_.max_log_size) {
        note(kTooLarge);
      } else if (end > 0 && !(end == 1 && rest[0] == '\r')) {
        parse_into(rest.substr(0, end), now, records);
      }
      at += end + 1;
    }
    pending.erase(0, at);
    if (!records.empty()) {
      // A refusal is counted by deliver(); syslog has no answers, so the connection goes on.
      // The batch and the task are named locals: g++ 12 mishandles class temporaries in a
      // co_await operand (docs/csp.md).
      pipeline::Batch batch = batch_of(records);
      csp::Task<bool> delivered = deliver(std::move(batch));
      (void)co_await std::move(delivered);
    }
    // What the buffer holds past its free allowance is in the memory budget.
    if (pending.size() > kFreeBuffer + claimed) {
      const std::size_t want = pending.size() - kFreeBuffer;
      std::shared_ptr<void> more = host_.admission().claim(static_cast<std::int64_t>(want));
      if (more == nullptr) {
        note(kBusy);
        host_.log(pipeline::LogLevel::kWarn, id_,
                  "closing a TCP connection: no memory for its partial message");
        break;
      }
      claim = std::move(more);
      claimed = want;
    } else if (pending.size() <= kFreeBuffer && claim != nullptr) {
      claim.reset();
      claimed = 0;
      pending.shrink_to_fit();
    }
  }
  socket->abort();
}

csp::Task<void> SyslogReceiver::shutdown(csp::Context ctx) {
  DeadlineStop deadline_stop(ctx, stop_);
  if (udp_ != nullptr) udp_->abort();
  if (tcp_ != nullptr) tcp_->close();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& w : connections_) {
      if (auto s = w.lock()) s->abort();
    }
  }
  co_await goroutines_.wait();
  // Also joins the deadline watcher (a named Task: docs/csp.md, g++ 12).
  csp::Task<void> finished = deadline_stop.finish();
  co_await std::move(finished);
  stop_();
}

}  // namespace components
