#pragma once
// pipeline::Service: the running collector — every pipeline of a Config built from the
// factories, started and shut down in order.
//
// Building (build()) creates every component and wires the graph without starting anything:
//   receiver ─► entrance [bounded chan] ─► processor ─► … ─► fan-out ─► exporters
// A receiver in several pipelines feeds all of them (fan-out); an exporter listed by several
// pipelines of one signal is one instance; a connector is an exporter of one pipeline and a
// receiver of another. Errors name the pipeline and component: unknown type, signal not
// supported, bad component config (with the key and line).
//
// Start order: exporters, connectors, processors, entrances, receivers (so nothing produces
// before its consumers run). Shutdown protocol (the reverse), each step bounded by the deadline:
//   1. receivers stop accepting and answer the requests they hold;
//   2. entrances close; their workers push what was queued through the pipeline;
//   3. processors shut down in pipeline order, so a batch processor flushes into the next one;
//   4. connectors, then exporters drain their queues to the backends.
// spec/pipeline models this protocol.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "csp/context.h"
#include "csp/task.h"
#include "pipeline/config/config.h"
#include "pipeline/entrance.h"
#include "pipeline/factory.h"
#include "pipeline/host.h"

namespace pipeline {

struct ServiceOptions {
  std::size_t entrance_capacity = 64;  // batches queued at each pipeline's head
  std::size_t entrance_workers = 0;    // goroutines per pipeline; 0 = scheduler workers
};

class Service {
 public:
  Service() = default;  // use build()
  static absl::StatusOr<std::unique_ptr<Service>> build(const Config& config,
                                                        const Factories& factories, Host& host,
                                                        ServiceOptions options = {});

  csp::Task<absl::Status> start();
  csp::Task<void> shutdown(csp::Duration deadline);

  // One line per pipeline: "traces: otlp -> batch -> debug".
  std::vector<std::string> describe() const;

 private:
  struct Pipeline {
    std::string name;
    std::vector<std::shared_ptr<Processor>> processors;  // in order
    std::shared_ptr<PipelineEntrance> entrance;
    std::string description;
    std::vector<std::string> from_connectors;  // connector ids this pipeline receives from
    std::vector<std::string> to_connectors;    // connector ids this pipeline exports to
  };
  // Pipelines ordered so that one fed by a connector comes after those feeding it.
  std::vector<Pipeline*> shutdown_order();

  std::map<std::string, std::shared_ptr<Receiver>> receivers_;
  std::map<std::string, std::shared_ptr<Connector>> connectors_;
  std::map<std::string, std::shared_ptr<Exporter>> exporters_;  // key: id + "|" + signal
  std::vector<Pipeline> pipelines_;
  Host* host_ = nullptr;
};

}  // namespace pipeline
