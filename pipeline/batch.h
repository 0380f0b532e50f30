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
#include <string>

#include "otlp/signal_enum.h"
#include "pipeline/admission.h"

namespace pipeline {

struct Batch {
  otlp::Signal signal = otlp::Signal::kTraces;
  std::string bytes;       // a serialized Export*ServiceRequest of `signal`
  std::int64_t items = 0;  // spans, data points, log records or profile samples in it
  MemoryTicket memory;     // set by whoever buffers the batch (see above)
};

}  // namespace pipeline
