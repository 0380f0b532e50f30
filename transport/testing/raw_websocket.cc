#include "transport/testing/raw_websocket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace transport::testing {
namespace {

namespace ws = internal::websocket;

bool wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  const int ms = static_cast<int>(std::chrono::milliseconds(kRawTimeout).count());
  return ::poll(&p, 1, ms) > 0;
}

}  // namespace

std::uint16_t WsFrame::close_code() const {
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                    static_cast<std::uint8_t>(payload[1]));
}

RawWebSocket::RawWebSocket(int port) : port_(port) {}

RawWebSocket::~RawWebSocket() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<RawResponse> RawWebSocket::handshake(
    std::string_view path, const std::vector<std::pair<std::string, std::string>>& extra) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return absl::InternalError("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", std::strerror(errno)));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  key_ = ws::new_client_key();
  // The usual fields, each unless `extra` gives its own.
  const std::vector<std::pair<std::string, std::string>> usual = {{"Host", "localhost"},
                                                                  {"Upgrade", "websocket"},
                                                                  {"Connection", "Upgrade"},
                                                                  {"Sec-WebSocket-Key", key_},
                                                                  {"Sec-WebSocket-Version", "13"}};
  std::string request = absl::StrCat("GET ", std::string(path), " HTTP/1.1\r\n");
  for (const auto& [name, value] : usual) {
    const bool replaced = std::any_of(extra.begin(), extra.end(), [&](const auto& e) {
      return absl::EqualsIgnoreCase(e.first, name);
    });
    if (!replaced) absl::StrAppend(&request, name, ": ", value, "\r\n");
  }
  for (const auto& [name, value] : extra) absl::StrAppend(&request, name, ": ", value, "\r\n");
  request += "\r\n";
  if (absl::Status sent = send_raw(request); !sent.ok()) return sent;
  std::size_t end = std::string::npos;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (absl::Status more = fill(buffer_.size() + 1); !more.ok()) return more;
  }
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  RawResponse response;
  std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
  std::vector<std::string> status = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status.size() < 2 || !absl::SimpleAtoi(status[1], &response.status)) {
    return absl::InvalidArgumentError(absl::StrCat("bad status line: ", lines[0]));
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    response.headers[name] = std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  if (response.status != 101) {
    // A refusal's body: as much as Content-Length says.
    std::size_t length = 0;
    if (absl::SimpleAtoi(response.header("content-length"), &length)) {
      if (fill(length).ok()) {
        response.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
      }
    }
  }
  return response;
}

absl::Status RawWebSocket::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!wait_for(fd_, POLLOUT)) return absl::DeadlineExceededError("send: timed out");
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

std::size_t RawWebSocket::send_until_full(std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

absl::Status RawWebSocket::send_frame(WsOpcode opcode, std::string_view payload, bool fin,
                                      bool rsv1, bool masked) {
  std::optional<std::array<std::uint8_t, 4>> mask;
  if (masked) mask = ws::new_mask();
  return send_raw(ws::encode_frame(opcode, payload, fin, rsv1, mask));
}

absl::Status RawWebSocket::fill(std::size_t bytes) {
  char chunk[64 * 1024];
  while (buffer_.size() < bytes) {
    if (!wait_for(fd_, POLLIN)) return absl::DeadlineExceededError("read: timed out");
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n == 0) return absl::UnavailableError("read: the server closed the connection");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("read: ", std::strerror(errno)));
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<WsFrame> RawWebSocket::read_frame() {
  for (;;) {
    ws::HeaderParse parse = ws::parse_frame_header(buffer_, /*from_client=*/false, true);
    if (parse.state == ws::HeaderParse::State::kError) {
      return absl::InvalidArgumentError(absl::StrCat("bad frame from the server: ", parse.reason));
    }
    if (parse.state == ws::HeaderParse::State::kOk) {
      const std::size_t total = parse.header.header_bytes + parse.header.payload_length;
      if (absl::Status more = fill(total); !more.ok()) return more;
      WsFrame frame;
      frame.opcode = parse.header.opcode;
      frame.fin = parse.header.fin;
      frame.rsv1 = parse.header.rsv1;
      frame.payload = buffer_.substr(parse.header.header_bytes, parse.header.payload_length);
      buffer_.erase(0, total);
      return frame;
    }
    if (absl::Status more = fill(buffer_.size() + 1); !more.ok()) return more;
  }
}

absl::StatusOr<WsFrame> RawWebSocket::read_until_close(std::vector<WsFrame>* before) {
  for (;;) {
    absl::StatusOr<WsFrame> frame = read_frame();
    if (!frame.ok()) return frame.status();
    if (frame->opcode == WsOpcode::kClose) return frame;
    if (frame->opcode == WsOpcode::kPing) {
      if (absl::Status s = send_frame(WsOpcode::kPong, frame->payload); !s.ok()) return s;
      continue;
    }
    if (before != nullptr) before->push_back(*std::move(frame));
  }
}

bool RawWebSocket::wait_closed() {
  if (!buffer_.empty()) return false;
  if (!wait_for(fd_, POLLIN)) return false;
  char byte = 0;
  const ssize_t n = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

}  // namespace transport::testing
