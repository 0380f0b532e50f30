#pragma once
// A raw HTTP/2 client for tests: it writes exactly the frames a test asks for — broken,
// oversized or out-of-order ones included — with no HTTP/2 library between it and the socket
// that could refuse to send them. Only the receive side uses a library (nghttp2's HPACK
// inflater), to decode the header blocks the server sends.
//
// Contract:
//  - Plain TCP to 127.0.0.1 ("h2c" with prior knowledge). The socket is non-blocking and every
//    wait is a poll() bounded by a deadline (kH2Timeout unless given), so a server that hangs
//    fails the test instead of hanging it.
//  - Writing never deadlocks against a server that writes too: while a send waits for room, it
//    keeps reading what the server sends into an inbound buffer that the frame reader consumes
//    later. `inbound_pending()` tells whether anything arrived (e.g. a GOAWAY while a huge
//    header block was still being written).
//  - HPACK encoding here is literal-without-indexing with a new name and no Huffman coding, so
//    any name and value can be sent (uppercase, empty, invalid characters, megabytes).
//  - No send-side flow control: a test keeps the DATA it sends on a stream under the 65,535
//    bytes of the initial windows (plenty for the requests these tests send).
//  - Receiving: every frame read goes through one dispatcher that keeps the HPACK decoder in
//    step (header blocks of every stream are decoded in order), records per-stream responses,
//    the server's SETTINGS and GOAWAY, and — with auto_ack (the default) — acknowledges SETTINGS,
//    answers PING, and returns the window of received DATA with WINDOW_UPDATE.
//
// Thread-safety: none; one RawHttp2Connection per thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct nghttp2_hd_inflater;

