// One WebSocket session: a loop on the connection goroutine that owns the stream, and a
// goroutine per request. The loop's round:
//  1. Parse what is buffered (process_buffer): control frames are answered, data frames gathered
//     into the current message; a complete message is checked (inflated, UTF-8) and handed to a
//     handler goroutine, its answer slot queued in `pending_`. Parsing stops when the window is
//     full, so nothing more is read until an answer goes out.
//  2. Decide what to wait for, then select over: "readable" (asked of the poller only while
//     reading is wanted), the oldest answer's channel, the server's stop channel and the ticker.
//  3. Act: read once into the buffer; write every answer that is ready, in order; begin a
//     graceful close; or run the timers (ping, dead client, idle, slow message, close wait).

#include "transport/internal/websocket_session.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "csp/wait_group.h"
#include "otlp/errors.h"
#include "otlp/json_codec.h"
#include "otlp/log_throttle.h"
#include "transport/internal/inflate.h"
#include "transport/internal/messages.h"
#include "transport/internal/request_body.h"
#include "transport/internal/strings.h"
#include "transport/internal/websocket_frame.h"

namespace transport::internal {
namespace {

namespace ws = websocket;
using csp::Clock;
using csp::TimePoint;

// Once our close frame is out, the client has this long to answer it.
constexpr std::chrono::seconds kCloseTimeout{5};
// Largest single read.
constexpr std::size_t kReadSize = 64u << 10;
// A message's memory is reserved in steps that double, starting here.
constexpr std::uint64_t kReserveStep = 64u << 10;
// The ticker's period is a quarter of the shortest timer, within these bounds.
constexpr std::chrono::milliseconds kMinTick{10};
constexpr std::chrono::milliseconds kMaxTick{1000};

// One request's answer slot: the handler goroutine puts the answer's whole frame here.
struct Pending {
  csp::Chan<std::string> frame{1};
};

std::string status_payload(const absl::Status& status,
                           std::optional<std::chrono::milliseconds> retry_after, bool json) {
  return encode_rpc_status(make_rpc_status(status, retry_after), json);
}

class Session {
 public:
  Session(ByteStream& stream, WebSocketSessionConfig config, std::string buffered,
          csp::Chan<csp::Unit> stop)
      : stream_(stream),
        config_(std::move(config)),
        buffer_(std::move(buffered)),
        stop_(std::move(stop)) {}

  csp::Task<void> run() {
    const TimePoint now = Clock::now();
    last_received_ = now;
    last_request_ = now;
    csp::Ticker ticker(tick_period());
    const csp::Chan<csp::Unit> never(0);
    const csp::Chan<std::string> no_answer(0);
    while (!ended_) {
      co_await process_buffer();
      if (ended_) break;
      if (draining_.has_value() && pending_.empty() && !close_sent_) {
        csp::Task<void> closing = send_close(draining_->first, draining_->second);
        co_await std::move(closing);
        if (close_received_ && !ended_) {
          ended_ = true;  // we answered the client's close: the handshake is done
          graceful_ = true;
        }
        continue;
      }
      const bool reading = wants_to_read();
      if (reading && stream_.has_buffered_input()) {
        co_await read_more();
        continue;
      }
      if (reading && !watch_armed_) {
        stream_.notify_readable(readable_);
        watch_armed_ = true;
      }
      std::optional<ErrorCode> readable;
      std::optional<std::string> answer;
      csp::TimePoint tick;
      bool ok = true;
      const std::size_t chosen = co_await csp::select(
          csp::recv(reading ? readable_ : never_errors_, &readable),
          csp::recv(pending_.empty() ? no_answer : pending_.front()->frame, &answer),
          csp::recv(stopping_seen_ ? never : stop_), csp::recv(ticker.chan(), &tick, &ok));
      switch (chosen) {
        case 0:
          watch_armed_ = false;
          if (readable.has_value() && *readable) {
            lose_client();
          } else {
            co_await read_more();
          }
          break;
        case 1:
          if (answer.has_value()) {
            csp::Task<void> writing = write_answers(std::move(*answer));
            co_await std::move(writing);
          }
          break;
        case 2:
          stopping_seen_ = true;
          begin_close(ws::kCloseGoingAway, "server shutting down");
          break;
        case 3:
          co_await on_tick();
          break;
        default:
          break;
      }
    }
    co_await finish();
  }

