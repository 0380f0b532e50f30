// The WebSocket wire format: RFC 6455's own examples (the handshake key, masked and unmasked
// frames), every header rule the parser enforces, close payloads, UTF-8, and permessage-deflate
// negotiation and round trips, bombs included.

#include "transport/internal/websocket_frame.h"

#include <gtest/gtest.h>

#include "otlp/errors.h"

namespace transport::internal::websocket {
namespace {

using State = HeaderParse::State;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(WebSocketFrame, TheHandshakeKeyOfRfc6455) {
  EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_FALSE(valid_client_key(""));
  EXPECT_FALSE(valid_client_key("not base64 at all!!!!!!!"));
  EXPECT_FALSE(valid_client_key("c2hvcnQ="));  // 5 bytes, not 16
  EXPECT_TRUE(valid_client_key(new_client_key()));
}

TEST(WebSocketFrame, TheRfcsHelloExamplesParse) {
  // A single-frame unmasked text message "Hello" (server to client).
  const std::string unmasked = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  HeaderParse p = parse_frame_header(unmasked, /*from_client=*/false, false);
  ASSERT_EQ(p.state, State::kOk);
  EXPECT_TRUE(p.header.fin);
  EXPECT_EQ(p.header.opcode, Opcode::kText);
  EXPECT_EQ(p.header.payload_length, 5u);
  EXPECT_EQ(p.header.header_bytes, 2u);
  EXPECT_EQ(encode_frame(Opcode::kText, "Hello"), unmasked);

  // The same, masked (client to server).
  std::string masked = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  p = parse_frame_header(masked, /*from_client=*/true, false);
  ASSERT_EQ(p.state, State::kOk);
  ASSERT_EQ(p.header.header_bytes, 6u);
  apply_mask(masked.data() + 6, 5, p.header.mask, 0);
  EXPECT_EQ(masked.substr(6), "Hello");
  EXPECT_EQ(encode_frame(Opcode::kText, "Hello", true, false,
                         std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d}),
            bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(WebSocketFrame, MaskingContinuesAcrossPieces) {
  const std::array<std::uint8_t, 4> mask{1, 2, 3, 4};
  std::string whole = "a payload that arrives in pieces";
  std::string pieces = whole;
  apply_mask(whole.data(), whole.size(), mask, 0);
  apply_mask(pieces.data(), 5, mask, 0);
  apply_mask(pieces.data() + 5, pieces.size() - 5, mask, 5);
  EXPECT_EQ(whole, pieces);
}

TEST(WebSocketFrame, LengthsOfEveryForm) {
  for (std::uint64_t length : {0ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 33}) {
    const std::string header =
        encode_frame_header(Opcode::kBinary, length, true, false, new_mask());
    HeaderParse p = parse_frame_header(header, true, false);
    ASSERT_EQ(p.state, State::kOk) << length;
    EXPECT_EQ(p.header.payload_length, length);
    EXPECT_EQ(p.header.header_bytes, header.size());
    // Every shorter prefix asks for more.
    for (std::size_t n = 0; n < header.size(); ++n) {
      EXPECT_EQ(parse_frame_header(header.substr(0, n), true, false).state, State::kNeedMore);
    }
  }
}

TEST(WebSocketFrame, HeadersThatBreakTheRulesAreProtocolErrors) {
  const auto refused = [](const std::string& header, bool from_client = true,
                          bool rsv1_allowed = false) {
    HeaderParse p = parse_frame_header(header, from_client, rsv1_allowed);
    EXPECT_EQ(p.state, State::kError) << p.reason;
    return p.close_code;
  };
  EXPECT_EQ(refused(bytes({0x82, 0x00})), kCloseProtocolError);                     // not masked
  EXPECT_EQ(refused(bytes({0x82, 0x80, 0, 0, 0, 0}), false), kCloseProtocolError);  // masked
  EXPECT_EQ(refused(bytes({0xA2, 0x80, 0, 0, 0, 0})), kCloseProtocolError);         // RSV2
  EXPECT_EQ(refused(bytes({0x92, 0x80, 0, 0, 0, 0})), kCloseProtocolError);         // RSV3
  EXPECT_EQ(refused(bytes({0xC2, 0x80, 0, 0, 0, 0})), kCloseProtocolError);  // RSV1, no deflate
  EXPECT_EQ(refused(bytes({0x83, 0x80, 0, 0, 0, 0})), kCloseProtocolError);  // opcode 3
  EXPECT_EQ(refused(bytes({0x8B, 0x80, 0, 0, 0, 0})), kCloseProtocolError);  // opcode 0xB
  EXPECT_EQ(refused(bytes({0x09, 0x80, 0, 0, 0, 0})), kCloseProtocolError);  // fragmented ping
  EXPECT_EQ(refused(bytes({0x89, 0xFE, 0, 126})), kCloseProtocolError);      // 126-byte ping
  EXPECT_EQ(refused(bytes({0xC9, 0x80, 0, 0, 0, 0}), true, true), kCloseProtocolError);
  EXPECT_EQ(refused(bytes({0x82, 0xFE, 0, 5})), kCloseProtocolError);  // not shortest
  EXPECT_EQ(refused(bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF})), kCloseProtocolError);
  EXPECT_EQ(refused(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0})), kCloseProtocolError);
  // RSV1 is fine on a data frame once deflate is agreed.
  EXPECT_EQ(parse_frame_header(bytes({0xC2, 0x80, 0, 0, 0, 0}), true, true).state, State::kOk);
}

