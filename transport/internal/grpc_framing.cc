#include "transport/internal/grpc_framing.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace transport::internal {

absl::Status GrpcMessageReader::check_prefix() {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(prefix_[i]); };
  const std::uint8_t flag = byte(0);
  if (flag > 1) {
    return absl::InternalError(
        absl::StrCat("invalid compressed flag ", flag, " in the gRPC message prefix"));
  }
  if (flag == 1 && !encoded_) {
    return absl::InternalError(
        "compressed flag set on a gRPC message, but the call's grpc-encoding is identity");
  }
  message_.compressed = flag == 1;
  length_ = (std::size_t{byte(1)} << 24) | (std::size_t{byte(2)} << 16) |
            (std::size_t{byte(3)} << 8) | std::size_t{byte(4)};
  if (length_ > max_message_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat("received message larger than max (", length_,
                                                     " vs. ", max_message_bytes_, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GrpcMessage> GrpcMessageReader::finish() {
  if (!error_.ok()) return error_;
  switch (state_) {
    case State::kPrefix:
      if (prefix_len_ == 0) return absl::UnimplementedError("missing request message");
      return absl::InternalError(absl::StrCat("truncated gRPC message prefix: got ", prefix_len_,
                                              " of ", kGrpcPrefixBytes, " bytes"));
    case State::kBody:
      return absl::InternalError(absl::StrCat("truncated gRPC message: got ",
                                              message_.payload.size(), " of ", length_, " bytes"));
    case State::kDone:
      break;
  }
  state_ = State::kPrefix;  // a second finish() finds no message
  prefix_len_ = 0;
  return std::move(message_);
}

std::string grpc_frame(std::string_view message) {
  std::string out;
  out.reserve(kGrpcPrefixBytes + message.size());
  const auto n = static_cast<std::uint32_t>(message.size());
  out.push_back('\0');
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(message);
  return out;
}

std::string percent_encode_grpc_message(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u <= 0x7e && u != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string percent_decode_grpc_message(std::string_view text) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string encode_binary_header(std::string_view bytes) {
  std::string out = absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

}  // namespace transport::internal
