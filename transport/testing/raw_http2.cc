#include "transport/testing/raw_http2.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace transport::testing {
namespace {

using Clock = std::chrono::steady_clock;

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get_u32(std::string_view in, std::size_t at) {
  const auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix.
void put_hpack_int(std::string& out, std::uint8_t first, int prefix_bits, std::size_t value) {
  const std::size_t max_prefix = (std::size_t{1} << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<char>(first | value));
    return;
  }
  out.push_back(static_cast<char>(first | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Strips the padding (and priority fields) of a HEADERS or DATA payload.
absl::StatusOr<std::string_view> unpadded(const Frame& frame) {
  std::string_view p = frame.payload;
  std::size_t pad = 0;
  if (frame.has(h2::kPadded)) {
    if (p.empty()) return absl::InternalError("padded frame without a pad length");
    pad = static_cast<unsigned char>(p[0]);
    p.remove_prefix(1);
  }
  if (frame.type == h2::kHeaders && frame.has(h2::kPriorityFlag)) {
    if (p.size() < 5) return absl::InternalError("HEADERS priority fields missing");
    p.remove_prefix(5);
  }
  if (pad > p.size()) return absl::InternalError("padding longer than the frame");
  p.remove_suffix(pad);
  return p;
}

std::optional<std::string> last_value(const HeaderList& headers, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [n, v] : headers) {
    if (n == name) out = v;
  }
  return out;
}

}  // namespace

// ---- Frame ----

std::uint32_t Frame::error_code() const {
  if (type == h2::kRstStream && payload.size() >= 4) return get_u32(payload, 0);
  if (type == h2::kGoaway && payload.size() >= 8) return get_u32(payload, 4);
  return 0;
}

std::uint32_t Frame::last_stream_id() const {
  if (type == h2::kGoaway && payload.size() >= 4) return get_u32(payload, 0) & 0x7fffffffu;
  return 0;
}

SettingsList Frame::settings() const {
  SettingsList out;
  if (type != h2::kSettings) return out;
  for (std::size_t i = 0; i + 6 <= payload.size(); i += 6) {
    const auto id = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[i]) << 8) |
                                               static_cast<unsigned char>(payload[i + 1]));
    out.emplace_back(id, get_u32(payload, i + 2));
  }
  return out;
}

// ---- Encoders ----

std::string frame_bytes(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id,
                        std::string_view payload) {
  std::string out;
  out.reserve(9 + payload.size());
  const std::size_t n = payload.size();
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  put_u32(out, stream_id & 0x7fffffffu);
  out.append(payload);
  return out;
}

std::string hpack_literal(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() + 12);
  out.push_back('\0');                       // 0000 0000: without indexing, literal (new) name
  put_hpack_int(out, 0x00, 7, name.size());  // H = 0: no Huffman
  out.append(name);
  put_hpack_int(out, 0x00, 7, value.size());
  out.append(value);
  return out;
}

std::string hpack_block(const HeaderList& headers) {
  std::string out;
  for (const auto& [name, value] : headers) out += hpack_literal(name, value);
  return out;
}

std::string headers_bytes(std::uint32_t stream_id, std::string_view block, HeadersOptions options) {
  // Cut the block into 1 + continuations pieces, then any piece over the frame size further.
  const std::size_t parts = static_cast<std::size_t>(std::max(0, options.continuations)) + 1;
  std::vector<std::string_view> pieces;
  const std::size_t base = block.size() / parts;
  std::size_t at = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    const std::size_t len = i + 1 == parts ? block.size() - at : base;
    std::string_view piece = block.substr(at, len);
    at += len;
    do {
      const std::size_t take = std::min(piece.size(), h2::kDefaultMaxFrameSize);
      pieces.push_back(piece.substr(0, take));
      piece.remove_prefix(take);
    } while (!piece.empty());
  }
  std::string out;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const bool last = i + 1 == pieces.size();
    std::uint8_t flags = 0;
    if (last && options.end_headers) flags |= h2::kEndHeaders;
    if (i == 0) {
      if (options.end_stream) flags |= h2::kEndStream;
      out += frame_bytes(h2::kHeaders, flags, stream_id, pieces[i]);
    } else {
      out += frame_bytes(h2::kContinuation, flags, stream_id, pieces[i]);
    }
  }
  return out;
}

