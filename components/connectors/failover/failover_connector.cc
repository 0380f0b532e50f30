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

// One batch's way into one level. hand_over() gives the batch to each pipeline of the level at
// most once (later calls skip the pipelines that took it, and answer OK once all have), and
// every copy carries the same way further down (down()), so a lower level's pipeline never gets
// the same batch twice: not when several exporters of this level fail their copies, and not
// when the connector fell through to the lower level first and an exporter reroutes later.
class FailoverConnector::LevelRoute final : public pipeline::Reroute {
 public:
  LevelRoute(std::weak_ptr<FailoverConnector> connector, std::size_t level)
      : connector_(std::move(connector)), level_(level) {}

  // An exporter of the level above definitely failed its copy: counted as rerouted.
  csp::Task<absl::Status> take(csp::Context ctx, pipeline::Batch batch) override {
    return hand_over(std::move(ctx), std::move(batch), /*rerouted=*/true);
  }

  csp::Task<absl::Status> hand_over(csp::Context ctx, pipeline::Batch batch, bool rerouted) {
    // Also after the connector's shutdown: exporters draining their queues may still move
    // batches down, as long as the lower level's pipelines take them.
    std::shared_ptr<FailoverConnector> connector = connector_.lock();
    if (connector == nullptr) co_return absl::UnavailableError("the failover connector is gone");
    std::vector<bool> taken;
    {
      std::lock_guard lock(mu_);
      if (moving_) co_return absl::UnavailableError("being handed to the level already");
      if (moved_) co_return absl::OkStatus();
      moving_ = true;
      taken = taken_;
    }
    taken.resize(connector->levels_[level_].size(), false);
    const std::shared_ptr<LevelRoute> below = down(*connector);
    const std::int64_t items = batch.items;
    absl::Status s = co_await connector->send_to_level(level_, ctx, batch, taken, below);
    std::lock_guard lock(mu_);
    taken_ = std::move(taken);
    moving_ = false;
    if (s.ok()) {
      moved_ = true;
      if (level_ < kMaxLevels) connector->items_[level_] += items;
      if (rerouted) connector->rerouted_ += items;
    }
    co_return s;
  }

  // The route into the next level for the same batch (null at the last level).
  std::shared_ptr<LevelRoute> down(const FailoverConnector& connector) {
    std::lock_guard lock(mu_);
    if (down_ == nullptr && level_ + 1 < connector.levels_.size()) {
      down_ = std::make_shared<LevelRoute>(connector_, level_ + 1);
    }
    return down_;
  }

 private:
  const std::weak_ptr<FailoverConnector> connector_;
  const std::size_t level_;  // where the batch goes
  std::mutex mu_;
  bool moving_ = false;
  bool moved_ = false;
  std::vector<bool> taken_;  // the pipelines of level_ that have the batch
  std::shared_ptr<LevelRoute> down_;
};

csp::Task<absl::Status> FailoverConnector::send_to_level(std::size_t level, const csp::Context& ctx,
                                                         const pipeline::Batch& batch,
                                                         std::vector<bool>& taken,
                                                         const std::shared_ptr<LevelRoute>& below) {
  absl::Status first_error;
  const std::vector<std::shared_ptr<pipeline::Consumer>>& consumers = levels_[level];
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    if (taken[i]) continue;
    pipeline::Batch copy = batch;  // kept whole for a lower level, should this one refuse
    copy.reroute = below;
    absl::Status s = co_await consumers[i]->consume(ctx, std::move(copy));
    if (s.ok()) {
      taken[i] = true;
    } else if (first_error.ok()) {
      first_error = std::move(s);
    }
  }
  co_return first_error;
}

csp::Task<absl::Status> FailoverConnector::consume(csp::Context ctx, pipeline::Batch batch) {
  if (shut_down_.load(std::memory_order_acquire) || levels_.empty()) {
    co_return absl::UnavailableError(absl::StrCat("connector ", id_, " is not running"));
  }
  // The level to start at: a higher one when a probe is due, else the highest delivering one.
  std::size_t level = current_level();
  if (level > 0 && probe_due_->exchange(false, std::memory_order_relaxed)) {
    level = next_probe_.fetch_add(1, std::memory_order_relaxed) % level;
  }
  // Then down, level by level, through the same routes the exporters' reroutes use.
  std::shared_ptr<LevelRoute> route = std::make_shared<LevelRoute>(weak_from_this(), level);
  for (;;) {
    absl::Status s = co_await route->hand_over(ctx, batch, /*rerouted=*/false);
    if (s.ok() || s.code() == absl::StatusCode::kInvalidArgument) co_return s;  // or bad data
    std::shared_ptr<LevelRoute> below = route->down(*this);
    if (below == nullptr) co_return s;
    ++fell_through_;
    route = std::move(below);
  }
}

csp::Task<void> FailoverConnector::shutdown(csp::Context) {
  shut_down_.store(true, std::memory_order_release);
  if (!probing_) co_return;
  probing_ = false;
  stop_.close();
  co_await done_.recv();
}

}  // namespace components