namespace transport::testing {

inline constexpr std::chrono::seconds kH2Timeout{10};

namespace h2 {

// Frame types (RFC 9113 §6).
inline constexpr std::uint8_t kData = 0x0;
inline constexpr std::uint8_t kHeaders = 0x1;
inline constexpr std::uint8_t kPriority = 0x2;
inline constexpr std::uint8_t kRstStream = 0x3;
inline constexpr std::uint8_t kSettings = 0x4;
inline constexpr std::uint8_t kPushPromise = 0x5;
inline constexpr std::uint8_t kPing = 0x6;
inline constexpr std::uint8_t kGoaway = 0x7;
inline constexpr std::uint8_t kWindowUpdate = 0x8;
inline constexpr std::uint8_t kContinuation = 0x9;

// Flags.
inline constexpr std::uint8_t kEndStream = 0x1;
inline constexpr std::uint8_t kAck = 0x1;
inline constexpr std::uint8_t kEndHeaders = 0x4;
inline constexpr std::uint8_t kPadded = 0x8;
inline constexpr std::uint8_t kPriorityFlag = 0x20;

// SETTINGS parameters.
inline constexpr std::uint16_t kHeaderTableSize = 0x1;
inline constexpr std::uint16_t kEnablePush = 0x2;
inline constexpr std::uint16_t kMaxConcurrentStreams = 0x3;
inline constexpr std::uint16_t kInitialWindowSize = 0x4;
inline constexpr std::uint16_t kMaxFrameSize = 0x5;
inline constexpr std::uint16_t kMaxHeaderListSize = 0x6;

// Error codes.
inline constexpr std::uint32_t kNoError = 0x0;
inline constexpr std::uint32_t kProtocolError = 0x1;
inline constexpr std::uint32_t kInternalError = 0x2;
inline constexpr std::uint32_t kFlowControlError = 0x3;
inline constexpr std::uint32_t kStreamClosed = 0x5;
inline constexpr std::uint32_t kFrameSizeError = 0x6;
inline constexpr std::uint32_t kRefusedStream = 0x7;
inline constexpr std::uint32_t kCancel = 0x8;
inline constexpr std::uint32_t kCompressionError = 0x9;
inline constexpr std::uint32_t kEnhanceYourCalm = 0xb;

// The default SETTINGS_MAX_FRAME_SIZE; the writers below never exceed it unless told to.
inline constexpr std::size_t kDefaultMaxFrameSize = 16384;

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace h2

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using SettingsList = std::vector<std::pair<std::uint16_t, std::uint32_t>>;

struct Frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream_id = 0;
  std::string payload;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
  // RST_STREAM / GOAWAY error code (0 for other types or short payloads).
  std::uint32_t error_code() const;
  // GOAWAY's last stream id.
  std::uint32_t last_stream_id() const;
  // SETTINGS parameters in the order sent.
  SettingsList settings() const;
};

// ---- Encoders: bytes only, so a test can batch many frames into one write. ----

// One frame: 9-byte header (24-bit length, type, flags, 31-bit stream id) and the payload. The
// length is whatever the payload is: nothing stops a test from sending an oversized frame.
std::string frame_bytes(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id,
                        std::string_view payload);
// HPACK "literal header field without indexing — new name", no Huffman, for any name/value.
std::string hpack_literal(std::string_view name, std::string_view value);
std::string hpack_block(const HeaderList& headers);

struct HeadersOptions {
  bool end_stream = false;
  // END_HEADERS on the last frame of the block; false leaves the block open (a test continues
  // it with continuation_bytes or never does).
  bool end_headers = true;
  // Split the block into HEADERS + this many CONTINUATION frames (as evenly as possible; pieces
  // above kDefaultMaxFrameSize are split further).
  int continuations = 0;
};
// A header block as HEADERS (+ CONTINUATION) frames.
std::string headers_bytes(std::uint32_t stream_id, std::string_view block, HeadersOptions options);
std::string continuation_bytes(std::uint32_t stream_id, std::string_view block, bool end_headers);
// DATA frames of at most kDefaultMaxFrameSize payload each (one empty frame for empty data);
// END_STREAM on the last. `padding` adds a PADDED flag and that many zero bytes to each frame.
std::string data_bytes(std::uint32_t stream_id, std::string_view data, bool end_stream,
                       std::optional<std::uint8_t> padding = std::nullopt);
std::string settings_bytes(const SettingsList& settings);
std::string settings_ack_bytes();
std::string rst_stream_bytes(std::uint32_t stream_id, std::uint32_t error_code);
std::string ping_bytes(std::string_view opaque8, bool ack);
std::string goaway_bytes(std::uint32_t last_stream_id, std::uint32_t error_code,
                         std::string_view debug = {});
std::string window_update_bytes(std::uint32_t stream_id, std::uint32_t increment);

// A gRPC length-prefixed message: flag byte (0 = plain, 1 = compressed), 4-byte big-endian
// length, the bytes.
std::string grpc_message(std::string_view bytes, std::uint8_t flag = 0);
// Splits DATA bytes into gRPC messages (flag, bytes); an error if the bytes do not frame.
absl::StatusOr<std::vector<std::pair<std::uint8_t, std::string>>> split_grpc_messages(
    std::string_view data);

// The request headers of a gRPC call: :method POST, :scheme http, :path, :authority,
// content-type application/grpc, te trailers, then `extra`.
HeaderList grpc_request_headers(std::string_view path, const HeaderList& extra = {});

// What a stream's answer was, collected by RawHttp2Connection::read_response.
struct H2Response {
  enum class End {
    kEndStream,  // the server ended the stream (END_STREAM)
    kRstStream,  // the server reset the stream (rst_error_code)
    kGoaway,     // the server sent GOAWAY that does not cover this stream
    kClosed,     // the connection closed first
    kTimeout,    // nothing ended it within the deadline
  };
  End end = End::kTimeout;
  int status = 0;       // :status, 0 if no header block arrived
  HeaderList headers;   // the first header block, :status included
  HeaderList trailers;  // the second header block, if any
  std::string data;     // all DATA payloads, concatenated
  std::uint32_t rst_error_code = 0;
  std::optional<Frame> goaway;  // a GOAWAY seen on the connection while waiting

  // Last value of a header / trailer (names are lower case on the wire), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  std::optional<std::string> trailer(std::string_view name) const;
  // grpc-status from the trailers, or from the headers of a trailers-only answer.
  std::optional<int> grpc_status() const;
  std::string grpc_message() const;
  // grpc-status-details-bin, base64-decoded (empty if absent or not base64).
  std::string grpc_status_details() const;
  // For failure messages.
  std::string describe() const;
};

std::string_view end_name(H2Response::End end);

class RawHttp2Connection {
 public:
  explicit RawHttp2Connection(int port);
  ~RawHttp2Connection();
  RawHttp2Connection(const RawHttp2Connection&) = delete;
  RawHttp2Connection& operator=(const RawHttp2Connection&) = delete;

  // TCP connect only.
  absl::Status connect();
  // connect(), the client preface and a SETTINGS frame with `settings`.
  absl::Status handshake(const SettingsList& settings = {});