std::string continuation_bytes(std::uint32_t stream_id, std::string_view block, bool end_headers) {
  return frame_bytes(h2::kContinuation, end_headers ? h2::kEndHeaders : 0, stream_id, block);
}

std::string data_bytes(std::uint32_t stream_id, std::string_view data, bool end_stream,
                       std::optional<std::uint8_t> padding) {
  std::string out;
  const std::size_t room =
      h2::kDefaultMaxFrameSize - (padding ? 1 + static_cast<std::size_t>(*padding) : 0);
  do {
    const std::size_t take = std::min(data.size(), room);
    const bool last = take == data.size();
    std::uint8_t flags = last && end_stream ? h2::kEndStream : 0;
    std::string payload;
    if (padding) {
      flags |= h2::kPadded;
      payload.push_back(static_cast<char>(*padding));
      payload.append(data.substr(0, take));
      payload.append(*padding, '\0');
    } else {
      payload.assign(data.substr(0, take));
    }
    out += frame_bytes(h2::kData, flags, stream_id, payload);
    data.remove_prefix(take);
  } while (!data.empty());
  return out;
}

std::string settings_bytes(const SettingsList& settings) {
  std::string payload;
  for (const auto& [id, value] : settings) {
    payload.push_back(static_cast<char>(id >> 8));
    payload.push_back(static_cast<char>(id & 0xff));
    put_u32(payload, value);
  }
  return frame_bytes(h2::kSettings, 0, 0, payload);
}

std::string settings_ack_bytes() { return frame_bytes(h2::kSettings, h2::kAck, 0, ""); }

std::string rst_stream_bytes(std::uint32_t stream_id, std::uint32_t error_code) {
  std::string payload;
  put_u32(payload, error_code);
  return frame_bytes(h2::kRstStream, 0, stream_id, payload);
}

std::string ping_bytes(std::string_view opaque8, bool ack) {
  std::string payload(opaque8.substr(0, 8));
  payload.resize(8, '\0');
  return frame_bytes(h2::kPing, ack ? h2::kAck : 0, 0, payload);
}

std::string goaway_bytes(std::uint32_t last_stream_id, std::uint32_t error_code,
                         std::string_view debug) {
  std::string payload;
  put_u32(payload, last_stream_id & 0x7fffffffu);
  put_u32(payload, error_code);
  payload.append(debug);
  return frame_bytes(h2::kGoaway, 0, 0, payload);
}

std::string window_update_bytes(std::uint32_t stream_id, std::uint32_t increment) {
  std::string payload;
  put_u32(payload, increment & 0x7fffffffu);
  return frame_bytes(h2::kWindowUpdate, 0, stream_id, payload);
}

std::string grpc_message(std::string_view bytes, std::uint8_t flag) {
  std::string out;
  out.reserve(5 + bytes.size());
  out.push_back(static_cast<char>(flag));
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
  return out;
}

absl::StatusOr<std::vector<std::pair<std::uint8_t, std::string>>> split_grpc_messages(
    std::string_view data) {
  std::vector<std::pair<std::uint8_t, std::string>> out;
  while (!data.empty()) {
    if (data.size() < 5) return absl::InvalidArgumentError("truncated gRPC message prefix");
    const std::uint32_t len = get_u32(data, 1);
    if (data.size() - 5 < len) return absl::InvalidArgumentError("truncated gRPC message");
    out.emplace_back(static_cast<std::uint8_t>(data[0]), std::string(data.substr(5, len)));
    data.remove_prefix(5 + len);
  }
  return out;
}

