#pragma once
// FaultyBackend: an OTLP backend for exporter tests that misbehaves on cue. It runs the real
// transport::GrpcServer or transport::HttpServer on 127.0.0.1:0 and answers each request as a
// script says: accept it, refuse it retryably (with or without a retry delay) or permanently,
// hold it past the client's timeout, or close the client's connection while the request is in
// the handler.
//
// The exporter does not talk to the server directly but to a small TCP relay in front of it
// (the "front"), one relayed connection per client connection, so the backend can cut a
// connection mid-request — which neither server does on purpose.
//
// How each fault reaches the client (the servers' own status mapping, docs/transport.md):
//
//   fault                      | gRPC                            | HTTP
//   ---------------------------+---------------------------------+------------------------------
//   accept()                   | OK                              | 200
//   unavailable(after)         | UNAVAILABLE [+ RetryInfo]       | 503 [+ Retry-After]
//   resource_exhausted(after)  | RESOURCE_EXHAUSTED [+ RetryInfo]| 429 [+ Retry-After]
//   invalid_argument()         | INVALID_ARGUMENT                | 400
//   answer_late()              | OK once the backend stops       | 200 once the backend stops
//   never_answer()             | nothing; UNAVAILABLE at stop    | nothing; 503 at stop
//   cut_connection()           | the connection closes           | the connection closes
//
// Retry-After is whole seconds (rounded up), so delays meant for both protocols should be too.
//
// What the backend "kept": a request answered (or, for answer_late(), to be answered) OK. A
// late answer reaches a client that has already given up, so its data is kept although the
// client saw DEADLINE_EXCEEDED — the legitimate duplicate a retry then makes. answer_late()
// and never_answer() hold their request until stop(), which makes "after the client's timeout"
// certain without timing anything.
//
// Thread-safety: every member may be called from any thread; start() and stop() from plain
// threads only (stop() blocks on the server's shutdown). The handler keeps the backend's state
// alive by shared ownership, so nothing it touches dies before it.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace components::testing {

struct Fault {
  enum class Kind { kAccept, kRefuse, kAnswerLate, kNeverAnswer, kCutConnection };

  Kind kind = Kind::kAccept;
  absl::Status refusal;                                  // kRefuse: the answer
  std::optional<std::chrono::milliseconds> retry_after;  // kRefuse: RetryInfo / Retry-After

  static Fault accept() { return Fault{}; }
  static Fault unavailable(std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
    return Fault{Kind::kRefuse, absl::UnavailableError("backend unavailable"), retry_after};
  }
  static Fault resource_exhausted(
      std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
    return Fault{Kind::kRefuse, absl::ResourceExhaustedError("backend throttling"), retry_after};
  }
  static Fault invalid_argument() {
    return Fault{Kind::kRefuse, absl::InvalidArgumentError("backend refuses this data"), {}};
  }
  static Fault answer_late() { return Fault{Kind::kAnswerLate, {}, {}}; }
  static Fault never_answer() { return Fault{Kind::kNeverAnswer, {}, {}}; }
  static Fault cut_connection() { return Fault{Kind::kCutConnection, {}, {}}; }
};

enum class Protocol { kGrpc, kHttp };

// One request as the handler saw it.
struct Arrival {
  std::string body;   // uncompressed binary protobuf, as the server hands it over
  Fault fault;        // what the backend did with it
  bool kept = false;  // see "kept" above
};

class FaultyBackend {
 public:
  explicit FaultyBackend(Protocol protocol);
  ~FaultyBackend();  // stop()
  FaultyBackend(const FaultyBackend&) = delete;
  FaultyBackend& operator=(const FaultyBackend&) = delete;

  // Starts the server and the front. Once only.
  absl::Status start();
  // What an exporter's `endpoint` should say: "127.0.0.1:port" for gRPC,
  // "http://127.0.0.1:port" for HTTP (the front's port).
  std::string endpoint() const;

  // Faults for the next requests, in order of arrival, appended to what is left of the script.
  void script(std::vector<Fault> faults);
  // What follows the script, repeated for ever (initially {accept()}). Must not be empty.
  void then_repeat(std::vector<Fault> faults);

  // Releases held requests (answer_late() is then kept, never_answer() refused), shuts the
  // server down and closes the front. Idempotent.
  void stop();

  std::vector<Arrival> arrivals() const;
  std::size_t received() const;
  std::size_t received(const std::string& body) const;
  std::size_t kept(const std::string& body) const;
  std::size_t connections_cut() const;  // by cut_connection()

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace components::testing
