#pragma once
// A WebSocket connection of the OTLP/HTTP receiver, after the upgrade (docs/transport.md, "OTLP
// over WebSocket", is the wire contract). Each data message is one Export*ServiceRequest of the
// path's signal: binary protobuf in a binary message, OTLP/JSON in a text message. Each gets one
// answer, in order, in the request's encoding: the Export*ServiceResponse, or a
// google.rpc.Status (code not 0, with RetryInfo when the client should retry later).
//
// Goroutines: the session's own (the connection goroutine) does every read and write of the
// stream, so TLS needs no locking; it asks the poller to report readability on a channel
// (ByteStream::notify_readable), so it can select over "bytes arrived", "the oldest answer is
// ready", "the server is stopping" and a ticker. Each request is handled on a goroutine of its
// own, up to `window` at once.
//
// Contract:
//  - Flow control: at most `window` requests are unanswered; while that many are, the session
//    reads nothing more (the client's writes then block in TCP).
//  - Limits before bytes: a message's size is checked on each frame header, and its memory is
//    reserved before its payload is read (a refusal is answered RESOURCE_EXHAUSTED with
//    RetryInfo after the payload is skipped, unbuffered). Inflated output is capped and reserved
//    the same way (internal/inflate.h).
//  - Protocol errors close with the RFC's code: 1002 (framing), 1007 (a text message that is not
//    UTF-8), 1009 (a message over max_message_bytes), 1008 (a message not complete within
//    read_timeout); a message that is not a valid OTLP request is answered INVALID_ARGUMENT and
//    the connection stays.
//  - Keep-alive: after ping_interval without a frame from the client the session pings; after
//    another ping_interval without one, the client is gone and the connection is dropped.
//    idle_timeout without a request (none unanswered) closes with 1000.
//  - Ending: a client's close is answered after the answers still due; at `stop` (server
//    shutdown) nothing more is read, answers due are written, and the session closes with 1001.
//    Once our close is sent, the client has kCloseTimeout to answer it.
//  - No exception leaves; every goroutine it starts has ended when run() returns.

#include <chrono>
#include <cstddef>
#include <string>

#include "csp/chan.h"
#include "csp/task.h"
#include "otlp/binary_codec.h"
#include "otlp/signal.h"
#include "transport/export.h"
#include "transport/internal/byte_stream.h"

namespace transport::internal {

struct WebSocketSessionConfig {
  otlp::Signal signal = otlp::Signal::kTraces;
  bool deflate = false;  // permessage-deflate was negotiated
  std::size_t max_message_bytes = 0;
  std::size_t window = 1;
  std::chrono::milliseconds ping_interval{0};  // 0: no pings
  std::chrono::milliseconds idle_timeout{0};   // 0: never idle
  std::chrono::milliseconds read_timeout{0};   // one message, from its first frame; 0: none
  std::chrono::milliseconds write_timeout{0};  // one write; 0: none
  otlp::DecodeLimits limits;
  MemoryReserver reserve_memory;
  ExportHandler handler;
  std::string peer;
  Headers metadata;  // handed with every request (include_metadata)
};

// Runs the session on `stream`, once the 101 answer is written. `buffered`: bytes the client
// sent after its handshake that were already read. `stop` is closed when the server stops.
csp::Task<void> serve_websocket(ByteStream& stream, WebSocketSessionConfig config,
                                std::string buffered, csp::Chan<csp::Unit> stop);

}  // namespace transport::internal