HeaderList grpc_request_headers(std::string_view path, const HeaderList& extra) {
  HeaderList out = {{":method", "POST"},
                    {":scheme", "http"},
                    {":path", std::string(path)},
                    {":authority", "127.0.0.1"},
                    {"content-type", "application/grpc"},
                    {"te", "trailers"}};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// ---- H2Response ----

std::optional<std::string> H2Response::header(std::string_view name) const {
  return last_value(headers, name);
}

std::optional<std::string> H2Response::trailer(std::string_view name) const {
  return last_value(trailers, name);
}

std::optional<int> H2Response::grpc_status() const {
  std::optional<std::string> value = trailer("grpc-status");
  if (!value) value = header("grpc-status");
  int code = 0;
  if (!value || !absl::SimpleAtoi(*value, &code)) return std::nullopt;
  return code;
}

std::string H2Response::grpc_message() const {
  std::optional<std::string> value = trailer("grpc-message");
  if (!value) value = header("grpc-message");
  return value.value_or("");
}

std::string H2Response::grpc_status_details() const {
  std::optional<std::string> value = trailer("grpc-status-details-bin");
  if (!value) value = header("grpc-status-details-bin");
  std::string out;
  if (!value || !absl::Base64Unescape(*value, &out)) return "";
  return out;
}

std::string_view end_name(H2Response::End end) {
  switch (end) {
    case H2Response::End::kEndStream:
      return "END_STREAM";
    case H2Response::End::kRstStream:
      return "RST_STREAM";
    case H2Response::End::kGoaway:
      return "GOAWAY";
    case H2Response::End::kClosed:
      return "connection closed";
    case H2Response::End::kTimeout:
      return "timeout";
  }
  return "?";
}

std::string H2Response::describe() const {
  std::string out = absl::StrCat("end=", std::string(end_name(end)), " :status=", status);
  if (end == End::kRstStream) absl::StrAppend(&out, " rst_error=", rst_error_code);
  if (goaway) {
    absl::StrAppend(&out, " goaway(last=", goaway->last_stream_id(),
                    ", error=", goaway->error_code(), ")");
  }
  for (const auto& [n, v] : headers) absl::StrAppend(&out, " [h ", n, ": ", v.substr(0, 200), "]");
  for (const auto& [n, v] : trailers) absl::StrAppend(&out, " [t ", n, ": ", v.substr(0, 200), "]");
  absl::StrAppend(&out, " data=", data.size(), "B");
  return out;
}

// ---- RawHttp2Connection ----

void RawHttp2Connection::InflaterDeleter::operator()(nghttp2_hd_inflater* inflater) const {
  nghttp2_hd_inflate_del(inflater);
}

RawHttp2Connection::RawHttp2Connection(int port) : port_(port) {
  nghttp2_hd_inflater* inflater = nullptr;
  if (nghttp2_hd_inflate_new(&inflater) == 0) inflater_.reset(inflater);
}

RawHttp2Connection::~RawHttp2Connection() { close(); }

absl::Status RawHttp2Connection::connect() {
  if (inflater_ == nullptr) return absl::InternalError("nghttp2_hd_inflate_new failed");
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close();
    return absl::UnavailableError(absl::StrCat("connect: ", std::strerror(err)));
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  return absl::OkStatus();
}

absl::Status RawHttp2Connection::handshake(const SettingsList& settings) {
  if (absl::Status s = connect(); !s.ok()) return s;
  return send_raw(std::string(h2::kClientPreface) + settings_bytes(settings));
}

void RawHttp2Connection::drain_socket() {
  if (fd_ < 0 || closed_) return;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      inbound_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      closed_ = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) closed_ = true;  // reset and the like
    return;
  }
}

