#include "pipeline/config/internal/config_decoder.h"

#include <cstddef>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "pipeline/config/internal/spelling.h"
#include "pipeline/config/internal/strings.h"

namespace pipeline::internal {
namespace {

const std::vector<std::string> kTopLevelKeys = {"receivers",  "processors", "exporters",
                                                "connectors", "extensions", "service"};
const std::vector<std::string> kServiceKeys = {"extensions", "pipelines", "telemetry"};
const std::vector<std::string> kPipelineKeys = {"receivers", "processors", "exporters"};
const std::vector<std::string> kTelemetryKeys = {"logs", "metrics"};
const std::vector<std::string> kTelemetryLogsKeys = {"level", "encoding", "initial_fields"};

bool contains(const std::vector<std::string>& list, std::string_view value) {
  for (const std::string& item : list) {
    if (item == value) return true;
  }
  return false;
}

// The pipeline lists, by the kind of component they hold.
struct PipelineList {
  std::string_view key;  // "receivers"
  ComponentKind kind;    // what its ids must be (or a connector, except for processors)
  bool connectors_allowed;
  std::vector<ComponentId> PipelineConfig::*member;
};
constexpr PipelineList kPipelineLists[] = {
    {"receivers", ComponentKind::kReceiver, true, &PipelineConfig::receivers},
    {"processors", ComponentKind::kProcessor, false, &PipelineConfig::processors},
    {"exporters", ComponentKind::kExporter, true, &PipelineConfig::exporters},
};

class ConfigDecoder {
 public:
  explicit ConfigDecoder(const YamlValuePtr& root) : root_(*root) {}

  absl::StatusOr<Config> decode(std::vector<std::string> warnings) {
    config_.warnings = std::move(warnings);
    if (!check_top_level()) return failure();
    for (ComponentKind kind : kAllComponentKinds) decode_section(kind);
    check_ambiguous_ids();
    decode_service();
    if (errors_.empty()) check_connectors();
    if (!errors_.empty()) return failure();
    warn_unused();
    return std::move(config_);
  }

 private:
  // ---- reporting ---------------------------------------------------------------------------

  void fail(std::string_view path, std::string_view message, const SourceLocation& where) {
    errors_.push_back(located_message(path, message, where));
  }

  // A status from ComponentId/PipelineId::parse already ends with the location.
  void fail_with(std::string_view path, const absl::Status& status) {
    errors_.push_back(cat(path, ": ", status.message()));
  }

  void unknown_key(std::string_view path, const YamlEntry& entry,
                   const std::vector<std::string>& known) {
    std::string what = path.empty() ? "unknown top-level key" : "unknown key";
    std::string message = located_message(path, cat(what, " \"", entry.key, "\""), entry.key_where);
    if (std::string hint = closest_spelling(entry.key, known); !hint.empty()) {
      append(&message, "; did you mean \"", hint, "\"?");
    }
    errors_.push_back(std::move(message));
  }

  // Reports keys of `map` not in `known`.
  void check_keys(std::string_view path, const YamlValue& map,
                  const std::vector<std::string>& known) {
    for (const YamlEntry& entry : map.entries) {
      if (!contains(known, entry.key)) unknown_key(path, entry, known);
    }
  }

