#include "transport/internal/websocket_frame.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "otlp/errors.h"

namespace transport::internal::websocket {
namespace {

constexpr char kHandshakeGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr char kDeflateName[] = "permessage-deflate";
constexpr std::uint8_t kDeflateTail[] = {0x00, 0x00, 0xFF, 0xFF};

HeaderParse error(std::uint16_t code, std::string reason) {
  HeaderParse parse;
  parse.state = HeaderParse::State::kError;
  parse.close_code = code;
  parse.reason = std::move(reason);
  return parse;
}

bool is_control(Opcode opcode) { return (static_cast<std::uint8_t>(opcode) & 0x8) != 0; }

bool known_opcode(std::uint8_t value) { return value <= 0x2 || (value >= 0x8 && value <= 0xA); }

std::string base64(const unsigned char* data, std::size_t size) {
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(data), size));
}

// One extension offer: its name and parameters, as the header spells them (trimmed).
struct Offer {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;  // value "" when none was given
};

std::vector<Offer> parse_offers(std::string_view header) {
  std::vector<Offer> offers;
  for (absl::string_view item : absl::StrSplit(absl::string_view(header.data(), header.size()), ',',
                                               absl::SkipWhitespace())) {
    Offer offer;
    bool first = true;
    for (absl::string_view part : absl::StrSplit(item, ';')) {
      part = absl::StripAsciiWhitespace(part);
      if (first) {
        offer.name = absl::AsciiStrToLower(part);
        first = false;
        continue;
      }
      if (part.empty()) continue;
      const std::size_t eq = part.find('=');
      std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part.substr(0, eq)));
      std::string value;
      if (eq != absl::string_view::npos) {
        absl::string_view v = absl::StripAsciiWhitespace(part.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        value = std::string(v);
      }
      offer.params.emplace_back(std::move(name), std::move(value));
    }
    offers.push_back(std::move(offer));
  }
  return offers;
}

bool window_bits_value(const std::string& value) {
  int bits = 0;
  return absl::SimpleAtoi(value, &bits) && bits >= 8 && bits <= 15 && value.size() <= 2 &&
         absl::ascii_isdigit(static_cast<unsigned char>(value.front()));
}

}  // namespace

HeaderParse parse_frame_header(std::string_view bytes, bool from_client, bool rsv1_allowed) {
  HeaderParse parse;
  if (bytes.size() < 2) return parse;
  const auto b0 = static_cast<std::uint8_t>(bytes[0]);
  const auto b1 = static_cast<std::uint8_t>(bytes[1]);
  FrameHeader& h = parse.header;
  h.fin = (b0 & 0x80) != 0;
  h.rsv1 = (b0 & 0x40) != 0;
  if ((b0 & 0x30) != 0) return error(kCloseProtocolError, "reserved bits RSV2/RSV3 set");
  if (h.rsv1 && !rsv1_allowed) {
    return error(kCloseProtocolError, "RSV1 set without permessage-deflate");
  }
  const std::uint8_t opcode = b0 & 0x0F;
  if (!known_opcode(opcode)) {
    return error(kCloseProtocolError, absl::StrCat("unknown opcode ", opcode));
  }
  h.opcode = static_cast<Opcode>(opcode);
  h.masked = (b1 & 0x80) != 0;
  if (h.masked != from_client) {
    return error(kCloseProtocolError,
                 from_client ? "client frame not masked" : "server frame masked");
  }
  const std::uint8_t length7 = b1 & 0x7F;
  if (is_control(h.opcode)) {
    if (!h.fin) return error(kCloseProtocolError, "fragmented control frame");
    if (length7 > kMaxControlPayload) {
      return error(kCloseProtocolError, "control frame payload over 125 bytes");
    }
    if (h.rsv1) return error(kCloseProtocolError, "RSV1 set on a control frame");
  }
  std::size_t at = 2;
  if (length7 < 126) {
    h.payload_length = length7;
  } else if (length7 == 126) {
    if (bytes.size() < at + 2) return parse;
    h.payload_length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[2])) << 8) |
                       static_cast<std::uint8_t>(bytes[3]);
    at += 2;
    if (h.payload_length < 126) return error(kCloseProtocolError, "length not in shortest form");
  } else {
    if (bytes.size() < at + 8) return parse;
    std::uint64_t length = 0;
    for (int i = 0; i < 8; ++i) {
      length = (length << 8) | static_cast<std::uint8_t>(bytes[2 + i]);
    }
    at += 8;
    if ((length >> 63) != 0) return error(kCloseProtocolError, "length with its top bit set");
    if (length <= 0xFFFF) return error(kCloseProtocolError, "length not in shortest form");
    h.payload_length = length;
  }
  if (h.masked) {
    if (bytes.size() < at + 4) return parse;
    for (int i = 0; i < 4; ++i) h.mask[i] = static_cast<std::uint8_t>(bytes[at + i]);
    at += 4;
  }
  h.header_bytes = at;
  parse.state = HeaderParse::State::kOk;
  return parse;
}

