#pragma once
// PipelineEntrance: the bounded channel at the head of a pipeline, and the goroutines that
// carry batches from it through the pipeline's processors and exporters.
//
// Contract:
//  - consume() puts the batch on the channel if there is room, else refuses at once with
//    UNAVAILABLE (backpressure to the client). It then waits for the pipeline's answer for this
//    batch, so the receiver answers its client only when the batch was accepted downstream.
//  - `workers` goroutines take batches off the channel, so one pipeline uses several cores. A
//    batch whose caller stopped waiting (its context is done) is dropped unprocessed: the caller
//    was told to retry, and processing it too would deliver it twice.
//  - shutdown() closes the channel; the workers finish what was queued and exit; every waiting
//    consume() gets its answer.

#include <cstddef>
#include <memory>
#include <string>

#include "csp/chan.h"
#include "csp/wait_group.h"
#include "pipeline/component.h"

namespace pipeline {

class PipelineEntrance final : public Consumer {
 public:
  PipelineEntrance(std::string name, std::size_t capacity, std::size_t workers,
                   std::shared_ptr<Consumer> next);

  csp::Task<absl::Status> consume(csp::Context ctx, Batch batch) override;

  void start();
  csp::Task<void> shutdown();
  std::size_t queued() const { return queue_.size(); }

 private:
  struct Item {
    csp::Context ctx;
    Batch batch;
    csp::Chan<absl::Status> answer;  // capacity 1: the worker never blocks on it
  };
  csp::Task<void> work();

  std::string name_;
  std::size_t workers_;
  std::shared_ptr<Consumer> next_;
  csp::Chan<Item> queue_;
  csp::WaitGroup running_;
};

}  // namespace pipeline
