#include "pipeline/graph.h"

#include <algorithm>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pipeline/fan_out.h"

namespace pipeline {

namespace {

// " (file:line:col)" for messages, when the place is known.
std::string at(const SourceLocation& where) {
  const std::string loc = where.str();
  return loc.empty() ? "" : " (" + loc + ")";
}

std::string in_pipeline(const PipelineId& pid, std::string_view kind, const ComponentId& id) {
  return absl::StrCat("service::pipelines::", pid.str(), ": ", std::string(kind), " \"", id.str(),
                      "\"");
}

// The factory of `id`'s type, or an error naming the pipeline, the component and its place.
template <class F>
absl::StatusOr<const F*> factory_for(const F* f, const PipelineId& pid, std::string_view kind,
                                     const ComponentId& id) {
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        in_pipeline(pid, kind, id), " has unknown type \"", id.type(), "\"", at(id.where())));
  }
  if (!f->supports(pid.signal())) {
    return absl::InvalidArgumentError(absl::StrCat(in_pipeline(pid, kind, id), " does not support ",
                                                   std::string(otlp::signal_name(pid.signal())),
                                                   at(id.where())));
  }
  return f;
}

}  // namespace

std::string_view stability_name(Stability s) {
  switch (s) {
    case Stability::kDevelopment:
      return "development";
    case Stability::kAlpha:
      return "alpha";
    case Stability::kBeta:
      return "beta";
    case Stability::kStable:
      return "stable";
  }
  return "unknown";
}

template <class F>
static const F* find_factory(const std::vector<std::unique_ptr<F>>& list, std::string_view type) {
  for (const auto& f : list) {
    if (f->type() == type) return f.get();
  }
  return nullptr;
}

const ReceiverFactory* Factories::receiver(std::string_view t) const {
  return find_factory(receivers, t);
}
const ProcessorFactory* Factories::processor(std::string_view t) const {
  return find_factory(processors, t);
}
const ExporterFactory* Factories::exporter(std::string_view t) const {
  return find_factory(exporters, t);
}
const ConnectorFactory* Factories::connector(std::string_view t) const {
  return find_factory(connectors, t);
}
const ExtensionFactory* Factories::extension(std::string_view t) const {
  return find_factory(extensions, t);
}

absl::Status Factories::check_unique() const {
  auto check = [](const auto& list, std::string_view kind) -> absl::Status {
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (std::size_t j = i + 1; j < list.size(); ++j) {
        if (list[i]->type() == list[j]->type()) {
          return absl::InternalError(absl::StrCat("duplicate ", std::string(kind), " factory \"",
                                                  std::string(list[i]->type()), "\""));
        }
      }
    }
    return absl::OkStatus();
  };
  if (auto s = check(receivers, "receiver"); !s.ok()) return s;
  if (auto s = check(processors, "processor"); !s.ok()) return s;
  if (auto s = check(exporters, "exporter"); !s.ok()) return s;
  if (auto s = check(extensions, "extension"); !s.ok()) return s;
  return check(connectors, "connector");
}

// ---- building -------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Graph>> Graph::build(const Config& config,
                                                    const Factories& factories, Host& host,
                                                    GraphOptions options) {
  if (auto s = factories.check_unique(); !s.ok()) return s;
  std::unique_ptr<Graph> graph(new Graph(host, options));  // NOLINT: private constructor
  if (auto s = graph->build_extensions(config, factories); !s.ok()) return s;
  if (auto s = graph->create_nodes(config, factories); !s.ok()) return s;
  graph->create_edges(config);
  if (auto s = graph->sort(config); !s.ok()) return s;
  if (auto s = graph->build_components(config, factories); !s.ok()) return s;
  if (auto s = graph->connect(); !s.ok()) return s;
  host.set_pipelines(graph->layouts_);
  graph->register_gauges();
  return graph;
}

Graph::~Graph() { host_.telemetry().remove_gauges(this); }