 private:
  // --- reading -----------------------------------------------------------------------------

  bool wants_to_read() const {
    if (ended_ || close_received_) return false;
    if (close_sent_) return true;  // waiting for the client's close, discarding data
    if (draining_.has_value()) return false;
    return pending_.size() < config_.window;
  }

  // Never parks: a TLS record that is only partly here must not stop the loop (answers,
  // ticks and shutdown go on; the poller says when the rest arrives).
  csp::Task<void> read_more() {
    csp::Task<ErrorCode> reading = buffer_.fill(stream_, kReadSize);
    const ErrorCode ec = co_await std::move(reading);
    if (ec == boost::asio::error::would_block) co_return;
    if (ec) {
      lose_client();
      co_return;
    }
    last_received_ = Clock::now();
  }

  std::string_view unread() const { return buffer_.unread(); }

  // Step 1: frames out of the buffer, as far as the window and the bytes allow.
  csp::Task<void> process_buffer() {
    while (!ended_ && !close_received_ && wants_to_read()) {
      if (!frame_.has_value()) {
        ws::HeaderParse parse = ws::parse_frame_header(unread(), true, config_.deflate);
        if (parse.state == ws::HeaderParse::State::kNeedMore) co_return;
        if (parse.state == ws::HeaderParse::State::kError) {
          {
            csp::Task<void> failing = fail(parse.close_code, parse.reason);
            co_await std::move(failing);
          }
          co_return;
        }
        buffer_.consume(parse.header.header_bytes);
        frame_ = parse.header;
        frame_read_ = 0;
        if (!start_frame()) {
          {
            csp::Task<void> failing = fail(fail_code_, fail_reason_);
            co_await std::move(failing);
          }
          co_return;
        }
      }
      const std::uint64_t left = frame_->payload_length - frame_read_;
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, unread().size()));
      if (take > 0) {
        take_payload(unread().substr(0, take));
        buffer_.consume(take);
        frame_read_ += take;
      }
      if (frame_read_ < frame_->payload_length) co_return;  // more bytes needed
      const ws::FrameHeader frame = *frame_;
      frame_.reset();
      if (static_cast<std::uint8_t>(frame.opcode) >= 0x8) {
        co_await on_control(frame.opcode);
      } else if (frame.fin) {
        co_await on_message();
      }
    }
  }

  // A data or control frame's header was read: checks it against the message in progress and
  // the limits, and reserves memory for its payload. False: fail_code_/fail_reason_ say why.
  bool start_frame() {
    const ws::FrameHeader& h = *frame_;
    if (static_cast<std::uint8_t>(h.opcode) >= 0x8) {
      control_.clear();
      return true;
    }
    if (h.opcode == ws::Opcode::kContinuation) {
      if (!in_message_)
        return refuse(ws::kCloseProtocolError, "continuation frame outside a message");
      if (h.rsv1) return refuse(ws::kCloseProtocolError, "RSV1 set on a continuation frame");
    } else {
      if (in_message_) {
        return refuse(ws::kCloseProtocolError, "new message before the previous one ended");
      }
      in_message_ = true;
      message_json_ = h.opcode == ws::Opcode::kText;
      message_compressed_ = h.rsv1;
      message_refused_ = false;
      message_.clear();
      message_bytes_ = 0;
      message_reserved_ = 0;
      message_memory_ = std::make_shared<std::vector<MemoryClaim>>();
      message_deadline_ = deadline_after(config_.read_timeout);
    }
    if (message_bytes_ + h.payload_length > config_.max_message_bytes ||
        h.payload_length > config_.max_message_bytes) {
      return refuse(ws::kCloseMessageTooBig, absl::StrCat("message over the limit of ",
                                                          config_.max_message_bytes, " bytes"));
    }
    message_bytes_ += h.payload_length;
    if (close_sent_) message_refused_ = true;  // closing: discarded, never answered
    if (!message_refused_ && !reserve_message()) {
      message_refused_ = true;  // skipped unbuffered, then answered RESOURCE_EXHAUSTED
      message_.clear();
      message_.shrink_to_fit();
      message_memory_->clear();
    }
    return true;
  }