void apply_mask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask,
                std::uint64_t offset) {
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ mask[(offset + i) & 3]);
  }
}

std::string encode_frame_header(Opcode opcode, std::uint64_t payload_length, bool fin, bool rsv1,
                                const std::optional<std::array<std::uint8_t, 4>>& mask) {
  std::string out;
  out.reserve(kMaxHeaderBytes);
  out.push_back(
      static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<std::uint8_t>(opcode)));
  const std::uint8_t mask_bit = mask.has_value() ? 0x80 : 0;
  if (payload_length < 126) {
    out.push_back(static_cast<char>(mask_bit | payload_length));
  } else if (payload_length <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload_length >> 8));
    out.push_back(static_cast<char>(payload_length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((payload_length >> shift) & 0xFF));
    }
  }
  if (mask.has_value()) {
    for (std::uint8_t byte : *mask) out.push_back(static_cast<char>(byte));
  }
  return out;
}

std::string encode_frame(Opcode opcode, std::string_view payload, bool fin, bool rsv1,
                         const std::optional<std::array<std::uint8_t, 4>>& mask) {
  std::string out = encode_frame_header(opcode, payload.size(), fin, rsv1, mask);
  const std::size_t header = out.size();
  out.append(payload);
  if (mask.has_value()) apply_mask(out.data() + header, payload.size(), *mask, 0);
  return out;
}

std::string encode_close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  // Cut the reason to fit, on a UTF-8 character boundary.
  std::size_t room = kMaxControlPayload - 2;
  if (reason.size() > room) {
    while (room > 0 && (static_cast<std::uint8_t>(reason[room]) & 0xC0) == 0x80) --room;
    reason = reason.substr(0, room);
  }
  out.append(reason);
  return out;
}

bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

std::optional<ClosePayload> parse_close_payload(std::string_view payload) {
  ClosePayload close;
  if (payload.empty()) return close;
  if (payload.size() == 1) return std::nullopt;
  close.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                          static_cast<std::uint8_t>(payload[1]));
  if (!valid_close_code(close.code)) return std::nullopt;
  const std::string_view reason = payload.substr(2);
  if (!valid_utf8(reason)) return std::nullopt;
  close.reason = std::string(reason);
  return close;
}

bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra = 0;
    std::uint32_t code = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

bool valid_client_key(std::string_view key) {
  std::string decoded;
  if (key.size() != 24) return false;
  if (!absl::Base64Unescape(absl::string_view(key.data(), key.size()), &decoded)) return false;
  return decoded.size() == 16;
}

std::string accept_key(std::string_view client_key) {
  std::string input =
      absl::StrCat(absl::string_view(client_key.data(), client_key.size()), kHandshakeGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

std::string new_client_key() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // The key only guards against caching proxies; any 16 bytes will do.
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(std::rand());
  }
  return base64(bytes, sizeof bytes);
}

std::array<std::uint8_t, 4> new_mask() {
  std::array<std::uint8_t, 4> mask{};
  if (RAND_bytes(mask.data(), static_cast<int>(mask.size())) != 1) {
    for (std::uint8_t& b : mask) b = static_cast<std::uint8_t>(std::rand());
  }
  return mask;
}

