#pragma once
// A deliberately plain WebSocket client for tests, on a blocking POSIX socket: it sends any
// handshake and any frame (unmasked, reserved bits, lengths that lie), and reads the server's
// frames one at a time. Every wait is bounded (kRawTimeout) so a broken server fails a test
// instead of hanging it.
//
// Thread-safety: one RawWebSocket per thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "transport/internal/websocket_frame.h"
#include "transport/testing/raw_http.h"

namespace transport::testing {

using WsOpcode = internal::websocket::Opcode;

struct WsFrame {
  WsOpcode opcode = WsOpcode::kBinary;
  bool fin = true;
  bool rsv1 = false;
  std::string payload;
  // For a close frame: its code (0 when none) and reason.
  std::uint16_t close_code() const;
};

class RawWebSocket {
 public:
  explicit RawWebSocket(int port);
  ~RawWebSocket();
  RawWebSocket(const RawWebSocket&) = delete;
  RawWebSocket& operator=(const RawWebSocket&) = delete;

  // Connects and sends an upgrade for `path` with Host, Upgrade, Connection, a fresh key and
  // Sec-WebSocket-Version 13 (each unless `extra` has a field of that name), then `extra`.
  // Returns the server's answer head (status and headers; the body of a refusal too).
  absl::StatusOr<RawResponse> handshake(
      std::string_view path, const std::vector<std::pair<std::string, std::string>>& extra = {});
  // The key the last handshake sent.
  const std::string& key() const { return key_; }

  absl::Status send_raw(std::string_view bytes);
  // One frame, masked unless `masked` is false.
  absl::Status send_frame(WsOpcode opcode, std::string_view payload, bool fin = true,
                          bool rsv1 = false, bool masked = true);
  // A whole binary (or text) message in one frame.
  absl::Status send_message(std::string_view payload, bool text = false) {
    return send_frame(text ? WsOpcode::kText : WsOpcode::kBinary, payload);
  }
  // Writes as much of `bytes` as the socket takes without blocking; returns how much.
  std::size_t send_until_full(std::string_view bytes);

  // The next frame from the server; an error when the server closed the connection (or
  // nothing came within the timeout).
  absl::StatusOr<WsFrame> read_frame();
  // Reads frames until a close frame, answering pings; returns it. Data frames before it are
  // appended to `before` if given.
  absl::StatusOr<WsFrame> read_until_close(std::vector<WsFrame>* before = nullptr);
  // True once the server has closed the TCP connection (EOF or reset), false if a byte or
  // nothing arrives within the timeout.
  bool wait_closed();

  int fd() const { return fd_; }

 private:
  absl::Status fill(std::size_t bytes);  // until buffer_ holds `bytes`

  int port_;
  int fd_ = -1;
  std::string key_;
  std::string buffer_;
};

}  // namespace transport::testing
