#pragma once
// Component factories: how the engine turns a config entry into a component.
//
// One factory per component type (`otlp`, `batch`, `debug`, ...). The list of factories is
// explicit and lives in components/factories.cc (STYLE.md habit 6), which apps/otlpd uses; a
// duplicate type name is an error there.
//
// create() parses and validates the component's config (unknown keys and bad values are errors
// naming the key and line) and builds the component without starting it, so `otlpd validate`
// can build the whole graph and stop. Lifetimes: factories outlive everything they create.
//
// How many instances exist is the graph's decision (pipeline/graph.h), from what the factory
// declares; a factory never caches what it created:
//  - a receiver id is one instance, whatever pipelines and signals list it;
//  - a processor is one instance per (pipeline, id); a factory whose processors share state
//    across pipelines (memory_limiter) declares it with has_shared_part(), and the graph builds
//    that part once per id and hands it to each pipeline's processor;
//  - an exporter id is one instance per signal, or one for every signal when the factory says
//    shared_across_signals() (file, otlp);
//  - a connector id is one instance.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/signal.h"
#include "pipeline/component.h"
#include "pipeline/config/component_id.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"

namespace pipeline {

enum class Stability { kDevelopment, kAlpha, kBeta, kStable };
std::string_view stability_name(Stability s);

class Factory {
 public:
  virtual ~Factory() = default;
  virtual std::string_view type() const = 0;
  virtual bool supports(otlp::Signal signal) const = 0;
  virtual Stability stability() const { return Stability::kBeta; }
};

class ReceiverFactory : public Factory {
 public:
  // One receiver per id, shared by every pipeline that lists it.
  virtual absl::StatusOr<std::shared_ptr<Receiver>> create(const ComponentId& id,
                                                           const ConfigNode& config,
                                                           Host& host) const = 0;
};

class ProcessorFactory : public Factory {
 public:
  // True if the processors of one id share a part across pipelines (see create_shared).
  virtual bool has_shared_part() const { return false; }
  // The shared part of an id, built once and started before (shut down after) every pipeline's
  // processor of that id. Called only when has_shared_part().
  virtual absl::StatusOr<std::shared_ptr<Component>> create_shared(const ComponentId& id,
                                                                   const ConfigNode& config,
                                                                   Host& host) const {
    (void)id;
    (void)config;
    (void)host;
    return std::shared_ptr<Component>();
  }
  // One processor per (pipeline, id): it sends what it lets through to `next`. `shared` is the
  // id's shared part (null without one).
  virtual absl::StatusOr<std::shared_ptr<Processor>> create(
      const ComponentId& id, const ConfigNode& config, otlp::Signal signal,
      std::shared_ptr<Consumer> next, std::shared_ptr<Component> shared, Host& host) const = 0;
};

class ExporterFactory : public Factory {
 public:
  // True: one instance per id takes every signal (the signal passed to create() is the first
  // one the graph needed it for). False: one instance per (id, signal).
  virtual bool shared_across_signals() const { return false; }
  // Shared by every pipeline (of the signal, or of all signals) that lists the id.
  virtual absl::StatusOr<std::shared_ptr<Exporter>> create(const ComponentId& id,
                                                           const ConfigNode& config,
                                                           otlp::Signal signal,
                                                           Host& host) const = 0;
};

// A connector is an exporter in one pipeline and a receiver in another.
class Connector : public Exporter {
 public:
  // Every pipeline of `signal` that receives from this connector, behind one consumer.
  virtual void connect(otlp::Signal signal, std::shared_ptr<Consumer> next) = 0;
  // Each such pipeline on its own, for connectors that route between them (failover). Called
  // after connect(), once per pipeline.
  virtual void connect_pipeline(const PipelineId& pipeline, std::shared_ptr<Consumer> next) {
    (void)pipeline;
    (void)next;
  }
  // Called once every pipeline is connected: an error if the connector's own config names
  // pipelines that do not receive from it.
  virtual absl::Status check_connections() const { return absl::OkStatus(); }
};

class ConnectorFactory : public Factory {
 public:
  virtual absl::StatusOr<std::shared_ptr<Connector>> create(const ComponentId& id,
                                                            const ConfigNode& config,
                                                            Host& host) const = 0;
};

// An extension offers something to components (storage for sending queues, ...) rather than
// handling data. The ones listed in service::extensions are built before every component (which
// find them with Host::extension) and started before them; they shut down after them.
class ExtensionFactory : public Factory {
 public:
  bool supports(otlp::Signal) const override { return false; }
  virtual absl::StatusOr<std::shared_ptr<Component>> create(const ComponentId& id,
                                                            const ConfigNode& config,
                                                            Host& host) const = 0;
};

// Every factory the executable knows, by kind.
struct Factories {
  std::vector<std::unique_ptr<ReceiverFactory>> receivers;
  std::vector<std::unique_ptr<ProcessorFactory>> processors;
  std::vector<std::unique_ptr<ExporterFactory>> exporters;
  std::vector<std::unique_ptr<ConnectorFactory>> connectors;
  std::vector<std::unique_ptr<ExtensionFactory>> extensions;

  const ReceiverFactory* receiver(std::string_view type) const;
  const ProcessorFactory* processor(std::string_view type) const;
  const ExporterFactory* exporter(std::string_view type) const;
  const ConnectorFactory* connector(std::string_view type) const;
  const ExtensionFactory* extension(std::string_view type) const;
  // An error naming the first type that appears twice.
  absl::Status check_unique() const;
};

}  // namespace pipeline