void Graph::register_gauges() {
  telemetry::Registry& registry = host_.telemetry();
  if (!registry.enabled()) return;
  for (const Node& n : nodes_) {
    if (n.entrance == nullptr) continue;
    const telemetry::Labels labels{{"pipeline", n.pipeline->str()}};
    PipelineEntrance* entrance = n.entrance.get();  // lives as long as the graph
    registry.gauge(
        "otlpd_pipeline_batches_inside",
        "Batches inside a pipeline now, between its entrance and its exporters' queues.", labels,
        [entrance] { return static_cast<double>(entrance->inside()); }, this);
    registry.gauge(
        "otlpd_pipeline_batches_capacity",
        "Batches a pipeline lets in at once; senders wait when it is full.", labels,
        [capacity = options_.entrance_capacity] { return static_cast<double>(capacity); }, this);
  }
}

std::size_t Graph::add_node(Node node, const std::string& key) {
  auto [it, added] = by_key_.emplace(key, nodes_.size());
  if (added) nodes_.push_back(std::move(node));
  return it->second;
}

// Keys that make one node per instance (see graph.h).
namespace {
std::string receiver_key(const ComponentId& id) { return "receiver|" + id.str(); }
std::string connector_key(const ComponentId& id) { return "connector|" + id.str(); }
std::string entrance_key(const PipelineId& p) { return "entrance|" + p.str(); }
std::string fan_out_key(const PipelineId& p) { return "fan-out|" + p.str(); }
std::string processor_key(const PipelineId& p, const ComponentId& id) {
  return absl::StrCat("processor|", p.str(), "|", id.str());
}
std::string shared_key(const ComponentId& id) { return "shared|" + id.str(); }
std::string exporter_key(const ComponentId& id, std::optional<otlp::Signal> signal) {
  if (!signal) return "exporter|" + id.str();
  return absl::StrCat("exporter|", id.str(), "|", std::string(otlp::signal_name(*signal)));
}
}  // namespace

absl::Status Graph::build_extensions(const Config& config, const Factories& factories) {
  for (const ComponentId& id : config.service.extensions) {
    const ExtensionFactory* f = factories.extension(id.type());
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("service::extensions: extension \"", id.str(),
                                                     "\" has unknown type \"", id.type(), "\"",
                                                     at(id.where())));
    }
    auto e = f->create(id, config.extensions.at(id), host_);
    if (!e.ok()) return e.status();
    host_.add_extension(id.str(), *e);
    extensions_.emplace_back(id, *std::move(e));
  }
  return absl::OkStatus();
}

// A connector is one node, whichever end of which pipelines lists it.
absl::Status Graph::add_connector(const PipelineId& pid, const ComponentId& id,
                                  const Factories& factories) {
  auto f = factory_for(factories.connector(id.type()), pid, "connector", id);
  if (!f.ok()) return f.status();
  add_node(Node{.kind = Kind::kConnector, .id = id}, connector_key(id));
  return absl::OkStatus();
}

absl::Status Graph::create_nodes(const Config& config, const Factories& factories) {
  for (const auto& [pid, pcfg] : config.service.pipelines) {
    for (const ComponentId& rid : pcfg.receivers) {
      if (config.connectors.contains(rid)) {
        if (auto s = add_connector(pid, rid, factories); !s.ok()) return s;
        continue;
      }
      auto f = factory_for(factories.receiver(rid.type()), pid, "receiver", rid);
      if (!f.ok()) return f.status();
      add_node(Node{.kind = Kind::kReceiver, .id = rid}, receiver_key(rid));
    }
    add_node(Node{.kind = Kind::kEntrance, .pipeline = pid}, entrance_key(pid));
    for (const ComponentId& id : pcfg.processors) {
      auto f = factory_for(factories.processor(id.type()), pid, "processor", id);
      if (!f.ok()) return f.status();
      add_node(Node{.kind = Kind::kProcessor, .id = id, .pipeline = pid}, processor_key(pid, id));
      if ((*f)->has_shared_part()) {
        add_node(Node{.kind = Kind::kSharedProcessor, .id = id}, shared_key(id));
      }
    }
    add_node(Node{.kind = Kind::kFanOut, .pipeline = pid}, fan_out_key(pid));
    for (const ComponentId& id : pcfg.exporters) {
      if (config.connectors.contains(id)) {
        if (auto s = add_connector(pid, id, factories); !s.ok()) return s;
        continue;
      }
      auto f = factory_for(factories.exporter(id.type()), pid, "exporter", id);
      if (!f.ok()) return f.status();
      std::optional<otlp::Signal> signal;
      if (!(*f)->shared_across_signals()) signal = pid.signal();
      add_node(
          Node{.kind = Kind::kExporter, .id = id, .signal = signal, .first_signal = pid.signal()},
          exporter_key(id, signal));
    }
  }
  return absl::OkStatus();
}

