#include "pipeline/config/component_id.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "pipeline/config/internal/strings.h"

namespace pipeline {

using internal::append;
using internal::cat;
namespace {

bool valid_type(std::string_view type) {
  if (type.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(type[0]))) return false;
  for (char c : type) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Why a name is invalid, or "" when it is valid.
std::string_view name_problem(std::string_view name) {
  if (name.empty()) return "the name after \"/\" must not be empty";
  if (absl::ascii_isspace(static_cast<unsigned char>(name.front())) ||
      absl::ascii_isspace(static_cast<unsigned char>(name.back()))) {
    return "the name must not start or end with whitespace";
  }
  for (char c : name) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return "the name must not contain control characters";
    }
  }
  return "";
}

absl::Status invalid_id(std::string_view what, std::string_view text, std::string_view why,
                        const SourceLocation& where) {
  return absl::InvalidArgumentError(
      cat("invalid ", what, " \"", text, "\": ", why, location_suffix(where)));
}

[[noreturn]] void die(std::string_view what, std::string_view type, std::string_view name) {
  std::fprintf(stderr, "pipeline: invalid %.*s in code: type \"%.*s\", name \"%.*s\"\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(type.size()),
               type.data(), static_cast<int>(name.size()), name.data());
  std::abort();
}

std::string join_id(std::string_view head, std::string_view name) {
  if (name.empty()) return std::string(head);
  return cat(head, "/", name);
}

}  // namespace

ComponentId::ComponentId(std::string_view type, std::string_view name) : type_(type), name_(name) {
  if (!valid_type(type) || (!name.empty() && !name_problem(name).empty())) {
    die("component id", type, name);
  }
}

absl::StatusOr<ComponentId> ComponentId::parse(std::string_view text, SourceLocation where) {
  if (text.empty()) return invalid_id("component id", text, "it is empty", where);
  std::string_view type = text;
  std::string_view name;
  bool has_name = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    type = text.substr(0, slash);
    name = text.substr(slash + 1);
    has_name = true;
  }
  if (!valid_type(type)) {
    return invalid_id(
        "component id", text,
        "the type must start with a letter and contain only letters, digits and \"_\"", where);
  }
  if (has_name) {
    if (auto problem = name_problem(name); !problem.empty()) {
      return invalid_id("component id", text, problem, where);
    }
  }
  ComponentId id;
  id.type_ = std::string(type);
  id.name_ = std::string(name);
  id.where_ = std::move(where);
  return id;
}

std::string ComponentId::str() const { return join_id(type_, name_); }

PipelineId::PipelineId(otlp::Signal signal, std::string_view name) : signal_(signal), name_(name) {
  if (!name.empty() && !name_problem(name).empty()) {
    die("pipeline id", otlp::signal_name(signal), name);
  }
}

absl::StatusOr<PipelineId> PipelineId::parse(std::string_view text, SourceLocation where) {
  std::string_view head = text;
  std::string_view name;
  bool has_name = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    head = text.substr(0, slash);
    name = text.substr(slash + 1);
    has_name = true;
  }
  const std::optional<otlp::Signal> signal = otlp::parse_signal(head);
  if (!signal) {
    return invalid_id("pipeline id", text,
                      "the signal must be traces, metrics, logs or profiles, optionally "
                      "followed by \"/name\"",
                      where);
  }
  if (has_name) {
    if (auto problem = name_problem(name); !problem.empty()) {
      return invalid_id("pipeline id", text, problem, where);
    }
  }
  PipelineId id(*signal);
  id.name_ = std::string(name);
  id.where_ = std::move(where);
  return id;
}

std::string PipelineId::str() const { return join_id(otlp::signal_name(signal_), name_); }

std::string_view component_kind_name(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kReceiver:
      return "receiver";
    case ComponentKind::kProcessor:
      return "processor";
    case ComponentKind::kExporter:
      return "exporter";
    case ComponentKind::kConnector:
      return "connector";
    case ComponentKind::kExtension:
      return "extension";
  }
  return "component";
}

std::string_view section_name(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kReceiver:
      return "receivers";
    case ComponentKind::kProcessor:
      return "processors";
    case ComponentKind::kExporter:
      return "exporters";
    case ComponentKind::kConnector:
      return "connectors";
    case ComponentKind::kExtension:
      return "extensions";
  }
  return "components";
}

}  // namespace pipeline

std::size_t std::hash<pipeline::ComponentId>::operator()(const pipeline::ComponentId& id) const {
  std::size_t h = std::hash<std::string>()(id.type());
  return h ^ (std::hash<std::string>()(id.name()) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::size_t std::hash<pipeline::PipelineId>::operator()(const pipeline::PipelineId& id) const {
  std::size_t h = static_cast<std::size_t>(id.signal());
  return h ^ (std::hash<std::string>()(id.name()) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}