absl::Status RawHttp2Connection::send_raw(std::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError("not connected");
  const Clock::time_point deadline = Clock::now() + kH2Timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      bytes_sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    // No room: wait for room, reading whatever the server says meanwhile so that neither side
    // can block the other.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return absl::DeadlineExceededError("send: timed out");
    pollfd p{fd_, static_cast<short>(POLLOUT | (closed_ ? 0 : POLLIN)), 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
    if (r > 0 && (p.revents & POLLIN) != 0) drain_socket();
    if (r > 0 && (p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLOUT) == 0) {
      return absl::UnavailableError("send: connection closed");
    }
  }
  return absl::OkStatus();
}

void RawHttp2Connection::send_quietly(std::string_view bytes) {
  if (!closed_) send_raw(bytes).IgnoreError();
}

absl::Status RawHttp2Connection::send_preface() { return send_raw(h2::kClientPreface); }

absl::Status RawHttp2Connection::send_settings(const SettingsList& settings) {
  return send_raw(settings_bytes(settings));
}

absl::Status RawHttp2Connection::send_settings_ack() { return send_raw(settings_ack_bytes()); }

absl::Status RawHttp2Connection::send_headers(std::uint32_t stream_id, const HeaderList& headers,
                                              HeadersOptions options) {
  return send_raw(headers_bytes(stream_id, hpack_block(headers), options));
}

absl::Status RawHttp2Connection::send_continuation(std::uint32_t stream_id, std::string_view block,
                                                   bool end_headers) {
  return send_raw(continuation_bytes(stream_id, block, end_headers));
}

absl::Status RawHttp2Connection::send_data(std::uint32_t stream_id, std::string_view data,
                                           bool end_stream, std::optional<std::uint8_t> padding) {
  return send_raw(data_bytes(stream_id, data, end_stream, padding));
}

absl::Status RawHttp2Connection::send_rst_stream(std::uint32_t stream_id,
                                                 std::uint32_t error_code) {
  return send_raw(rst_stream_bytes(stream_id, error_code));
}

absl::Status RawHttp2Connection::send_ping(std::string_view opaque8, bool ack) {
  return send_raw(ping_bytes(opaque8, ack));
}

absl::Status RawHttp2Connection::ping_round_trip(std::chrono::milliseconds timeout) {
  static constexpr std::string_view kOpaque = "roundtrp";
  if (absl::Status s = send_ping(kOpaque); !s.ok()) return s;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    absl::StatusOr<Frame> f = read_frame(std::max(left, std::chrono::milliseconds(1)));
    if (!f.ok()) return f.status();
    if (f->type == h2::kPing && f->has(h2::kAck) && f->payload == kOpaque) {
      return absl::OkStatus();
    }
  }
  return absl::DeadlineExceededError("no PING ACK");
}

absl::Status RawHttp2Connection::send_goaway(std::uint32_t last_stream_id, std::uint32_t error_code,
                                             std::string_view debug) {
  return send_raw(goaway_bytes(last_stream_id, error_code, debug));
}

absl::Status RawHttp2Connection::send_window_update(std::uint32_t stream_id,
                                                    std::uint32_t increment) {
  return send_raw(window_update_bytes(stream_id, increment));
}

void RawHttp2Connection::shutdown_send() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void RawHttp2Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::uint32_t RawHttp2Connection::next_stream_id() {
  const std::uint32_t id = next_stream_id_;
  next_stream_id_ += 2;
  return id;
}

absl::StatusOr<std::uint32_t> RawHttp2Connection::unary_call(
    std::string_view path, const HeaderList& extra, const std::vector<std::string>& body_frames) {
  const std::uint32_t id = next_stream_id();
  std::string out = headers_bytes(id, hpack_block(grpc_request_headers(path, extra)),
                                  {.end_stream = body_frames.empty()});
  for (std::size_t i = 0; i < body_frames.size(); ++i) {
    out += data_bytes(id, body_frames[i], i + 1 == body_frames.size());
  }
  if (absl::Status s = send_raw(out); !s.ok()) return s;
  return id;
}

