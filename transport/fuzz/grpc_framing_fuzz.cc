// libFuzzer target for gRPC's message framing (internal/grpc_framing.h): the bytes of one
// unary call's DATA frames, fed in the splits the input chooses, checked against a
// straightforward reference reading of the same bytes.
//
// Input: byte 0 picks the message limit and whether the call has a grpc-encoding; byte 1 seeds
// the split sizes; the rest is the stream's DATA.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/internal/grpc_framing.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using transport::internal::GrpcMessageReader;
  if (size < 2) return 0;
  const std::size_t limit = std::size_t{1} << (data[0] & 0x0f);  // 1 B .. 32 KiB
  const bool encoded = (data[0] & 0x10) != 0;
  std::uint32_t split_state = data[1] | 1u;
  const std::string_view wire(reinterpret_cast<const char*>(data + 2), size - 2);

  GrpcMessageReader reader(limit, encoded);
  int prefixes = 0;
  absl::Status status;
  for (std::size_t at = 0; at < wire.size() && status.ok();) {
    split_state = split_state * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(1 + (split_state >> 16) % 64, wire.size() - at);
    status = reader.feed(wire.substr(at, n), [&](std::int64_t length) {
      ++prefixes;
      check(length >= 0 && static_cast<std::size_t>(length) <= limit);
      return absl::OkStatus();
    });
    check(reader.buffered() <= limit);
    at += n;
  }
  check(prefixes <= 1);
  absl::StatusOr<transport::internal::GrpcMessage> message = reader.finish();

  // The reference: exactly one well-formed message and nothing after it.
  bool expect_ok = wire.size() >= 5;
  std::size_t length = 0;
  if (expect_ok) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(wire[i]); };
    length = (std::size_t{b(1)} << 24) | (std::size_t{b(2)} << 16) | (std::size_t{b(3)} << 8) |
             std::size_t{b(4)};
    const std::uint8_t flag = b(0);
    expect_ok =
        (flag == 0 || (flag == 1 && encoded)) && length <= limit && wire.size() == 5 + length;
  }
  check(message.ok() == expect_ok);
  if (message.ok()) {
    check(message->payload == wire.substr(5));
    check(message->compressed == (wire[0] == 1));
  }

  // grpc-message's encoding round-trips and stays printable.
  const std::string encoded_text = transport::internal::percent_encode_grpc_message(wire);
  for (const char c : encoded_text) check(c >= 0x20 && c <= 0x7e);
  check(transport::internal::percent_decode_grpc_message(encoded_text) == wire);
  return 0;
}
