#pragma once
// pipeline::Batch: the unit that moves through a pipeline — one signal's Export*ServiceRequest
// as OTLP wire bytes (binary protobuf, uncompressed).
//
// Batches are decoded only by the components that need fields (otlp/ decodes on an Arena);
// forwarding, batching and queueing work on the bytes: serialized requests concatenate into a
// valid request (otlp::wire_concat), and otlp::wire_count_items counts without decoding.
// A Batch is a value: moving it is cheap, copying it copies the bytes (and its memory ticket,
// which then holds the copy's bytes too).
//
// Memory: a component that keeps a batch after answering its caller (a batch processor, an
// exporter queue) sets `memory` to a ticket for the bytes (Admission::hold); the bytes count
// against the memory limit until the batch is destroyed, wherever that happens.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "csp/context.h"
#include "csp/task.h"
#include "csp/timer.h"
#include "otlp/signal_enum.h"
#include "pipeline/admission.h"
#include "pipeline/client_metadata.h"

namespace pipeline {

class Reroute;

struct Batch {
  otlp::Signal signal = otlp::Signal::kTraces;
  std::string bytes;       // a serialized Export*ServiceRequest of `signal`
  std::int64_t items = 0;  // spans, data points, log records or profile samples in it
  MemoryTicket memory;     // set by whoever buffers the batch (see above)
  // Another way to deliver the batch, for when delivering it here has definitely failed (see
  // Reroute). Null for most batches; a processor that builds new batches drops it.
  std::shared_ptr<Reroute> reroute;
  // When the oldest item in the batch was received (a receiver sets it; merging keeps the
  // earliest); the epoch when unknown (a batch recovered from disk). Exporters measure the
  // end-to-end latency from it to the backend's acknowledgement.
  csp::TimePoint received{};
  // Who sent it (pipeline/client_metadata.h): set by a receiver with include_metadata, kept by
  // whatever forwards the batch, replaced by a batch processor (only its metadata_keys, or
  // nothing). Null for most batches.
  ClientMetadataPtr client;
};

// The bytes a component that keeps `batch` holds against the memory budget: the request and
// the metadata that travels with it.
inline std::int64_t held_bytes(const Batch& batch) {
  return static_cast<std::int64_t>(batch.bytes.size() +
                                   (batch.client != nullptr ? batch.client->bytes() : 0));
}

// Another route for a batch, set by a failover connector on what it hands a level that has a
// level below it. An exporter whose attempt definitely failed — the backend answered with a
// refusal, or could not be reached, so it holds none of the data — hands a copy of the batch
// to take() instead of retrying it in place. Copies of a batch share one Reroute, and it moves
// the batch at most once: a later take() finds it already moved and answers OK without sending.
// Thread-safe.
class Reroute {
 public:
  virtual ~Reroute() = default;
  // OK: the batch is now the other route's to deliver, and the caller lets go of it. An error:
  // nothing changed hands (the caller keeps trying to deliver it itself).
  virtual csp::Task<absl::Status> take(csp::Context ctx, Batch batch) = 0;
};

}  // namespace pipeline