void Graph::create_edges(const Config& config) {
  auto link = [](std::vector<std::size_t>& edges, std::size_t to) {
    if (std::find(edges.begin(), edges.end(), to) == edges.end()) edges.push_back(to);
  };
  for (const auto& [pid, pcfg] : config.service.pipelines) {
    const std::size_t entrance = by_key_.at(entrance_key(pid));
    for (const ComponentId& rid : pcfg.receivers) {
      const std::string key =
          config.connectors.contains(rid) ? connector_key(rid) : receiver_key(rid);
      link(nodes_[by_key_.at(key)].next, entrance);
    }
    std::size_t last = entrance;
    for (const ComponentId& id : pcfg.processors) {
      const std::size_t proc = by_key_.at(processor_key(pid, id));
      link(nodes_[last].next, proc);
      if (auto shared = by_key_.find(shared_key(id)); shared != by_key_.end()) {
        link(nodes_[proc].uses, shared->second);
      }
      last = proc;
    }
    const std::size_t fan_out = by_key_.at(fan_out_key(pid));
    link(nodes_[last].next, fan_out);
    for (const ComponentId& id : pcfg.exporters) {
      std::size_t to = 0;
      if (config.connectors.contains(id)) {
        to = by_key_.at(connector_key(id));
      } else if (auto it = by_key_.find(exporter_key(id, std::nullopt)); it != by_key_.end()) {
        to = it->second;
      } else {
        to = by_key_.at(exporter_key(id, pid.signal()));
      }
      link(nodes_[fan_out].next, to);
    }

    // "traces: [otlp] -> batch -> [debug]"
    auto strs = [](const std::vector<ComponentId>& ids) {
      std::vector<std::string> out;
      for (const auto& id : ids) out.push_back(id.str());
      return absl::StrJoin(out, ", ");
    };
    auto names = [](const std::vector<ComponentId>& ids) {
      std::vector<std::string> out;
      for (const auto& id : ids) out.push_back(id.str());
      return out;
    };
    layouts_.push_back(Host::PipelineLayout{pid.str(), names(pcfg.receivers),
                                            names(pcfg.processors), names(pcfg.exporters)});
    std::string line = absl::StrCat(pid.str(), ": [", strs(pcfg.receivers), "]");
    if (!pcfg.processors.empty()) absl::StrAppend(&line, " -> ", strs(pcfg.processors));
    absl::StrAppend(&line, " -> [", strs(pcfg.exporters), "]");
    descriptions_.push_back(std::move(line));
  }
}

