#pragma once
// pipeline::Graph: the running collector — every pipeline of a Config as one graph of
// components, built from the factories, started and shut down in dependency order.
//
// Nodes and edges. A pipeline `traces` with receivers R, processors P1, P2 and exporters E, C
// (C a connector feeding pipeline `traces/2`) becomes
//
//   R ─► entrance(traces) ─► P1 ─► P2 ─► fan-out(traces) ─► E
//                                                       └─► C ─► entrance(traces/2) ─► …
//
// Data flows along the edges; an edge also means "must exist and run before its source". A
// processor with a part shared across pipelines (memory_limiter) has one more edge, to that
// part. The graph decides which nodes are one instance (factory.h): a receiver or connector id
// is one node, an exporter id one node per signal (or one for all signals), a processor one node
// per (pipeline, id), its shared part one node per id.
//
// Building is a sequence of named steps (Graph::build):
//   0. build_extensions: the extensions of service::extensions, in order, registered with the
//      Host so that components can find them when they are created (a sending queue's storage);
//   1. create_nodes: one node per instance, each checked against its factory (unknown type,
//      signal not supported); errors name the config path and the line;
//   2. create_edges: the edges above;
//   3. sort: one topological order; a cycle (pipelines feeding each other through connectors)
//      is an error naming the pipelines and connectors on it, and where the first is defined;
//   4. build_components: in reverse topological order, so each component is created after
//      everything it sends to; component config errors name the key and line;
//   5. connect: receivers and connectors learn, per signal, the pipelines they feed (routing
//      connectors also each pipeline on its own, and check their config against them).
// No component starts during build(): `otlpd validate` builds and stops.
//
// Lifecycle. start() starts the extensions first, then components in reverse topological order
// (exporters first, receivers last: nothing produces before its consumers run); a failure stops
// there and is returned. shutdown(deadline) goes in topological order — receivers stop accepting
// and answer what they hold; a pipeline's entrance waits for the batches inside it; its processors
// flush, in order, into the next; connectors and the pipelines behind them follow; exporters drain
// to the backends; extensions last — every step bounded by the one deadline. spec/pipeline models
// this protocol.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
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

struct GraphOptions {
  std::size_t entrance_capacity = 64;  // batches inside each pipeline at once
};

class Graph {
 public:
  static absl::StatusOr<std::unique_ptr<Graph>> build(const Config& config,
                                                      const Factories& factories, Host& host,
                                                      GraphOptions options = {});
  ~Graph();

  csp::Task<absl::Status> start();
  csp::Task<void> shutdown(csp::Duration deadline);

  // One line per pipeline: "traces: [otlp] -> batch -> [debug]".
  std::vector<std::string> describe() const;
  // Every component instance, "kind id" or "kind id (signal)", in start order (for tests and
  // the status page).
  std::vector<std::string> start_order() const;

 private:
  enum class Kind {
    kReceiver,
    kEntrance,
    kProcessor,
    kSharedProcessor,
    kFanOut,
    kExporter,
    kConnector
  };
  struct Node {
    Kind kind;
    ComponentId id;                      // the component's id (none for entrances and fan-outs)
    std::optional<PipelineId> pipeline;  // entrances, processors, fan-outs
    std::optional<otlp::Signal> signal;  // exporters not shared across signals
    // Exporters: the signal of the first pipeline that listed the id (what a shared one is
    // created for).
    otlp::Signal first_signal = otlp::Signal::kTraces;
    std::vector<std::size_t> next;  // data edges
    std::vector<std::size_t> uses;  // order-only edges (a processor to its shared part)
    // Built in step 4.
    std::shared_ptr<Component> component;  // null for entrances and fan-outs
    std::shared_ptr<Consumer> consumer;    // what an edge into this node delivers to
    std::shared_ptr<PipelineEntrance> entrance;
  };

  explicit Graph(Host& host, GraphOptions options) : host_(host), options_(options) {}

  absl::Status build_extensions(const Config& config, const Factories& factories);
  absl::Status create_nodes(const Config& config, const Factories& factories);
  absl::Status add_connector(const PipelineId& pid, const ComponentId& id,
                             const Factories& factories);
  void create_edges(const Config& config);
  absl::Status sort(const Config& config);
  absl::Status build_components(const Config& config, const Factories& factories);
  absl::Status connect();
  // Channel fill per pipeline for /metrics and the status page.
  void register_gauges();

  std::size_t add_node(Node node, const std::string& key);
  static std::string name(const Node& node);         // "exporter otlp (traces)"
  static std::string config_path(const Node& node);  // "exporters::otlp"
  // The consumer that stands for all of `node.next` (one, or a fan-out).
  std::shared_ptr<Consumer> downstream(const Node& node) const;

  Host& host_;
  GraphOptions options_;
  std::vector<std::pair<ComponentId, std::shared_ptr<Component>>> extensions_;  // in order
  std::vector<Node> nodes_;
  std::map<std::string, std::size_t> by_key_;  // instance key -> node
  std::vector<std::size_t> order_;             // topological: producers before consumers
  std::vector<std::string> descriptions_;
  std::vector<Host::PipelineLayout> layouts_;  // the same, for the host (status page)
};

}  // namespace pipeline