  // Memory for the message so far, before its frame's payload is read: in steps that double
  // (kReserveStep first), so a message of many small frames makes few claims, never past the
  // limit.
  bool reserve_message() {
    while (message_reserved_ < message_bytes_) {
      const std::uint64_t limit = config_.max_message_bytes;
      const std::uint64_t step = std::min(std::max<std::uint64_t>(kReserveStep, message_reserved_),
                                          limit - message_reserved_);
      if (!reserve(*message_memory_, step)) return false;
      message_reserved_ += step;
    }
    return true;
  }

  bool refuse(std::uint16_t code, std::string reason) {
    fail_code_ = code;
    fail_reason_ = std::move(reason);
    return false;
  }

  void take_payload(std::string_view bytes) {
    const ws::FrameHeader& h = *frame_;
    if (static_cast<std::uint8_t>(h.opcode) >= 0x8) {
      const std::size_t at = control_.size();
      control_.append(bytes);
      ws::apply_mask(control_.data() + at, bytes.size(), h.mask, frame_read_);
      return;
    }
    if (message_refused_) return;
    const std::size_t at = message_.size();
    message_.append(bytes);
    ws::apply_mask(message_.data() + at, bytes.size(), h.mask, frame_read_);
  }

  csp::Task<void> on_control(ws::Opcode opcode) {
    if (opcode == ws::Opcode::kPing) {
      if (!close_sent_) {
        csp::Task<void> pong = write_frame(ws::encode_frame(ws::Opcode::kPong, control_));
        co_await std::move(pong);
      }
    } else if (opcode == ws::Opcode::kClose) {
      std::optional<ws::ClosePayload> close = ws::parse_close_payload(control_);
      if (!close.has_value()) {
        {
          csp::Task<void> failing = fail(ws::kCloseProtocolError, "invalid close frame");
          co_await std::move(failing);
        }
        co_return;
      }
      close_received_ = true;
      in_message_ = false;  // a message the client broke off by closing is not answered
      if (close_sent_) {
        ended_ = true;  // the answer to our close: done
        graceful_ = true;
        co_return;
      }
      // Answers still due go out first, then the echo.
      const std::uint16_t code = close->code == 0 ? ws::kCloseNormal : close->code;
      begin_close(code, "");
    }
    // A pong only proves the client is there, which last_received_ already says.
  }