absl::Status Graph::sort(const Config& config) {
  // Kahn's algorithm, taking ready nodes in creation order so the order is deterministic.
  std::vector<std::size_t> incoming(nodes_.size(), 0);
  for (const Node& n : nodes_) {
    for (std::size_t to : n.next) ++incoming[to];
    for (std::size_t to : n.uses) ++incoming[to];
  }
  std::deque<std::size_t> ready;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (incoming[i] == 0) ready.push_back(i);
  }
  order_.clear();
  while (!ready.empty()) {
    const std::size_t i = ready.front();
    ready.pop_front();
    order_.push_back(i);
    auto release = [&](std::size_t to) {
      if (--incoming[to] == 0) ready.push_back(to);
    };
    for (std::size_t to : nodes_[i].next) release(to);
    for (std::size_t to : nodes_[i].uses) release(to);
  }
  if (order_.size() == nodes_.size()) return absl::OkStatus();

  // A cycle is left among the nodes never taken, perhaps with nodes behind it. Drop those
  // (repeatedly, the ones with no edge to another node left); what remains has an edge out of
  // every node, so walking forward from any of them runs into a cycle. Only data edges can
  // close one (a shared part has no edges out), and only through connectors.
  std::vector<bool> left(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) left[i] = incoming[i] > 0;
  auto next_left = [&](std::size_t i) -> std::optional<std::size_t> {
    for (std::size_t to : nodes_[i].next) {
      if (left[to]) return to;
    }
    return std::nullopt;
  };
  for (bool dropped = true; dropped;) {
    dropped = false;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (left[i] && !next_left(i)) {
        left[i] = false;
        dropped = true;
      }
    }
  }
  std::size_t cur = std::find(left.begin(), left.end(), true) - left.begin();
  std::vector<std::size_t> path;
  std::vector<int> seen_at(nodes_.size(), -1);
  while (seen_at[cur] < 0) {
    seen_at[cur] = static_cast<int>(path.size());
    path.push_back(cur);
    cur = *next_left(cur);
  }
  // Name the pipelines and connectors on the cycle, from the first pipeline back to itself.
  // Every cycle passes a pipeline entrance; start at the first pipeline in config order.
  std::vector<std::size_t> cycle(path.begin() + seen_at[cur], path.end());
  auto first = cycle.end();
  for (auto it = cycle.begin(); it != cycle.end(); ++it) {
    if (nodes_[*it].kind == Kind::kEntrance && (first == cycle.end() || *it < *first)) first = it;
  }
  std::rotate(cycle.begin(), first, cycle.end());
  cycle.push_back(cycle.front());
  std::vector<std::string> names;
  for (std::size_t i : cycle) {
    const Node& n = nodes_[i];
    if (n.kind == Kind::kEntrance) names.push_back(n.pipeline->str());
    if (n.kind == Kind::kConnector) names.push_back(n.id.str());
  }
  const PipelineId& pid = *nodes_[cycle.front()].pipeline;
  return absl::InvalidArgumentError(
      absl::StrCat("service::pipelines: the pipelines form a cycle through connectors: ",
                   absl::StrJoin(names, " -> "), at(config.service.pipelines.at(pid).where)));
}

std::shared_ptr<Consumer> Graph::downstream(const Node& node) const {
  std::vector<std::shared_ptr<Consumer>> next;
  for (std::size_t to : node.next) next.push_back(nodes_[to].consumer);
  return fan_out(std::move(next));
}

