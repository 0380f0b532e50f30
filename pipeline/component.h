#pragma once
// The interfaces every pipeline component implements (the Collector's component model on the
// CSP runtime).
//
// Contract:
//  - Consumer::consume runs in a goroutine and answers once the batch is accepted (OK) or
//    refused. "Accepted" means the component took responsibility for it: handed it on and got
//    OK, queued it, or delivered it. A refusal that the client should retry is UNAVAILABLE or
//    RESOURCE_EXHAUSTED (the receiver turns it into the protocol's retryable answer);
//    INVALID_ARGUMENT means the data is bad and retrying will not help. consume must answer
//    before ctx is done (a full queue refuses, it does not block past the deadline).
//  - Lifecycle: start() is called once before any consume (exporters first, receivers last);
//    shutdown() once, in the reverse order, with a context whose deadline bounds draining.
//    After shutdown a component refuses (or never receives) data.
//  - Components are shared between goroutines: consume may run concurrently with itself.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "csp/context.h"
#include "csp/task.h"
#include "pipeline/batch.h"

namespace pipeline {

class Consumer {
 public:
  virtual ~Consumer() = default;
  virtual csp::Task<absl::Status> consume(csp::Context ctx, Batch batch) = 0;
  // Whether what this consumer accepts is being delivered now. False while the exporters behind
  // it keep failing to deliver the batches at the head of their queues (a backend down): they
  // still accept and retry, so a synchronous answer cannot tell. A consumer that passes batches
  // on answers for what is behind it. The failover connector routes by it.
  virtual bool delivering() const { return true; }
  // Whether an OK from this consumer means the batch is on stable storage (a durable sending
  // queue behind it). A component that buffers and answers early (the batch processor) must
  // then wait for the hand-on before it answers, so that a client's OK means persisted.
  virtual bool durable() const { return false; }
};

class Component {
 public:
  virtual ~Component() = default;
  virtual csp::Task<absl::Status> start() { co_return absl::OkStatus(); }
  virtual csp::Task<void> shutdown(csp::Context ctx) {
    (void)ctx;
    co_return;
  }
};

// Receivers produce batches; the engine tells them where each signal's batches go.
class Receiver : public Component {
 public:
  // Called before start() for every signal the receiver feeds (each pipeline it is in).
  virtual void connect(otlp::Signal signal, std::shared_ptr<Consumer> next) = 0;
};

class Processor : public Component, public Consumer {};
class Exporter : public Component, public Consumer {};

// A status that asks the client to retry (receivers map it to gRPC UNAVAILABLE /
// HTTP 503 with Retry-After).
inline bool is_retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kResourceExhausted;
}

}  // namespace pipeline
