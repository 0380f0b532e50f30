// libFuzzer target for the WebSocket wire format (internal/websocket_frame.h): frame headers
// parsed from any bytes, as a server and as a client, checked against what a header may claim;
// masking checked to be its own inverse across any split; close payloads and UTF-8; deflate
// offers; and inflating any payload within a cap.
//
// Input: byte 0 picks the checks' options (who sends, deflate agreed, the inflate cap); the
// rest is the bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/internal/websocket_frame.h"

namespace {

namespace ws = transport::internal::websocket;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool from_client = (data[0] & 1) != 0;
  const bool deflate = (data[0] & 2) != 0;
  const std::size_t cap = std::size_t{1} << (4 + (data[0] >> 4));  // 16 B .. 512 KiB
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  // A header parses, asks for more, or is refused with a protocol close code; a parsed one
  // took no more than it had and claims only what the RFC allows.
  const ws::HeaderParse parse = ws::parse_frame_header(bytes, from_client, deflate);
  if (parse.state == ws::HeaderParse::State::kOk) {
    const ws::FrameHeader& h = parse.header;
    check(h.header_bytes >= 2 && h.header_bytes <= ws::kMaxHeaderBytes &&
          h.header_bytes <= bytes.size());
    check(h.masked == from_client);
    check((h.payload_length >> 63) == 0);
    if (static_cast<std::uint8_t>(h.opcode) >= 0x8) {
      check(h.fin && h.payload_length <= ws::kMaxControlPayload && !h.rsv1);
    }
    if (h.rsv1) check(deflate);
    // The header re-encodes to the same bytes.
    const std::string again = ws::encode_frame_header(
        h.opcode, h.payload_length, h.fin, h.rsv1, h.masked ? std::optional(h.mask) : std::nullopt);
    check(again == bytes.substr(0, h.header_bytes));
    // Unmasking the payload in two pieces equals unmasking it whole, and masking restores it.
    std::string payload(bytes.substr(h.header_bytes));
    std::string whole = payload;
    ws::apply_mask(whole.data(), whole.size(), h.mask, 0);
    const std::size_t cut = payload.size() / 3;
    ws::apply_mask(payload.data(), cut, h.mask, 0);
    ws::apply_mask(payload.data() + cut, payload.size() - cut, h.mask, cut);
    check(payload == whole);
    ws::apply_mask(whole.data(), whole.size(), h.mask, 0);
    check(whole == bytes.substr(h.header_bytes));
  } else if (parse.state == ws::HeaderParse::State::kError) {
    check(parse.close_code == ws::kCloseProtocolError && !parse.reason.empty());
  }

  // A close payload that parses re-encodes to itself (a reason that fits is kept whole).
  if (std::optional<ws::ClosePayload> close = ws::parse_close_payload(bytes)) {
    check(close->code == 0 || ws::valid_close_code(close->code));
    check(ws::valid_utf8(close->reason));
    if (close->code != 0 && bytes.size() <= ws::kMaxControlPayload) {
      check(ws::encode_close_payload(close->code, close->reason) == bytes);
    }
  }

  // Offers are answered or declined, never crash; an answer is one the client side accepts.
  if (std::optional<std::string> answer = ws::accept_deflate_offer(bytes)) {
    check(ws::deflate_accepted(*answer));
  }

  // Inflating never passes the cap; what deflates inflates back.
  absl::StatusOr<std::string> inflated = ws::inflate_message(bytes, cap);
  if (inflated.ok()) check(inflated->size() <= cap);
  if (bytes.size() <= cap) {
    absl::StatusOr<std::string> back = ws::inflate_message(ws::deflate_message(bytes), cap);
    check(back.ok() && *back == bytes);
  }
  return 0;
}
