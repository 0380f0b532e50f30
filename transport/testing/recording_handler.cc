#include "transport/testing/recording_handler.h"

#include "csp/task.h"

namespace transport::testing {

RecordingHandler::~RecordingHandler() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

ExportHandler RecordingHandler::handler() {
  return [this](ExportRequest request) -> csp::Task<ExportResult> {
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(request));
    co_return result_;
  };
}

void RecordingHandler::set_result(ExportResult result) {
  std::lock_guard lock(mu_);
  result_ = std::move(result);
}

std::vector<ExportRequest> RecordingHandler::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t RecordingHandler::count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

ExportHandler GatedHandler::handler() {
  return [this](ExportRequest request) -> csp::Task<ExportResult> {
    co_await entered.send(std::move(request));
    std::optional<ExportResult> result = co_await release.recv();
    co_return result.value_or(ExportResult{absl::UnavailableError("gate closed")});
  };
}

}  // namespace transport::testing