TEST(WebSocketFrame, ClosePayloads) {
  const std::string payload = encode_close_payload(kCloseGoingAway, "server shutting down");
  std::optional<ClosePayload> close = parse_close_payload(payload);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, kCloseGoingAway);
  EXPECT_EQ(close->reason, "server shutting down");
  EXPECT_EQ(parse_close_payload("")->code, 0);
  EXPECT_FALSE(parse_close_payload("x").has_value());
  EXPECT_FALSE(parse_close_payload(encode_close_payload(1005, "")).has_value());
  EXPECT_FALSE(parse_close_payload(encode_close_payload(999, "")).has_value());
  EXPECT_TRUE(parse_close_payload(encode_close_payload(4000, "")).has_value());
  EXPECT_FALSE(parse_close_payload(bytes({0x03, 0xE8, 0xFF})).has_value());  // reason not UTF-8
  // A long reason is cut to fit a control frame, on a character boundary.
  std::string long_reason;
  for (int i = 0; i < 100; ++i) long_reason += "\xC3\xA9";  // é
  const std::string cut = encode_close_payload(kCloseNormal, long_reason);
  EXPECT_LE(cut.size(), kMaxControlPayload);
  EXPECT_TRUE(parse_close_payload(cut).has_value());
}

TEST(WebSocketFrame, Utf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(valid_utf8("\xC3"));                                 // cut short
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));                             // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));                         // a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));                     // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xFF"));
}

TEST(WebSocketFrame, DeflateNegotiation) {
  EXPECT_FALSE(accept_deflate_offer("").has_value());
  EXPECT_FALSE(accept_deflate_offer("x-webkit-deflate-frame").has_value());
  EXPECT_EQ(accept_deflate_offer("permessage-deflate; client_max_window_bits").value_or(""),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(accept_deflate_offer("permessage-deflate; server_max_window_bits=10").value_or(""),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10");
  // An offer we cannot take is skipped for the next one.
  EXPECT_TRUE(
      accept_deflate_offer("permessage-deflate; unknown=1, permessage-deflate").has_value());
  EXPECT_FALSE(accept_deflate_offer("permessage-deflate; server_max_window_bits=7").has_value());
  EXPECT_FALSE(accept_deflate_offer("permessage-deflate; client_no_context_takeover; "
                                    "client_no_context_takeover")
                   .has_value());
  EXPECT_TRUE(deflate_accepted(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover"));
  // The server may leave client_no_context_takeover out, never server_no_context_takeover.
  EXPECT_TRUE(deflate_accepted("permessage-deflate; server_no_context_takeover"));
  EXPECT_FALSE(deflate_accepted("permessage-deflate; client_no_context_takeover"));
  EXPECT_FALSE(
      deflate_accepted("permessage-deflate; server_no_context_takeover; "
                       "client_max_window_bits=10"));
  EXPECT_FALSE(deflate_accepted(""));
}

TEST(WebSocketFrame, DeflateRoundTripsAndRefusesBombs) {
  std::string message;
  for (int i = 0; i < 5000; ++i) message += "span attributes repeat a lot; ";
  const std::string compressed = deflate_message(message);
  EXPECT_LT(compressed.size(), message.size() / 10);
  absl::StatusOr<std::string> inflated = inflate_message(compressed, message.size());
  ASSERT_TRUE(inflated.ok()) << inflated.status();
  EXPECT_EQ(*inflated, message);
  EXPECT_EQ(*inflate_message(deflate_message(""), 10), "");

  absl::StatusOr<std::string> bomb = inflate_message(compressed, message.size() - 1);
  EXPECT_EQ(otlp::error_kind(bomb.status()), otlp::ErrorKind::kDecompressionBomb);
  absl::StatusOr<std::string> corrupt = inflate_message(bytes({0xFF, 0xFF, 0xFF, 0x00}), 1000);
  EXPECT_EQ(otlp::error_kind(corrupt.status()), otlp::ErrorKind::kMalformed);
}

}  // namespace
}  // namespace transport::internal::websocket