  // A whole message arrived: checked here, handled on a goroutine of its own.
  csp::Task<void> on_message() {
    in_message_ = false;
    last_request_ = Clock::now();
    if (close_sent_) co_return;  // closing: not answered; the client sends it again elsewhere
    auto pending = std::make_shared<Pending>();
    pending_.push_back(pending);
    if (message_refused_) {
      pending->frame.try_send(answer_frame(
          status_payload(absl::ResourceExhaustedError("data refused due to high memory usage"),
                         kMemoryRefusalRetryAfter, message_json_),
          message_json_));
      co_return;
    }
    std::string body = std::move(message_);
    message_.clear();
    if (message_compressed_) {
      const std::shared_ptr<std::vector<MemoryClaim>> memory = message_memory_;
      std::function<bool(std::int64_t)> budget;
      if (config_.reserve_memory) {
        budget = [this, memory](std::int64_t bytes) {
          return reserve(*memory, static_cast<std::uint64_t>(bytes));
        };
      }
      Inflated inflated =
          inflate_within_budget(ws::inflate_message, body, config_.max_message_bytes, budget);
      switch (inflated.outcome) {
        case Inflated::Outcome::kOk:
          body = std::move(inflated.body);
          break;
        case Inflated::Outcome::kMemoryRefused:
          pending->frame.try_send(answer_frame(
              status_payload(absl::ResourceExhaustedError("data refused due to high memory usage"),
                             kMemoryRefusalRetryAfter, message_json_),
              message_json_));
          co_return;
        case Inflated::Outcome::kTooLarge:
          pending_.pop_back();
          {
            csp::Task<void> failing =
                fail(ws::kCloseMessageTooBig, absl::StrCat("inflated message over the limit of ",
                                                           config_.max_message_bytes, " bytes"));
            co_await std::move(failing);
          }
          co_return;
        case Inflated::Outcome::kCorrupt:
          pending_.pop_back();
          {
            csp::Task<void> failing = fail(ws::kCloseInvalidPayload, "corrupt compressed message");
            co_await std::move(failing);
          }
          co_return;
      }
    }
    if (message_json_ && !ws::valid_utf8(body)) {
      pending_.pop_back();
      {
        csp::Task<void> failing = fail(ws::kCloseInvalidPayload, "text message is not UTF-8");
        co_await std::move(failing);
      }
      co_return;
    }
    handlers_.add(1);
    csp::go(handle(pending, message_json_, std::move(body), message_memory_));
  }

  // One request, on its own goroutine: decode or validate, export, answer.
  csp::Task<void> handle(std::shared_ptr<Pending> pending, bool json, std::string body,
                         std::shared_ptr<std::vector<MemoryClaim>> memory) {
    std::string payload;
    try {
      CheckedBody checked;
      {
        std::vector<MemoryClaim> decode;
        checked = check_request_body(
            config_.signal, json, std::move(body), config_.limits,
            [&](std::int64_t bytes) { return reserve(decode, static_cast<std::uint64_t>(bytes)); });
      }
      if (checked.memory_refused) {
        payload =
            status_payload(absl::ResourceExhaustedError("data refused due to high memory usage"),
                           kMemoryRefusalRetryAfter, json);
      } else if (!checked.binary.ok()) {
        log_bad_input(internal::sv(checked.binary.status().message()));
        payload = status_payload(checked.binary.status(), std::nullopt, json);
      } else {
        ExportRequest request{config_.signal, *std::move(checked.binary), config_.peer, nullptr,
                              config_.metadata};
        if (config_.reserve_memory) request.memory = std::move(memory);
        ExportResult result;
        try {
          csp::Task<ExportResult> handled = config_.handler(std::move(request));
          result = co_await std::move(handled);
        } catch (const std::exception& e) {
          result.status = absl::InternalError(absl::StrCat("export failed: ", e.what()));
        } catch (...) {
          result.status = absl::InternalError("export failed");
        }
        payload = result_payload(result, json);
      }
    } catch (...) {
      payload =
          status_payload(absl::InternalError("cannot answer the request"), std::nullopt, json);
    }
    try {
      pending->frame.try_send(answer_frame(payload, json));
    } catch (...) {
      // Out of memory for the answer itself: a fixed one keeps the order of the rest.
      try {
        static const std::string kBinary = answer_frame(
            status_payload(absl::InternalError("out of memory"), std::nullopt, false), false);
        static const std::string kJson = answer_frame(
            status_payload(absl::InternalError("out of memory"), std::nullopt, true), true);
        pending->frame.try_send(json ? kJson : kBinary);
      } catch (...) {
      }
    }
    handlers_.done();
  }

