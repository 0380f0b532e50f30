#pragma once
// Test helpers for components: a consumer that records what it accepts, and can be told to
// refuse (retryably or not) for a while, or to stall.

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "csp/chan.h"
#include "pipeline/component.h"

namespace components::testing {

class RecordingConsumer final : public pipeline::Consumer {
 public:
  csp::Task<absl::Status> consume(csp::Context, pipeline::Batch batch) override {
    if (!gate.is_nil()) co_await gate.recv();  // a stalled backend until the gate closes
    if (refusals_left_.load() > 0) {
      refusals_left_.fetch_sub(1);
      ++refused_;
      co_return refusal_;
    }
    std::lock_guard lock(mu_);
    batches_.push_back(std::move(batch));
    co_return absl::OkStatus();
  }

  // The next n calls answer `status` instead of accepting.
  void refuse_next(int n, absl::Status status) {
    refusal_ = std::move(status);
    refusals_left_ = n;
  }

  std::vector<pipeline::Batch> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::int64_t items() const {
    std::lock_guard lock(mu_);
    std::int64_t n = 0;
    for (const auto& b : batches_) n += b.items;
    return n;
  }
  int refused() const { return refused_.load(); }

  // Set before use to make every consume wait until it is closed.
  csp::Chan<csp::Unit> gate;

 private:
  mutable std::mutex mu_;
  std::vector<pipeline::Batch> batches_;  // guarded by mu_
  std::atomic<int> refusals_left_{0};
  std::atomic<int> refused_{0};
  absl::Status refusal_;
};

}  // namespace components::testing
