#pragma once
// FanOut: hands each batch to several consumers (a pipeline's exporters, or the pipelines a
// receiver feeds). Accepted only if every consumer accepted; the first refusal is the answer
// (a retrying client may then deliver twice to the consumers that had accepted — the Collector
// behaves the same; exactly-once across several exporters would need a shared durable queue).

#include <memory>
#include <vector>

#include "pipeline/component.h"

namespace pipeline {

class FanOut final : public Consumer {
 public:
  explicit FanOut(std::vector<std::shared_ptr<Consumer>> next) : next_(std::move(next)) {}

  csp::Task<absl::Status> consume(csp::Context ctx, Batch batch) override {
    absl::Status first_error;
    for (std::size_t i = 0; i < next_.size(); ++i) {
      // The last consumer may take the bytes; the others get copies.
      Batch b = i + 1 == next_.size() ? std::move(batch) : batch;
      absl::Status s = co_await next_[i]->consume(ctx, std::move(b));
      if (!s.ok() && first_error.ok()) first_error = std::move(s);
    }
    co_return first_error;
  }
  bool durable() const override {
    for (const auto& n : next_) {
      if (n->durable()) return true;
    }
    return false;
  }
  bool delivering() const override {
    for (const auto& n : next_) {
      if (!n->delivering()) return false;
    }
    return true;
  }

 private:
  std::vector<std::shared_ptr<Consumer>> next_;
};

// One consumer as is, several behind a FanOut.
inline std::shared_ptr<Consumer> fan_out(std::vector<std::shared_ptr<Consumer>> next) {
  if (next.size() == 1) return std::move(next.front());
  return std::make_shared<FanOut>(std::move(next));
}

}  // namespace pipeline