absl::Status Graph::build_components(const Config& config, const Factories& factories) {
  // Consumers first: when a node is built, everything it sends to exists.
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    Node& n = nodes_[*it];
    switch (n.kind) {
      case Kind::kReceiver: {
        auto r = factories.receiver(n.id.type())->create(n.id, config.receivers.at(n.id), host_);
        if (!r.ok()) return r.status();
        n.component = *std::move(r);
        break;
      }
      case Kind::kConnector: {
        auto c = factories.connector(n.id.type())->create(n.id, config.connectors.at(n.id), host_);
        if (!c.ok()) return c.status();
        n.consumer = *c;
        n.component = *std::move(c);
        break;
      }
      case Kind::kExporter: {
        const ExporterFactory* f = factories.exporter(n.id.type());
        auto e = f->create(n.id, config.exporters.at(n.id), n.first_signal, host_);
        if (!e.ok()) return e.status();
        n.consumer = *e;
        n.component = *std::move(e);
        break;
      }
      case Kind::kSharedProcessor: {
        auto s = factories.processor(n.id.type())
                     ->create_shared(n.id, config.processors.at(n.id), host_);
        if (!s.ok()) return s.status();
        n.component = *std::move(s);
        break;
      }
      case Kind::kProcessor: {
        std::shared_ptr<Component> shared;
        if (!n.uses.empty()) shared = nodes_[n.uses.front()].component;
        auto p = factories.processor(n.id.type())
                     ->create(n.id, config.processors.at(n.id), n.pipeline->signal(), downstream(n),
                              std::move(shared), host_);
        if (!p.ok()) return p.status();
        n.consumer = *p;
        n.component = *std::move(p);
        break;
      }
      case Kind::kFanOut:
        n.consumer = downstream(n);
        break;
      case Kind::kEntrance:
        n.entrance = std::make_shared<PipelineEntrance>(n.pipeline->str(),
                                                        options_.entrance_capacity, downstream(n));
        n.consumer = n.entrance;
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status Graph::connect() {
  // Receivers and connectors feed pipeline entrances; each learns, per signal, where to.
  for (Node& n : nodes_) {
    if (n.kind != Kind::kReceiver && n.kind != Kind::kConnector) continue;
    for (otlp::Signal signal : otlp::kAllSignals) {
      std::vector<std::shared_ptr<Consumer>> entrances;
      for (std::size_t to : n.next) {
        if (nodes_[to].pipeline->signal() == signal) entrances.push_back(nodes_[to].consumer);
      }
      if (entrances.empty()) continue;
      if (n.kind == Kind::kReceiver) {
        std::static_pointer_cast<Receiver>(n.component)->connect(signal, fan_out(entrances));
      } else {
        std::static_pointer_cast<Connector>(n.component)->connect(signal, fan_out(entrances));
      }
    }
    if (n.kind == Kind::kConnector) {
      auto connector = std::static_pointer_cast<Connector>(n.component);
      for (std::size_t to : n.next)
        connector->connect_pipeline(*nodes_[to].pipeline, nodes_[to].consumer);
    }
  }
  for (const Node& n : nodes_) {
    if (n.kind != Kind::kConnector) continue;
    if (auto s = std::static_pointer_cast<Connector>(n.component)->check_connections(); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// ---- lifecycle ------------------------------------------------------------------------------

std::string Graph::name(const Node& n) {
  switch (n.kind) {
    case Kind::kReceiver:
      return "receiver " + n.id.str();
    case Kind::kConnector:
      return "connector " + n.id.str();
    case Kind::kExporter:
      return n.signal ? absl::StrCat("exporter ", n.id.str(), " (",
                                     std::string(otlp::signal_name(*n.signal)), ")")
                      : "exporter " + n.id.str();
    case Kind::kSharedProcessor:
      return "processor " + n.id.str() + " (shared)";
    case Kind::kProcessor:
      return absl::StrCat("processor ", n.id.str(), " (", n.pipeline->str(), ")");
    case Kind::kEntrance:
      return "pipeline " + n.pipeline->str();
    case Kind::kFanOut:
      return "fan-out " + n.pipeline->str();
  }
  return "?";
}

std::string Graph::config_path(const Node& n) {
  switch (n.kind) {
    case Kind::kReceiver:
      return "receivers::" + n.id.str();
    case Kind::kConnector:
      return "connectors::" + n.id.str();
    case Kind::kExporter:
      return "exporters::" + n.id.str();
    case Kind::kProcessor:
    case Kind::kSharedProcessor:
      return "processors::" + n.id.str();
    case Kind::kEntrance:
    case Kind::kFanOut:
      return "service::pipelines::" + n.pipeline->str();
  }
  return "?";
}

csp::Task<absl::Status> Graph::start() {
  for (auto& [id, extension] : extensions_) {
    absl::Status s = co_await extension->start();
    if (!s.ok()) {
      co_return absl::Status(s.code(), absl::StrCat("extensions::", id.str(), ": ", s.message()));
    }
  }
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    Node& n = nodes_[*it];
    if (n.component == nullptr) continue;
    absl::Status s = co_await n.component->start();
    if (!s.ok()) co_return absl::Status(s.code(), absl::StrCat(config_path(n), ": ", s.message()));
  }
  co_return absl::OkStatus();
}

csp::Task<void> Graph::shutdown(csp::Duration deadline) {
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), deadline);
  // Producers first: a node shuts down only once nothing upstream can still send to it. A
  // component never started is shut down too (it refuses from then on; shutdown without start
  // is part of every component's contract).
  for (std::size_t i : order_) {
    Node& n = nodes_[i];
    if (n.entrance) co_await n.entrance->shutdown(ctx);
    if (n.component) co_await n.component->shutdown(ctx);
  }
  for (auto it = extensions_.rbegin(); it != extensions_.rend(); ++it) {
    co_await it->second->shutdown(ctx);
  }
  cancel();
}

std::vector<std::string> Graph::describe() const { return descriptions_; }

std::vector<std::string> Graph::start_order() const {
  std::vector<std::string> out;
  for (const auto& [id, extension] : extensions_) out.push_back("extension " + id.str());
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    const Node& n = nodes_[*it];
    if (n.component != nullptr) out.push_back(name(n));
  }
  return out;
}

}  // namespace pipeline
