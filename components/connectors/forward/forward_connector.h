#pragma once
// The `forward` connector: the exporter end of one pipeline hands every batch, unchanged, to the
// pipelines that list the connector as a receiver (same signal). After shutdown it refuses.

#include <array>
#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "pipeline/factory.h"

namespace components {

class ForwardConnector final : public pipeline::Connector {
 public:
  void connect(otlp::Signal signal, std::shared_ptr<pipeline::Consumer> next) override {
    next_[static_cast<std::size_t>(signal)] = std::move(next);
  }
  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override {
    if (shut_down_.load(std::memory_order_acquire)) {
      co_return absl::UnavailableError("forward connector is shut down");
    }
    auto& next = next_[static_cast<std::size_t>(batch.signal)];
    if (!next) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          "forward connector has no pipeline for ", std::string(otlp::signal_name(batch.signal))));
    }
    co_return co_await next->consume(std::move(ctx), std::move(batch));
  }
  // Answers for the pipelines behind it: a batch processor in front then waits for persistence.
  bool durable() const override {
    for (const auto& next : next_) {
      if (next && next->durable()) return true;
    }
    return false;
  }
  bool delivering() const override {
    for (const auto& next : next_) {
      if (next && !next->delivering()) return false;
    }
    return true;
  }
  csp::Task<void> shutdown(csp::Context) override {
    shut_down_.store(true, std::memory_order_release);
    co_return;
  }

 private:
  std::array<std::shared_ptr<pipeline::Consumer>, 4> next_;  // by otlp::Signal
  std::atomic<bool> shut_down_{false};
};

}  // namespace components
