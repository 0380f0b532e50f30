#include "components/connectors/failover/failover_connector.h"

#include "absl/strings/str_cat.h"
#include "csp/scheduler.h"
#include "csp/select.h"

namespace components {

FailoverConnector::FailoverConnector(std::string id, FailoverConfig config)
    : id_(std::move(id)), config_(std::move(config)) {}

FailoverConnector::~FailoverConnector() {
  // Only if shutdown() was skipped: the probe goroutine holds only its own channels and flag.
  if (probing_) stop_.close();
}

void FailoverConnector::connect_pipeline(const pipeline::PipelineId& pipeline,
                                         std::shared_ptr<pipeline::Consumer> next) {
  by_pipeline_[pipeline.str()] = std::move(next);
}

absl::Status FailoverConnector::check_connections() const {
  std::map<std::string, int> listed;
  for (const auto& level : config_.priority_levels) {
    for (const std::string& p : level) {
      if (!by_pipeline_.contains(p)) {
        return config_.node.error_at(
            "priority_levels",
            absl::StrCat("pipeline \"", p, "\" does not receive from connector \"", id_, "\""));
      }
      ++listed[p];
    }
  }
  for (const auto& [p, consumer] : by_pipeline_) {
    if (!listed.contains(p)) {
      return config_.node.error_at(
          "priority_levels", absl::StrCat("pipeline \"", p, "\" receives from connector \"", id_,
                                          "\" but is in no priority level"));
    }
  }
  return absl::OkStatus();
}

csp::Task<absl::Status> FailoverConnector::start() {
  levels_.clear();
  for (const auto& level : config_.priority_levels) {
    std::vector<std::shared_ptr<pipeline::Consumer>> consumers;
    for (const std::string& p : level) consumers.push_back(by_pipeline_.at(p));
    levels_.push_back(std::move(consumers));
  }
  probing_ = true;
  csp::go(probe_every(config_.retry_interval, probe_due_, stop_, done_));
  co_return absl::OkStatus();
}

csp::Task<void> FailoverConnector::probe_every(csp::Duration interval,
                                               std::shared_ptr<std::atomic<bool>> probe_due,
                                               csp::Chan<csp::Unit> stop,
                                               csp::Chan<csp::Unit> done) {
  csp::Ticker ticker(interval);
  for (;;) {
    const std::size_t k = co_await csp::select(csp::recv(ticker.chan()), csp::recv(stop));
    if (k == 1) break;
    probe_due->store(true, std::memory_order_relaxed);
  }
  done.close();
}

bool FailoverConnector::level_delivering(std::size_t level) const {
  for (const auto& consumer : levels_[level]) {
    if (!consumer->delivering()) return false;
  }
  return true;
}

std::size_t FailoverConnector::current_level() const {
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    if (level_delivering(i)) return i;
  }
  return 0;  // none is delivering: the highest level's queues hold the data
}

bool FailoverConnector::delivering() const {
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    if (level_delivering(i)) return true;
  }
  return false;
}

bool FailoverConnector::durable() const {
  if (levels_.empty()) return false;
  for (const auto& level : levels_) {
    for (const auto& consumer : level) {
      if (!consumer->durable()) return false;
    }
  }
  return true;
}

std::int64_t FailoverConnector::items_sent_to(std::size_t level) const {
  return level < kMaxLevels ? items_[level].load() : 0;
}

csp::Task<absl::Status> FailoverConnector::send_to_level(std::size_t level, const csp::Context& ctx,
                                                         const pipeline::Batch& batch) {
  absl::Status first_error;
  for (const auto& consumer : levels_[level]) {
    pipeline::Batch copy = batch;  // kept whole for a lower level, should this one refuse
    absl::Status s = co_await consumer->consume(ctx, std::move(copy));
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  }
  co_return first_error;
}

csp::Task<absl::Status> FailoverConnector::consume(csp::Context ctx, pipeline::Batch batch) {
  if (shut_down_.load(std::memory_order_acquire) || levels_.empty()) {
    co_return absl::UnavailableError(absl::StrCat("connector ", id_, " is not running"));
  }
  const std::size_t current = current_level();
  // The levels to try, in order: a probe of a level above the current one when one is due,
  // then the current level and every level below it.
  std::vector<std::size_t> order;
  if (current > 0 && probe_due_->exchange(false, std::memory_order_relaxed)) {
    order.push_back(next_probe_.fetch_add(1, std::memory_order_relaxed) % current);
  }
  for (std::size_t i = current; i < levels_.size(); ++i) order.push_back(i);
  absl::Status last;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t level = order[k];
    last = co_await send_to_level(level, ctx, batch);
    if (last.ok()) {
      if (level < kMaxLevels) items_[level] += batch.items;
      co_return last;
    }
    if (last.code() == absl::StatusCode::kInvalidArgument) co_return last;  // bad data
    if (k + 1 < order.size()) ++fell_through_;
  }
  co_return last;
}

csp::Task<void> FailoverConnector::shutdown(csp::Context) {
  shut_down_.store(true, std::memory_order_release);
  if (!probing_) co_return;
  probing_ = false;
  stop_.close();
  co_await done_.recv();
}

}  // namespace components