bool RawHttp2Connection::fill(std::size_t at_least, Clock::time_point deadline) {
  while (inbound_.size() - inbound_offset_ < at_least) {
    if (closed_ || fd_ < 0) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
    if (r > 0) drain_socket();
  }
  return true;
}

bool RawHttp2Connection::inbound_pending(std::chrono::milliseconds wait) {
  if (inbound_.size() > inbound_offset_) return true;
  fill(1, Clock::now() + wait);
  return inbound_.size() > inbound_offset_;
}

absl::StatusOr<Frame> RawHttp2Connection::read_frame(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  if (!fill(9, deadline)) {
    return closed_ ? absl::UnavailableError("connection closed")
                   : absl::DeadlineExceededError("no frame within the timeout");
  }
  const std::string_view head(inbound_.data() + inbound_offset_, 9);
  const std::size_t len = (static_cast<std::size_t>(static_cast<unsigned char>(head[0])) << 16) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(head[1])) << 8) |
                          static_cast<unsigned char>(head[2]);
  if (!fill(9 + len, deadline)) {
    return closed_ ? absl::UnavailableError("connection closed inside a frame")
                   : absl::DeadlineExceededError("frame payload did not arrive");
  }
  Frame frame;
  frame.type = static_cast<std::uint8_t>(head[3]);
  frame.flags = static_cast<std::uint8_t>(head[4]);
  frame.stream_id = get_u32(head, 5) & 0x7fffffffu;
  frame.payload.assign(inbound_, inbound_offset_ + 9, len);
  inbound_offset_ += 9 + len;
  if (inbound_offset_ > (1u << 20)) {
    inbound_.erase(0, inbound_offset_);
    inbound_offset_ = 0;
  }
  frames_.push_back(frame);
  if (absl::Status s = dispatch(frame); !s.ok()) return s;
  return frame;
}

absl::Status RawHttp2Connection::finish_header_block(std::uint32_t stream_id) {
  StreamState& st = streams_[stream_id];
  HeaderList decoded;
  auto* in = reinterpret_cast<const std::uint8_t*>(st.pending.data());
  std::size_t left = st.pending.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    const ssize_t n = nghttp2_hd_inflate_hd2(inflater_.get(), &nv, &flags, in, left, 1);
    if (n < 0) {
      return absl::InternalError(
          absl::StrCat("HPACK decode failed: ", nghttp2_strerror(static_cast<int>(n))));
    }
    in += n;
    left -= static_cast<std::size_t>(n);
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0) {
      decoded.emplace_back(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                           std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
    }
    if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
      nghttp2_hd_inflate_end_headers(inflater_.get());
      break;
    }
    if (n == 0 && left == 0) break;
  }
  st.pending.clear();
  H2Response& r = st.response;
  if (st.blocks++ == 0) {
    r.headers = std::move(decoded);
    if (std::optional<std::string> s = r.header(":status")) absl::SimpleAtoi(*s, &r.status);
  } else {
    r.trailers = std::move(decoded);
  }
  if (st.pending_end_stream) {
    st.done = true;
    r.end = H2Response::End::kEndStream;
  }
  return absl::OkStatus();
}