std::optional<std::string> accept_deflate_offer(std::string_view extensions_header) {
  for (const Offer& offer : parse_offers(extensions_header)) {
    if (offer.name != kDeflateName) continue;
    bool usable = true;
    std::string server_window;
    std::vector<std::string> seen;
    for (const auto& [name, value] : offer.params) {
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        usable = false;  // a parameter given twice declines the offer (RFC 7692 section 7)
        break;
      }
      seen.push_back(name);
      if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
        usable = value.empty();
      } else if (name == "server_max_window_bits") {
        // We never compress what we send, so any window the client asks for is honoured.
        usable = window_bits_value(value);
        server_window = value;
      } else if (name == "client_max_window_bits") {
        // We inflate with the largest window, so whatever the client uses is fine.
        usable = value.empty() || window_bits_value(value);
      } else {
        usable = false;
      }
      if (!usable) break;
    }
    if (!usable) continue;
    std::string answer =
        absl::StrCat(kDeflateName, "; server_no_context_takeover; client_no_context_takeover");
    if (!server_window.empty())
      absl::StrAppend(&answer, "; server_max_window_bits=", server_window);
    return answer;
  }
  return std::nullopt;
}

bool deflate_accepted(std::string_view extensions_header) {
  const std::vector<Offer> offers = parse_offers(extensions_header);
  if (offers.size() != 1 || offers[0].name != kDeflateName) return false;
  // We offered server_no_context_takeover, so an acceptance must carry it: every answer is
  // inflated on its own. client_no_context_takeover may come or not: we compress every message
  // on its own anyway.
  bool server_no_takeover = false;
  for (const auto& [name, value] : offers[0].params) {
    if (name == "server_no_context_takeover") {
      server_no_takeover = value.empty();
    } else if (name == "client_no_context_takeover") {
      if (!value.empty()) return false;
    } else if (name == "server_max_window_bits") {
      if (!window_bits_value(value)) return false;  // we inflate with the largest window
    } else {
      // client_max_window_bits was not offered, so the server may not set it (and we compress
      // with the largest window); anything else is unknown.
      return false;
    }
  }
  return server_no_takeover;
}

absl::StatusOr<std::string> inflate_message(std::string_view payload, std::size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  // The payload, then the tail the sender removed, fed as two inputs: no copy of the payload.
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(payload.size(), UINT32_MAX));
  bool tail_fed = false;
  std::string out;
  constexpr std::size_t kStep = 64u << 10;
  absl::Status status;
  while (true) {
    if (zs.avail_in == 0 && !tail_fed) {
      zs.next_in = const_cast<Bytef*>(kDeflateTail);
      zs.avail_in = sizeof kDeflateTail;
      tail_fed = true;
    }
    const std::size_t room = std::min(kStep, max_output + 1 - out.size());
    const std::size_t offset = out.size();
    out.resize(offset + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + offset);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_SYNC_FLUSH);
    out.resize(offset + (room - zs.avail_out));
    if (out.size() > max_output) {
      status = otlp::make_error(
          otlp::ErrorKind::kDecompressionBomb,
          absl::StrCat("compressed message inflates past the limit of ", max_output, " bytes"));
      break;
    }
    if (rc == Z_STREAM_END) {
      // A final block ends the stream; nothing may follow it but the tail we add.
      if (!tail_fed && zs.avail_in > 0) {
        status = otlp::make_error(otlp::ErrorKind::kMalformed,
                                  "bytes after the end of the compressed message");
      }
      break;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      if (tail_fed && zs.avail_in == 0 && zs.avail_out > 0) break;  // all input inflated
      if (rc == Z_BUF_ERROR && zs.avail_out > 0 && zs.avail_in == 0 && tail_fed) break;
      if (rc == Z_BUF_ERROR && zs.avail_out > 0 && zs.avail_in > 0) {
        status = otlp::make_error(otlp::ErrorKind::kMalformed, "truncated compressed message");
        break;
      }
      continue;
    }
    status = otlp::make_error(
        otlp::ErrorKind::kMalformed,
        absl::StrCat("corrupt compressed message (", zs.msg != nullptr ? zs.msg : "?", ")"));
    break;
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  return out;
}

std::string deflate_message(std::string_view message) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, message.size()) + 16);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  zs.avail_in = static_cast<uInt>(message.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_SYNC_FLUSH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  // A sync flush ends with an empty stored block, 00 00 FF FF; the RFC has it removed.
  if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, kDeflateTail, 4) == 0) {
    out.resize(out.size() - 4);
  }
  return out;
}

}  // namespace transport::internal::websocket
