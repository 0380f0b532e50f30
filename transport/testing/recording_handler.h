#pragma once
// ExportHandlers for tests.
//
// RecordingHandler keeps every request it is given and answers with a configurable result.
// GatedHandler announces each request on `entered` and answers only when a value arrives on
// `release`, so a test can hold requests in flight (e.g. across a shutdown).
//
// Thread-safety: all members may be used from any thread while handlers run.

#include <cstddef>
#include <mutex>
#include <vector>

#include "csp/chan.h"
#include "transport/export.h"

namespace transport::testing {

class RecordingHandler {
 public:
  RecordingHandler() = default;
  // Takes the lock so that destruction happens after the last handler's writes, as ThreadSanitizer
  // can see it (the completion of a gRPC call reaches the test through gRPC's uninstrumented
  // internals).
  ~RecordingHandler();
  ExportHandler handler();
  void set_result(ExportResult result);
  std::vector<ExportRequest> requests() const;
  std::size_t count() const;

 private:
  mutable std::mutex mu_;
  std::vector<ExportRequest> requests_;  // guarded by mu_
  ExportResult result_;                  // guarded by mu_
};

class GatedHandler {
 public:
  ExportHandler handler();
  csp::Chan<ExportRequest> entered{1024};
  csp::Chan<ExportResult> release{1024};
};

}  // namespace transport::testing