  std::string result_payload(const ExportResult& result, bool json) const {
    if (!result.status.ok()) return status_payload(result.status, result.retry_after, json);
    std::unique_ptr<google::protobuf::Message> response =
        make_export_response(config_.signal, result.rejected_items, result.partial_message);
    std::string out;
    if (json) {
      otlp::encode_json_append(*response, out);
    } else {
      out = response->SerializeAsString();
    }
    return out;
  }

  static std::string answer_frame(std::string_view payload, bool json) {
    return ws::encode_frame(json ? ws::Opcode::kText : ws::Opcode::kBinary, payload);
  }

  bool reserve(std::vector<MemoryClaim>& into, std::uint64_t bytes) {
    if (!config_.reserve_memory || bytes == 0) return true;
    MemoryClaim claim;
    try {
      claim = config_.reserve_memory(static_cast<std::int64_t>(bytes));
    } catch (...) {
      claim = nullptr;  // a reserver that throws refuses
    }
    if (claim == nullptr) return false;
    into.push_back(std::move(claim));
    return true;
  }

  // --- writing -----------------------------------------------------------------------------

  // The oldest answer is ready: it and every answer ready right behind it go out in one write.
  csp::Task<void> write_answers(std::string first) {
    pending_.pop_front();
    std::string bytes = std::move(first);
    while (!pending_.empty()) {
      std::optional<std::string> next = pending_.front()->frame.try_recv();
      if (!next.has_value()) break;
      bytes += *next;
      pending_.pop_front();
    }
    csp::Task<void> writing = write_frame(std::move(bytes));
    co_await std::move(writing);
  }

  csp::Task<void> write_frame(std::string bytes) {
    if (ended_) co_return;
    csp::Task<ErrorCode> writing = stream_.write(bytes, deadline_after(config_.write_timeout));
    const ErrorCode ec = co_await std::move(writing);
    if (ec) lose_client();
  }

  // --- closing -----------------------------------------------------------------------------

  // Graceful: nothing more is read; once the answers due are written, close with `code`.
  void begin_close(std::uint16_t code, std::string reason) {
    if (!draining_.has_value() && !close_sent_) draining_.emplace(code, std::move(reason));
  }

  // A protocol error: close at once (answers due are dropped; the client resends them).
  csp::Task<void> fail(std::uint16_t code, std::string reason) {
    log_bad_input(absl::StrCat("closed with ", code, ": ", reason));
    pending_.clear();
    if (close_sent_) {
      ended_ = true;
      co_return;
    }
    csp::Task<void> closing = send_close(code, std::move(reason));
    co_await std::move(closing);
    close_received_ = true;  // nothing more of this client is looked at
    ended_ = true;
    graceful_ = true;
  }

  csp::Task<void> send_close(std::uint16_t code, std::string reason) {
    close_sent_ = true;
    close_deadline_ = Clock::now() + kCloseTimeout;
    csp::Task<void> writing =
        write_frame(ws::encode_frame(ws::Opcode::kClose, ws::encode_close_payload(code, reason)));
    co_await std::move(writing);
  }

  void lose_client() {
    ended_ = true;
    graceful_ = false;
  }

  csp::Task<void> on_tick() {
    const TimePoint now = Clock::now();
    if (close_sent_) {
      if (now >= close_deadline_) lose_client();  // no answer to our close
      co_return;
    }
    // Only while we read: a message we stopped reading (a full window, a drain) is not late.
    if (in_message_ && wants_to_read() && now >= message_deadline_) {
      {
        csp::Task<void> failing =
            fail(ws::kClosePolicyViolation, "message not complete within read_timeout");
        co_await std::move(failing);
      }
      co_return;
    }
    // Liveness only while we wait for the client: a full window is our own doing.
    const bool waiting_for_client = !draining_.has_value() && pending_.size() < config_.window;
    if (config_.ping_interval.count() > 0 && waiting_for_client) {
      if (ping_sent_at_.has_value() && last_received_ < *ping_sent_at_) {
        if (now - *ping_sent_at_ >= config_.ping_interval) {
          otlp::LogThrottle::global().report("websocket", config_.peer,
                                             "WebSocket client stopped answering pings");
          lose_client();
          co_return;
        }
      } else if (now - last_received_ >= config_.ping_interval) {
        ping_sent_at_ = now;
        csp::Task<void> ping = write_frame(ws::encode_frame(ws::Opcode::kPing, ""));
        co_await std::move(ping);
      }
    }
    if (config_.idle_timeout.count() > 0 && pending_.empty() && !in_message_ &&
        now - last_request_ >= config_.idle_timeout) {
      begin_close(ws::kCloseNormal, "idle timeout");
    }
  }

