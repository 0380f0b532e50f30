#pragma once
// The WebSocket wire format (RFC 6455) and its permessage-deflate extension (RFC 7692), as
// pure functions over bytes: frame headers, masking, close payloads, the opening handshake's
// key, and the deflate of one message. The server session (websocket_session.h) and the
// client (websocket_client.h) drive them over their own byte streams.
//
// Why not Boost.Beast's websocket::stream: it wants an Asio stream to own, while otlpd's
// connections are read and written by csp goroutines through the poller (poller_object.h),
// with every limit checked before bytes are buffered. The format itself is small.
//
// Contract: pure functions, any thread. Parsers take untrusted bytes and never crash; a
// protocol violation is reported with the close code the peer must get.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace transport::internal::websocket {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes (RFC 6455 section 7.4.1) otlpd sends.
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseUnsupportedData = 1003;
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kClosePolicyViolation = 1008;
inline constexpr std::uint16_t kCloseMessageTooBig = 1009;
inline constexpr std::uint16_t kCloseInternalError = 1011;
inline constexpr std::uint16_t kCloseTryAgainLater = 1013;

// Largest payload of a control frame (ping, pong, close).
inline constexpr std::size_t kMaxControlPayload = 125;
// Largest frame header: 2 bytes, 8 of extended length, 4 of mask.
inline constexpr std::size_t kMaxHeaderBytes = 14;

struct FrameHeader {
  bool fin = false;
  bool rsv1 = false;  // permessage-deflate: the message is compressed (first frame only)
  Opcode opcode = Opcode::kBinary;
  bool masked = false;
  std::array<std::uint8_t, 4> mask{};
  std::uint64_t payload_length = 0;
  std::size_t header_bytes = 0;  // how many bytes the header took
};

struct HeaderParse {
  enum class State { kNeedMore, kOk, kError };
  State state = State::kNeedMore;
  FrameHeader header;
  std::uint16_t close_code = 0;  // kError: what to close with
  std::string reason;            // kError: why, short enough for a close frame
};

// Parses the frame header at the front of `bytes`. `from_client`: frames must be masked (a
// server's must not be). `rsv1_allowed`: permessage-deflate was negotiated. Checks what the
// header alone can tell: reserved bits, known opcodes, control frames short and unfragmented,
// a 64-bit length with its top bit clear and in its shortest form.
HeaderParse parse_frame_header(std::string_view bytes, bool from_client, bool rsv1_allowed);

// XORs `data` with the mask, `offset` bytes into the payload (payloads arrive in pieces).
void apply_mask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask,
                std::uint64_t offset);

// One whole frame. `mask`: set for frames a client sends (the payload is masked in the copy).
std::string encode_frame(Opcode opcode, std::string_view payload, bool fin = true,
                         bool rsv1 = false,
                         const std::optional<std::array<std::uint8_t, 4>>& mask = std::nullopt);
// Only the header of such a frame; the caller sends the (masked) payload after it.
std::string encode_frame_header(Opcode opcode, std::uint64_t payload_length, bool fin, bool rsv1,
                                const std::optional<std::array<std::uint8_t, 4>>& mask);

// A close frame's payload: the code, then a UTF-8 reason cut to fit 125 bytes.
std::string encode_close_payload(std::uint16_t code, std::string_view reason);
struct ClosePayload {
  std::uint16_t code = 0;  // 0: none was given (1005 in the RFC's terms)
  std::string reason;
};
// Checks a received close payload: empty, or a valid code and UTF-8 reason. nullopt: invalid
// (the peer gets 1002).
std::optional<ClosePayload> parse_close_payload(std::string_view payload);
// A code a peer may send in a close frame (1000-1014 without 1004-1006, or 3000-4999).
bool valid_close_code(std::uint16_t code);

bool valid_utf8(std::string_view text);

// The opening handshake: a client's Sec-WebSocket-Key must be base64 of 16 bytes; the server
// answers with base64(SHA-1(key + the RFC's GUID)).
bool valid_client_key(std::string_view key);
std::string accept_key(std::string_view client_key);
// 16 random bytes in base64, for a client's handshake.
std::string new_client_key();
// 4 random bytes.
std::array<std::uint8_t, 4> new_mask();

// permessage-deflate as otlpd uses it: both directions without context takeover, so every
// message is a self-contained raw DEFLATE stream and a connection keeps no compressor state.
// Answers an offer (the Sec-WebSocket-Extensions value): the extension to send back, or
// nullopt when the client did not offer permessage-deflate or offered it with parameters we
// cannot honour (a window below 15 bits we would have to respect when inflating is fine; one
// we must produce is not offered, so none matters).
std::optional<std::string> accept_deflate_offer(std::string_view extensions_header);
// A client's offer, and whether a server's answer accepted it (with server_no_context_takeover).
inline constexpr char kDeflateOffer[] =
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover";
bool deflate_accepted(std::string_view extensions_header);

// Inflates one message's payload (the tail 00 00 FF FF the sender removed is added back).
// Output beyond `max_output` is an otlp::ErrorKind::kDecompressionBomb error, corrupt data
// kMalformed.
absl::StatusOr<std::string> inflate_message(std::string_view payload, std::size_t max_output);
// Deflates one message (the trailing 00 00 FF FF removed, as the RFC wants).
std::string deflate_message(std::string_view message);

}  // namespace transport::internal::websocket