  // ---- Writers. Each writes the whole frame(s) or fails (closed, reset, timed out). ----
  absl::Status send_raw(std::string_view bytes);
  absl::Status send_preface();
  absl::Status send_settings(const SettingsList& settings = {});
  absl::Status send_settings_ack();
  absl::Status send_headers(std::uint32_t stream_id, const HeaderList& headers,
                            HeadersOptions options = {});
  absl::Status send_continuation(std::uint32_t stream_id, std::string_view block, bool end_headers);
  absl::Status send_data(std::uint32_t stream_id, std::string_view data, bool end_stream,
                         std::optional<std::uint8_t> padding = std::nullopt);
  absl::Status send_rst_stream(std::uint32_t stream_id, std::uint32_t error_code);
  absl::Status send_ping(std::string_view opaque8 = "otlpd-h2", bool ack = false);
  // Sends a PING and reads (dispatching what comes) until its ACK: the server has then read
  // everything sent before it. Bounded by `timeout`.
  absl::Status ping_round_trip(std::chrono::milliseconds timeout = kH2Timeout);
  absl::Status send_goaway(std::uint32_t last_stream_id, std::uint32_t error_code,
                           std::string_view debug = {});
  absl::Status send_window_update(std::uint32_t stream_id, std::uint32_t increment);
  // Half-close the TCP connection (the server reads end of stream).
  void shutdown_send();
  // Closes the socket now.
  void close();

  // The next client stream id (1, 3, 5, ...); each call takes one.
  std::uint32_t next_stream_id();

  // A unary gRPC call in one write: HEADERS (grpc_request_headers(path, extra)), then each of
  // `body_frames` as DATA (one frame, or several if it is over kDefaultMaxFrameSize), END_STREAM
  // on the last (on HEADERS when there are none). Returns the stream id.
  absl::StatusOr<std::uint32_t> unary_call(std::string_view path, const HeaderList& extra,
                                           const std::vector<std::string>& body_frames);

  // ---- Readers. ----
  void set_auto_ack(bool on) { auto_ack_ = on; }
  // Reads and dispatches one frame. DeadlineExceeded on timeout, Unavailable when the
  // connection closed (closed() is then true), Internal if a header block does not decode.
  absl::StatusOr<Frame> read_frame(std::chrono::milliseconds timeout = kH2Timeout);
  // Reads until the stream ends (END_STREAM, RST_STREAM), a GOAWAY excludes it, the connection
  // closes, or the timeout passes.
  H2Response read_response(std::uint32_t stream_id, std::chrono::milliseconds timeout = kH2Timeout);
  // Reads until the server's first (non-ack) SETTINGS frame; returns its parameters.
  absl::StatusOr<std::map<std::uint16_t, std::uint32_t>> read_server_settings(
      std::chrono::milliseconds timeout = kH2Timeout);
  // Reads (and dispatches) until a GOAWAY arrives or the connection closes; true if either
  // happened within the timeout.
  bool wait_goaway_or_close(std::chrono::milliseconds timeout = kH2Timeout);
  // Reads (and dispatches) until the connection closes; true if it did within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = kH2Timeout);
  // Reads the whole frames still buffered after the server closed.
  void dispatch_buffered();
  // True if any byte from the server is buffered or arrives within `wait` (0 = just look).
  bool inbound_pending(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  bool closed() const { return closed_; }
  // The last GOAWAY received, if any.
  const std::optional<Frame>& goaway() const { return goaway_; }
  // The server's SETTINGS (empty until its first SETTINGS frame was read).
  const std::map<std::uint16_t, std::uint32_t>& server_settings() const { return server_settings_; }
  bool server_settings_seen() const { return server_settings_seen_; }
  // Every frame read so far, in order (DATA payloads included).
  const std::vector<Frame>& frames() const { return frames_; }
  // Bytes written so far.
  std::size_t bytes_sent() const { return bytes_sent_; }
  int port() const { return port_; }

 private:
  struct StreamState {
    H2Response response;
    int blocks = 0;  // header blocks decoded
    bool done = false;
    std::string pending;  // header block being assembled (HEADERS + CONTINUATION)
    bool pending_end_stream = false;
  };

  // Reads from the socket into inbound_ until `deadline`: false on timeout or close.
  bool fill(std::size_t at_least, std::chrono::steady_clock::time_point deadline);
  // Non-blocking read of whatever is available; marks closed_ on EOF / reset.
  void drain_socket();
  absl::Status dispatch(const Frame& frame);
  absl::Status finish_header_block(std::uint32_t stream_id);
  void send_quietly(std::string_view bytes);

  int port_;
  int fd_ = -1;
  bool closed_ = false;
  bool auto_ack_ = true;
  std::uint32_t next_stream_id_ = 1;
  std::size_t bytes_sent_ = 0;
  std::string inbound_;
  std::size_t inbound_offset_ = 0;
  struct InflaterDeleter {
    void operator()(nghttp2_hd_inflater* inflater) const;
  };
  std::unique_ptr<nghttp2_hd_inflater, InflaterDeleter> inflater_;
  std::map<std::uint32_t, StreamState> streams_;
  std::map<std::uint16_t, std::uint32_t> server_settings_;
  bool server_settings_seen_ = false;
  std::optional<Frame> goaway_;
  std::vector<Frame> frames_;
  // A header block in progress (HEADERS without END_HEADERS): the stream it belongs to.
  std::optional<std::uint32_t> open_block_;
};

}  // namespace transport::testing