  csp::Task<void> finish() {
    if (graceful_) co_await stream_.shutdown_send();
    stream_.abort();  // also ends a readiness wait still pending on the poller
    co_await handlers_.wait();
  }

  void log_bad_input(std::string_view what) const {
    otlp::LogThrottle::global().report(
        "websocket_bad_request", config_.peer,
        absl::StrCat("WebSocket ", internal::av(otlp::signal_name(config_.signal)), ": ",
                     internal::av(what.substr(0, 200))));
  }

  std::chrono::milliseconds tick_period() const {
    std::chrono::milliseconds shortest = kCloseTimeout;
    for (std::chrono::milliseconds t :
         {config_.ping_interval, config_.idle_timeout, config_.read_timeout}) {
      if (t.count() > 0) shortest = std::min(shortest, t);
    }
    return std::clamp(shortest / 4, kMinTick, kMaxTick);
  }

  static TimePoint deadline_after(std::chrono::milliseconds timeout) {
    return timeout.count() > 0 ? Clock::now() + timeout : TimePoint::max();
  }

  ByteStream& stream_;
  const WebSocketSessionConfig config_;
  ReadBuffer buffer_;  // bytes read, not yet parsed
  const csp::Chan<csp::Unit> stop_;
  bool stopping_seen_ = false;

  // Readiness reports from the poller (one asked for at a time: watch_armed_).
  csp::Chan<ErrorCode> readable_{1};
  const csp::Chan<ErrorCode> never_errors_{0};
  bool watch_armed_ = false;
  csp::WaitGroup handlers_;

  // The frame being read.
  std::optional<ws::FrameHeader> frame_;
  std::uint64_t frame_read_ = 0;
  std::string control_;  // a control frame's payload (at most 125 bytes)
  std::uint16_t fail_code_ = 0;
  std::string fail_reason_;

  // The message being gathered.
  bool in_message_ = false;
  bool message_json_ = false;
  bool message_compressed_ = false;
  bool message_refused_ = false;  // memory refused, or closing: its bytes are skipped
  std::string message_;
  std::uint64_t message_bytes_ = 0;
  std::uint64_t message_reserved_ = 0;  // of message_memory_
  std::shared_ptr<std::vector<MemoryClaim>> message_memory_;
  TimePoint message_deadline_ = TimePoint::max();

  std::deque<std::shared_ptr<Pending>> pending_;  // unanswered requests, oldest first

  TimePoint last_received_;  // any frame's bytes
  TimePoint last_request_;   // the last whole message
  std::optional<TimePoint> ping_sent_at_;

  std::optional<std::pair<std::uint16_t, std::string>> draining_;  // the close to send
  bool close_sent_ = false;
  bool close_received_ = false;
  TimePoint close_deadline_ = TimePoint::max();
  bool ended_ = false;
  bool graceful_ = false;
};

}  // namespace

csp::Task<void> serve_websocket(ByteStream& stream, WebSocketSessionConfig config,
                                std::string buffered, csp::Chan<csp::Unit> stop) {
  Session session(stream, std::move(config), std::move(buffered), std::move(stop));
  co_await session.run();
}

}  // namespace transport::internal
