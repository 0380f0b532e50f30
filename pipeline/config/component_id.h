#pragma once
// Component and pipeline identifiers of the OpenTelemetry Collector's config format.
//
// ComponentId is `type[/name]`: `otlp`, `otlp/2`, `batch/traces`. The type selects a factory
// (checked later by the engine against its component list); the name tells several instances
// of one type apart. PipelineId is `signal[/name]`: `traces`, `traces/2`, `logs/audit`.
//
// Contract:
//  - parse() accepts exactly the Collector's syntax: the type matches [a-zA-Z][a-zA-Z0-9_]*;
//    the optional name after the first "/" is non-empty, does not start or end with
//    whitespace and has no control characters (anything else, even "/" or spaces inside, is
//    allowed). Untrusted text gets an InvalidArgument status naming the rule it broke.
//  - The (type, name) constructors are for ids written in code (factories, tests); passing an
//    invalid type or name there is a programming error and aborts with a message.
//  - Equality, ordering (type, then name) and hashing look at type and name only. where() is
//    the place in the config the id was read from — a definition under `receivers:` or a
//    reference in a pipeline list — kept for messages; it never changes what an id means.
//  - Plain value types: copy freely, use from any thread.

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "otlp/signal_enum.h"
#include "pipeline/config/source_location.h"

namespace pipeline {

class ComponentId {
 public:
  ComponentId() = default;  // the empty id; only useful as a placeholder
  explicit ComponentId(std::string_view type, std::string_view name = {});

  static absl::StatusOr<ComponentId> parse(std::string_view text, SourceLocation where = {});

  const std::string& type() const { return type_; }
  const std::string& name() const { return name_; }  // "" when the id has no name
  std::string str() const;                           // "otlp" or "otlp/2"
  const SourceLocation& where() const { return where_; }

  friend bool operator==(const ComponentId& a, const ComponentId& b) {
    return a.type_ == b.type_ && a.name_ == b.name_;
  }
  friend std::strong_ordering operator<=>(const ComponentId& a, const ComponentId& b) {
    if (auto c = a.type_ <=> b.type_; c != 0) return c;
    return a.name_ <=> b.name_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ComponentId& id) {
    return H::combine(std::move(h), id.type_, id.name_);
  }

 private:
  std::string type_;
  std::string name_;
  SourceLocation where_;
};

// A pipeline carries one otlp::Signal (otlp/signal_enum.h, free of protobuf): the config
// and the data path name signals with the same enum.
class PipelineId {
 public:
  PipelineId() = default;  // "traces"
  explicit PipelineId(otlp::Signal signal, std::string_view name = {});

  static absl::StatusOr<PipelineId> parse(std::string_view text, SourceLocation where = {});

  otlp::Signal signal() const { return signal_; }
  const std::string& name() const { return name_; }
  std::string str() const;  // "traces" or "traces/2"
  const SourceLocation& where() const { return where_; }

  friend bool operator==(const PipelineId& a, const PipelineId& b) {
    return a.signal_ == b.signal_ && a.name_ == b.name_;
  }
  friend std::strong_ordering operator<=>(const PipelineId& a, const PipelineId& b) {
    if (auto c = a.signal_ <=> b.signal_; c != 0) return c;
    return a.name_ <=> b.name_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const PipelineId& id) {
    return H::combine(std::move(h), id.signal_, id.name_);
  }

 private:
  otlp::Signal signal_ = otlp::Signal::kTraces;
  std::string name_;
  SourceLocation where_;
};

// The five sections of the config that define components.
enum class ComponentKind { kReceiver, kProcessor, kExporter, kConnector, kExtension };

inline constexpr ComponentKind kAllComponentKinds[] = {
    ComponentKind::kReceiver, ComponentKind::kProcessor, ComponentKind::kExporter,
    ComponentKind::kConnector, ComponentKind::kExtension};

std::string_view component_kind_name(ComponentKind kind);  // "receiver", ...
std::string_view section_name(ComponentKind kind);         // "receivers", ...

}  // namespace pipeline

template <>
struct std::hash<pipeline::ComponentId> {
  std::size_t operator()(const pipeline::ComponentId& id) const;
};

template <>
struct std::hash<pipeline::PipelineId> {
  std::size_t operator()(const pipeline::PipelineId& id) const;
};
