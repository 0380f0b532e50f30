#include "components/connectors/failover/failover_connector.h"

#include <mutex>

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

// The way down from one level for one batch (shared by the copies the level's exporters hold):
// the first take() hands the batch to the next level's pipelines, each at most once; once all
// have it, every later take() answers OK without sending again.
class FailoverConnector::LevelReroute final : public pipeline::Reroute {
 public:
  LevelReroute(std::weak_ptr<FailoverConnector> connector, std::size_t level)
      : connector_(std::move(connector)), level_(level) {}

  csp::Task<absl::Status> take(csp::Context ctx, pipeline::Batch batch) override {
    // Also after the connector's shutdown: exporters draining their queues may still move
    // batches down, as long as the lower level's pipelines take them.
    std::shared_ptr<FailoverConnector> connector = connector_.lock();
    if (connector == nullptr) co_return absl::UnavailableError("the failover connector is gone");
    std::vector<bool> taken;
    {
      std::lock_guard lock(mu_);
      if (moving_) co_return absl::UnavailableError("being moved to the next level");
      if (moved_) co_return absl::OkStatus();
      moving_ = true;
      taken = taken_;
    }
    taken.resize(connector->levels_[level_].size(), false);
    const std::int64_t items = batch.items;
    absl::Status s = co_await connector->send_to_level(level_, ctx, batch, &taken);
    std::lock_guard lock(mu_);
    taken_ = std::move(taken);
    moving_ = false;
    if (s.ok()) {
      moved_ = true;
      if (level_ < kMaxLevels) connector->items_[level_] += items;
      connector->rerouted_ += items;
    }
    co_return s;
  }

 private:
  const std::weak_ptr<FailoverConnector> connector_;
  const std::size_t level_;  // where the batch goes
  std::mutex mu_;
  bool moving_ = false;
  bool moved_ = false;
  std::vector<bool> taken_;  // the pipelines of level_ that have the batch
};

csp::Task<absl::Status> FailoverConnector::send_to_level(std::size_t level, const csp::Context& ctx,
                                                         const pipeline::Batch& batch,
                                                         std::vector<bool>* taken) {
  absl::Status first_error;
  const std::vector<std::shared_ptr<pipeline::Consumer>>& consumers = levels_[level];
  // A level with one below it gives each pipeline's copy a way down (one per pipeline: each
  // fails or delivers its copy on its own).
  const bool has_lower = level + 1 < levels_.size();
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    if (taken != nullptr && (*taken)[i]) continue;
    pipeline::Batch copy = batch;  // kept whole for a lower level, should this one refuse
    copy.reroute =
        has_lower ? std::make_shared<LevelReroute>(weak_from_this(), level + 1) : nullptr;
    absl::Status s = co_await consumers[i]->consume(ctx, std::move(copy));
    if (s.ok() && taken != nullptr) (*taken)[i] = true;
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