absl::Status RawHttp2Connection::dispatch(const Frame& frame) {
  switch (frame.type) {
    case h2::kSettings:
      if (!frame.has(h2::kAck)) {
        for (const auto& [id, value] : frame.settings()) server_settings_[id] = value;
        server_settings_seen_ = true;
        if (auto_ack_) send_quietly(settings_ack_bytes());
      }
      return absl::OkStatus();
    case h2::kPing:
      if (!frame.has(h2::kAck) && auto_ack_) send_quietly(ping_bytes(frame.payload, true));
      return absl::OkStatus();
    case h2::kGoaway:
      goaway_ = frame;
      return absl::OkStatus();
    case h2::kRstStream: {
      StreamState& st = streams_[frame.stream_id];
      if (!st.done) {
        st.done = true;
        st.response.end = H2Response::End::kRstStream;
        st.response.rst_error_code = frame.error_code();
      }
      return absl::OkStatus();
    }
    case h2::kHeaders:
    case h2::kContinuation: {
      StreamState& st = streams_[frame.stream_id];
      if (frame.type == h2::kHeaders) {
        absl::StatusOr<std::string_view> block = unpadded(frame);
        if (!block.ok()) return block.status();
        st.pending.assign(*block);
        st.pending_end_stream = frame.has(h2::kEndStream);
      } else {
        st.pending.append(frame.payload);
      }
      if (!frame.has(h2::kEndHeaders)) {
        open_block_ = frame.stream_id;
        return absl::OkStatus();
      }
      open_block_.reset();
      return finish_header_block(frame.stream_id);
    }
    case h2::kData: {
      StreamState& st = streams_[frame.stream_id];
      absl::StatusOr<std::string_view> data = unpadded(frame);
      if (!data.ok()) return data.status();
      st.response.data.append(*data);
      if (auto_ack_ && !frame.payload.empty()) {
        const auto n = static_cast<std::uint32_t>(frame.payload.size());
        send_quietly(window_update_bytes(0, n) + window_update_bytes(frame.stream_id, n));
      }
      if (frame.has(h2::kEndStream) && !st.done) {
        st.done = true;
        st.response.end = H2Response::End::kEndStream;
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

H2Response RawHttp2Connection::read_response(std::uint32_t stream_id,
                                             std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  const auto finish = [&](H2Response::End end) {
    H2Response r = streams_[stream_id].response;
    r.end = end;
    r.goaway = goaway_;
    return r;
  };
  for (;;) {
    StreamState& st = streams_[stream_id];
    if (st.done) return finish(st.response.end);
    // A GOAWAY that excludes the stream: nothing more about it is coming once what was already
    // sent has been read.
    if (goaway_ && stream_id > goaway_->last_stream_id() && !inbound_pending()) {
      return finish(H2Response::End::kGoaway);
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return finish(H2Response::End::kTimeout);
    absl::StatusOr<Frame> frame = read_frame(left);
    if (!frame.ok()) {
      if (streams_[stream_id].done) return finish(streams_[stream_id].response.end);
      if (closed_) return finish(H2Response::End::kClosed);
      if (absl::IsDeadlineExceeded(frame.status())) return finish(H2Response::End::kTimeout);
      // An undecodable header block: report what we have as a close.
      return finish(H2Response::End::kClosed);
    }
  }
}

absl::StatusOr<std::map<std::uint16_t, std::uint32_t>> RawHttp2Connection::read_server_settings(
    std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!server_settings_seen_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("no SETTINGS from the server");
    absl::StatusOr<Frame> frame = read_frame(left);
    if (!frame.ok()) return frame.status();
  }
  return server_settings_;
}

void RawHttp2Connection::dispatch_buffered() {
  // A close found while reading may leave whole frames in the buffer (a GOAWAY just before the
  // FIN): read them too, or the caller would miss the server's last words.
  while (read_frame(std::chrono::milliseconds(0)).ok()) {
  }
}

bool RawHttp2Connection::wait_goaway_or_close(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!goaway_ && !closed_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    absl::StatusOr<Frame> frame = read_frame(left);
    if (!frame.ok() && absl::IsDeadlineExceeded(frame.status())) break;
  }
  if (closed_) dispatch_buffered();
  return goaway_ || closed_;
}

bool RawHttp2Connection::wait_closed(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!closed_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    absl::StatusOr<Frame> frame = read_frame(left);
    if (!frame.ok() && absl::IsDeadlineExceeded(frame.status())) break;
  }
  if (closed_) dispatch_buffered();
  return closed_;
}

}  // namespace transport::testing
