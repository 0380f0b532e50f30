#pragma once
// The `failover` connector: sends each batch to the highest priority level of pipelines that is
// delivering, and comes back to a higher level when it recovers (the design study's
// primary / backup / retry loop).
//
// Contract:
//  - priority_levels lists levels of pipelines, highest first; every listed pipeline must
//    receive from this connector, and every pipeline that does must be listed (checked when the
//    graph is built).
//  - A level is used when all its pipelines are delivering (pipeline::Consumer::delivering):
//    that is judged by the outcome of the deliveries at the head of their exporters' queues,
//    not by the synchronous answer, so it works with sending queues and retries.
//  - A batch moves to a lower level only when the level it is in definitely did not take it:
//     * a pipeline of the level refused it when it was handed over (queue full until the
//       caller's deadline, shut down): the batch goes on to the next level at once. If another
//       pipeline of that level had accepted it, that part is delivered by both levels (the
//       price of sending on rather than losing);
//     * later, an exporter of the level had an attempt definitely fail (the backend refused it
//       or could not be reached, so it holds none of it): the batch carries a pipeline::Reroute
//       to the next level, and the exporter hands it there instead of retrying it. Each
//       pipeline of the next level receives it once, however many exporters of the level fail
//       it and whether or not the connector had already fallen through to it. An attempt
//       whose outcome is unknown (timeout, connection lost mid-request) is retried where it
//       is: no batch reaches two levels unless the first definitely failed.
//    An exporter with sending_queue disabled answers with the delivery outcome itself, so its
//    errors fall through at once, including unknown outcomes (which may then arrive twice).
//    At the last level batches are retried there. Data rejected as bad (INVALID_ARGUMENT) is
//    not tried elsewhere.
//  - When no level is delivering, batches go to the highest level, whose queue holds them until
//    its backend recovers (or its retry policy drops them, counted there).
//  - While a lower level is in use, every retry_interval one batch probes the levels above it,
//    in turn, so a level whose queue has run empty is still found again once it recovers.
//  - Counts per level (items each level took, on first hand-over or by reroute), the batches
//    that fell through to a lower level when handed over, and the items rerouted down.

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "csp/chan.h"
#include "csp/timer.h"
#include "pipeline/config/config_node.h"
#include "pipeline/factory.h"

namespace components {

struct FailoverConfig {
  std::vector<std::vector<std::string>> priority_levels;  // pipeline ids, highest level first
  csp::Duration retry_interval = std::chrono::minutes(10);
  pipeline::ConfigNode node;  // where the config was written, for check_connections()
};

class FailoverConnector final : public pipeline::Connector,
                                public std::enable_shared_from_this<FailoverConnector> {
 public:
  FailoverConnector(std::string id, FailoverConfig config);
  ~FailoverConnector() override;

  void connect(otlp::Signal, std::shared_ptr<pipeline::Consumer>) override {}
  void connect_pipeline(const pipeline::PipelineId& pipeline,
                        std::shared_ptr<pipeline::Consumer> next) override;
  absl::Status check_connections() const override;

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;
  bool delivering() const override;
  // OK means persisted only if every level it may go to persists.
  bool durable() const override;

  // The level new batches go to now (0 = highest).
  std::size_t current_level() const;
  std::int64_t items_sent_to(std::size_t level) const;
  std::int64_t fell_through() const { return fell_through_.load(); }
  std::int64_t items_rerouted() const { return rerouted_.load(); }

 private:
  static constexpr std::size_t kMaxLevels = 16;
  bool level_delivering(std::size_t level) const;
  class LevelRoute;
  // Hands batch to every pipeline of `level` not marked in `taken` (marking those that accept),
  // each copy carrying `below` as its reroute; the first refusal, or OK.
  csp::Task<absl::Status> send_to_level(std::size_t level, const csp::Context& ctx,
                                        const pipeline::Batch& batch, std::vector<bool>& taken,
                                        const std::shared_ptr<LevelRoute>& below);
  // The probe timer: a select over the ticker and the stop channel.
  static csp::Task<void> probe_every(csp::Duration interval,
                                     std::shared_ptr<std::atomic<bool>> probe_due,
                                     csp::Chan<csp::Unit> stop, csp::Chan<csp::Unit> done);

  std::string id_;
  FailoverConfig config_;
  std::map<std::string, std::shared_ptr<pipeline::Consumer>> by_pipeline_;  // set before start
  std::vector<std::vector<std::shared_ptr<pipeline::Consumer>>> levels_;
  std::shared_ptr<std::atomic<bool>> probe_due_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<std::size_t> next_probe_{0};
  std::array<std::atomic<std::int64_t>, kMaxLevels> items_{};
  std::atomic<std::int64_t> fell_through_{0};
  std::atomic<std::int64_t> rerouted_{0};
  std::atomic<bool> shut_down_{false};
  bool probing_ = false;  // the probe goroutine runs (between start and shutdown)
  csp::Chan<csp::Unit> stop_{0};
  csp::Chan<csp::Unit> done_{0};
};

}  // namespace components