  absl::Status failure() const { return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n")); }

  // ---- the document and the component sections ---------------------------------------------

  bool check_top_level() {
    if (root_.kind == YamlKind::kNull) return true;  // reported as a missing service
    if (root_.kind != YamlKind::kMap) {
      fail("",
           cat("the configuration must be a map with receivers, exporters and service "
               "sections, got ",
               describe(root_)),
           root_.where);
      return false;
    }
    check_keys("", root_, kTopLevelKeys);
    return true;
  }

  const YamlEntry* top(std::string_view key) const {
    return root_.kind == YamlKind::kMap ? root_.find(key) : nullptr;
  }

  std::map<ComponentId, ConfigNode>& section_of(ComponentKind kind) {
    switch (kind) {
      case ComponentKind::kReceiver:
        return config_.receivers;
      case ComponentKind::kProcessor:
        return config_.processors;
      case ComponentKind::kExporter:
        return config_.exporters;
      case ComponentKind::kConnector:
        return config_.connectors;
      case ComponentKind::kExtension:
        break;
    }
    return config_.extensions;
  }

  void decode_section(ComponentKind kind) {
    std::string_view section = section_name(kind);
    const YamlEntry* entry = top(section);
    if (entry == nullptr || entry->value->kind == YamlKind::kNull) return;
    const YamlValue& map = *entry->value;
    if (map.kind != YamlKind::kMap) {
      fail(section, cat("expected a map of component ids to settings, got ", describe(map)),
           map.where);
      return;
    }
    for (const YamlEntry& component : map.entries) {
      absl::StatusOr<ComponentId> id = ComponentId::parse(component.key, component.key_where);
      if (!id.ok()) {
        fail_with(section, id.status());
        continue;
      }
      std::string path = child_path(section, component.key);
      const YamlValue& settings = *component.value;
      if (settings.kind != YamlKind::kMap && settings.kind != YamlKind::kNull) {
        fail(path, cat("expected a map of settings, got ", describe(settings)), settings.where);
        continue;
      }
      section_of(kind).emplace(*id, make_config_node(component.value, path));
    }
  }

  // A pipeline's receivers may name receivers or connectors, so one id must not be both.
  void check_ambiguous_ids() {
    for (const auto& [id, node] : config_.connectors) {
      for (ComponentKind other : {ComponentKind::kReceiver, ComponentKind::kExporter}) {
        if (!config_.section(other).contains(id)) continue;
        fail(node.path(),
             cat("\"", id.str(), "\" is configured both as a connector and as a",
                 other == ComponentKind::kExporter ? "n " : " ", component_kind_name(other),
                 "; a pipeline could not tell which one is meant"),
             id.where());
      }
    }
  }

  // ---- service ------------------------------------------------------------------------------

  void decode_service() {
    const YamlEntry* service = top("service");
    if (service == nullptr) {
      fail("service", "required section is missing", root_.where);
      return;
    }
    const YamlValue& map = *service->value;
    if (map.kind == YamlKind::kNull) {
      fail("service::pipelines", "at least one pipeline is required", service->key_where);
      return;
    }
    if (map.kind != YamlKind::kMap) {
      fail("service",
           cat("expected a map with pipelines, extensions and telemetry, got ", describe(map)),
           map.where);
      return;
    }
    check_keys("service", map, kServiceKeys);
    decode_service_extensions(map);
    decode_pipelines(map, service->key_where);
    decode_telemetry(map);
  }

  // A list of ids: a YAML list of scalars, a single scalar (a list of one, as the Collector's
  // weak typing allows), or nothing.
  std::vector<ComponentId> decode_id_list(const std::string& path, const YamlValue& value) {
    std::vector<ComponentId> ids;
    std::vector<const YamlValue*> items;
    if (value.kind == YamlKind::kScalar) {
      items.push_back(&value);
    } else if (value.kind == YamlKind::kSequence) {
      for (const YamlValuePtr& item : value.items) items.push_back(item.get());
    } else if (value.kind == YamlKind::kMap) {
      fail(path, "expected a list of component ids, got a map", value.where);
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const YamlValue& item = *items[i];
      if (item.kind != YamlKind::kScalar) {
        fail(item_path(path, i), cat("expected a component id, got ", describe(item)), item.where);
        continue;
      }
      absl::StatusOr<ComponentId> id = ComponentId::parse(item.scalar, item.where);
      if (!id.ok()) {
        fail_with(path, id.status());
        continue;
      }
      ids.push_back(*std::move(id));
    }
    return ids;
  }

  // Reports the second and later mentions of an id in one list.
  void check_duplicates(std::string_view path, const std::vector<ComponentId>& ids,
                        std::string_view kind_word) {
    std::set<ComponentId> seen;
    for (const ComponentId& id : ids) {
      if (!seen.insert(id).second) {
        fail(path, cat("lists ", kind_word, " \"", id.str(), "\" twice"), id.where());
      }
    }
  }

  // "; it is configured under exporters" when `id` exists in a section it was not looked for.
  std::string elsewhere_hint(const ComponentId& id) const {
    for (ComponentKind kind : kAllComponentKinds) {
      if (config_.section(kind).contains(id)) {
        return cat("; it is configured under ", section_name(kind));
      }
    }
    return "";
  }

  void check_reference(std::string_view path, const ComponentId& id, ComponentKind kind,
                       bool connectors_allowed) {
    if (config_.section(kind).contains(id)) return;
    if (connectors_allowed && config_.connectors.contains(id)) return;
    errors_.push_back(cat(located_message(path,
                                          cat("references ", component_kind_name(kind), " \"",
                                              id.str(), "\" which is not configured"),
                                          id.where()),
                          elsewhere_hint(id)));
  }

  void decode_service_extensions(const YamlValue& service) {
    const YamlEntry* entry = service.find("extensions");
    if (entry == nullptr) return;
    const std::string path = "service::extensions";
    config_.service.extensions = decode_id_list(path, *entry->value);
    check_duplicates(path, config_.service.extensions, "extension");
    for (const ComponentId& id : config_.service.extensions) {
      check_reference(path, id, ComponentKind::kExtension, false);
    }
  }

  void decode_pipelines(const YamlValue& service, const SourceLocation& service_where) {
    const std::string path = "service::pipelines";
    const YamlEntry* entry = service.find("pipelines");
    if (entry == nullptr) {
      fail(path, "at least one pipeline is required", service_where);
      return;
    }
    const YamlValue& map = *entry->value;
    if (map.kind == YamlKind::kNull || (map.kind == YamlKind::kMap && map.entries.empty())) {
      fail(path, "at least one pipeline is required", entry->key_where);
      return;
    }
    if (map.kind != YamlKind::kMap) {
      fail(path, cat("expected a map of pipelines, got ", describe(map)), map.where);
      return;
    }
    for (const YamlEntry& pipeline : map.entries) {
      absl::StatusOr<PipelineId> id = PipelineId::parse(pipeline.key, pipeline.key_where);
      if (!id.ok()) {
        fail_with(path, id.status());
        continue;
      }
      decode_pipeline(*id, pipeline);
    }
  }

  void decode_pipeline(const PipelineId& id, const YamlEntry& entry) {
    const std::string path = child_path("service::pipelines", entry.key);
    const YamlValue& map = *entry.value;
    PipelineConfig pipeline;
    pipeline.where = entry.key_where;
    if (map.kind != YamlKind::kMap && map.kind != YamlKind::kNull) {
      fail(path,
           cat("expected a map with receivers, processors and exporters, got ", describe(map)),
           map.where);
      return;
    }
    check_keys(path, map, kPipelineKeys);
    for (const PipelineList& list : kPipelineLists) {
      const YamlEntry* ids = map.find(list.key);
      if (ids == nullptr) continue;
      std::vector<ComponentId>& decoded = pipeline.*list.member;
      decoded = decode_id_list(child_path(path, list.key), *ids->value);
      check_duplicates(path, decoded, component_kind_name(list.kind));
      for (const ComponentId& component : decoded) {
        check_reference(path, component, list.kind, list.connectors_allowed);
      }
    }
    if (pipeline.receivers.empty()) fail(path, "must have at least one receiver", entry.key_where);
    if (pipeline.exporters.empty()) fail(path, "must have at least one exporter", entry.key_where);
    config_.service.pipelines.emplace(id, std::move(pipeline));
  }

  void decode_telemetry(const YamlValue& service) {
    const std::string path = "service::telemetry";
    const YamlEntry* entry = service.find("telemetry");
    if (entry == nullptr || entry->value->kind == YamlKind::kNull) return;
    const YamlValue& map = *entry->value;
    if (map.kind != YamlKind::kMap) {
      fail(path, cat("expected a map with logs and metrics, got ", describe(map)), map.where);
      return;
    }
    check_keys(path, map, kTelemetryKeys);
    if (const YamlEntry* metrics = map.find("metrics")) {
      config_.service.telemetry_metrics =
          make_config_node(metrics->value, child_path(path, "metrics"));
    }
    if (const YamlEntry* logs = map.find("logs")) decode_telemetry_logs(*logs->value);
  }

  void decode_telemetry_logs(const YamlValue& logs) {
    const std::string path = "service::telemetry::logs";
    if (logs.kind == YamlKind::kNull) return;
    if (logs.kind != YamlKind::kMap) {
      fail(path, cat("expected a map with level, got ", describe(logs)), logs.where);
      return;
    }
    check_keys(path, logs, kTelemetryLogsKeys);
    decode_log_encoding(path, logs);
    decode_initial_fields(path, logs);
    const YamlEntry* level = logs.find("level");
    if (level == nullptr || level->value->kind == YamlKind::kNull) return;
    std::string text = level->value->kind == YamlKind::kScalar
                           ? absl::AsciiStrToLower(level->value->scalar)
                           : std::string();
    for (const char* known : kLogLevels) {
      if (text == known) {
        config_.service.log_level = text;
        return;
      }
    }
    fail(child_path(path, "level"),
         cat("expected one of debug, info, warn, error, got ", describe(*level->value)),
         level->value->where);
  }

  void decode_log_encoding(const std::string& path, const YamlValue& logs) {
    const YamlEntry* encoding = logs.find("encoding");
    if (encoding == nullptr || encoding->value->kind == YamlKind::kNull) return;
    const std::string text = encoding->value->kind == YamlKind::kScalar
                                 ? absl::AsciiStrToLower(encoding->value->scalar)
                                 : std::string();
    if (text == "console" || text == "json") {
      config_.service.log_encoding = text;
      return;
    }
    fail(child_path(path, "encoding"),
         cat("expected console or json, got ", describe(*encoding->value)), encoding->value->where);
  }

  void decode_initial_fields(const std::string& path, const YamlValue& logs) {
    const YamlEntry* fields = logs.find("initial_fields");
    if (fields == nullptr || fields->value->kind == YamlKind::kNull) return;
    const std::string fields_path = child_path(path, "initial_fields");
    if (fields->value->kind != YamlKind::kMap) {
      fail(fields_path, cat("expected a map of names to values, got ", describe(*fields->value)),
           fields->value->where);
      return;
    }
    for (const YamlEntry& field : fields->value->entries) {
      if (field.value->kind != YamlKind::kScalar) {
        fail(child_path(fields_path, field.key),
             cat("expected a value, got ", describe(*field.value)), field.value->where);
        continue;
      }
      config_.service.log_initial_fields.emplace_back(field.key, field.value->scalar);
    }
  }

  // ---- the pipeline graph ---------------------------------------------------------------------

  // Every connector in use joins pipelines: it must be an exporter of one and a receiver of
  // another, or data would enter it and go nowhere (or never arrive).
  void check_connectors() {
    for (const auto& [connector, node] : config_.connectors) {
      const PipelineId* as_exporter = nullptr;
      const PipelineId* as_receiver = nullptr;
      for (const auto& [pipeline_id, pipeline] : config_.service.pipelines) {
        if (as_exporter == nullptr && lists(pipeline.exporters, connector)) {
          as_exporter = &pipeline_id;
        }
        if (as_receiver == nullptr && lists(pipeline.receivers, connector)) {
          as_receiver = &pipeline_id;
        }
      }
      if (as_exporter != nullptr && as_receiver == nullptr) {
        fail(node.path(),
             cat("used as an exporter in pipeline \"", as_exporter->str(),
                 "\" but not as a receiver in any pipeline"),
             connector.where());
      }
      if (as_receiver != nullptr && as_exporter == nullptr) {
        fail(node.path(),
             cat("used as a receiver in pipeline \"", as_receiver->str(),
                 "\" but not as an exporter in any pipeline"),
             connector.where());
      }
    }
  }

  static bool lists(const std::vector<ComponentId>& ids, const ComponentId& id) {
    for (const ComponentId& item : ids) {
      if (item == id) return true;
    }
    return false;
  }

  // ---- warnings -------------------------------------------------------------------------------

  void warn_unused() {
    std::set<ComponentId> used_receivers, used_processors, used_exporters;
    for (const auto& [id, pipeline] : config_.service.pipelines) {
      used_receivers.insert(pipeline.receivers.begin(), pipeline.receivers.end());
      used_processors.insert(pipeline.processors.begin(), pipeline.processors.end());
      used_exporters.insert(pipeline.exporters.begin(), pipeline.exporters.end());
    }
    auto warn = [&](const std::map<ComponentId, ConfigNode>& section,
                    const std::set<ComponentId>& used, std::string_view what) {
      for (const auto& [id, node] : section) {
        if (!used.contains(id)) {
          config_.warnings.push_back(located_message(node.path(), what, id.where()));
        }
      }
    };
    constexpr std::string_view kUnused = "configured but not used in any pipeline";
    warn(config_.receivers, used_receivers, kUnused);
    warn(config_.processors, used_processors, kUnused);
    warn(config_.exporters, used_exporters, kUnused);
    std::set<ComponentId> used_connectors;
    for (const auto& [id, node] : config_.connectors) {
      if (used_receivers.contains(id) || used_exporters.contains(id)) used_connectors.insert(id);
    }
    warn(config_.connectors, used_connectors, kUnused);
    std::set<ComponentId> enabled(config_.service.extensions.begin(),
                                  config_.service.extensions.end());
    warn(config_.extensions, enabled, "configured but not listed in service::extensions");
  }

  const YamlValue& root_;
  Config config_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<Config> decode_config(const YamlValuePtr& root, std::vector<std::string> warnings) {
  return ConfigDecoder(root).decode(std::move(warnings));
}

}  // namespace pipeline::internal
