#include "pipeline/config/internal/yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <exception>

#include "absl/status/status.h"
#include "pipeline/config/internal/strings.h"

namespace pipeline::internal {
namespace {

// A config has hundreds of values; a document with millions is an alias bomb ("billion
// laughs") or not a config at all. Refusing it keeps a bad file from exhausting memory.
constexpr size_t kMaxValues = 1000000;

// Configs nest a few levels deep. The bound keeps the recursive copy off the end of the stack:
// yaml-cpp accepts deeper documents, and an alias inside its own anchor (`a: &x [*x]`) is a
// cycle that would never end.
constexpr int kMaxDepth = 128;

// Longest scalar quoted in a "got ..." message.
constexpr size_t kMaxQuotedScalar = 80;

// Copies a yaml-cpp document into YamlValues. Throws nothing itself, but yaml-cpp's accessors
// may; parse_yaml() catches at the boundary.
class Converter {
 public:
  Converter(const std::string& source, bool positions) : source_(source), positions_(positions) {}

  absl::StatusOr<YamlValuePtr> convert(const YAML::Node& node, const SourceLocation* fallback,
                                       int depth = 0) {
    if (depth > kMaxDepth) {
      return absl::InvalidArgumentError(cat("values are nested more than ", kMaxDepth,
                                            " levels deep (an alias inside its own anchor?)",
                                            location_suffix(at(node))));
    }
    if (++count_ > kMaxValues) {
      return absl::InvalidArgumentError(cat("the document has more than ", kMaxValues,
                                            " values (an alias expanding too far?)",
                                            location_suffix(at(node))));
    }
    auto value = std::make_shared<YamlValue>();
    value->where = at(node);
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        value->kind = YamlKind::kNull;
        // yaml-cpp marks an empty value ("key:") at the next token, often a later line; the
        // key is where the user looks.
        if (fallback != nullptr) value->where = *fallback;
        break;
      case YAML::NodeType::Scalar:
        value->kind = YamlKind::kScalar;
        value->scalar = node.Scalar();
        value->plain = node.Tag() == "?";
        break;
      case YAML::NodeType::Sequence:
        value->kind = YamlKind::kSequence;
        for (const YAML::Node& item : node) {
          absl::StatusOr<YamlValuePtr> converted = convert(item, &value->where, depth + 1);
          if (!converted.ok()) return converted.status();
          value->items.push_back(*std::move(converted));
        }
        break;
      case YAML::NodeType::Map:
        value->kind = YamlKind::kMap;
        for (const auto& pair : node) {
          absl::Status s = add_entry(pair.first, pair.second, *value, depth + 1);
          if (!s.ok()) return s;
        }
        break;
    }
    return value;
  }

 private:
  absl::Status add_entry(const YAML::Node& key, const YAML::Node& node, YamlValue& map, int depth) {
    SourceLocation key_where = at(key);
    if (!key.IsScalar()) {
      return absl::InvalidArgumentError(
          cat(key.IsNull() ? "a map key is missing" : "map keys must be text, not a list or a map",
              location_suffix(key_where)));
    }
    if (const YamlEntry* first = map.find(key.Scalar())) {
      return absl::InvalidArgumentError(cat("duplicate key \"", key.Scalar(), "\"",
                                            location_suffix(key_where), "; first defined at ",
                                            first->key_where.str()));
    }
    absl::StatusOr<YamlValuePtr> value = convert(node, &key_where, depth);
    if (!value.ok()) return value.status();
    map.entries.push_back(YamlEntry{key.Scalar(), std::move(key_where), *std::move(value)});
    return absl::OkStatus();
  }

  SourceLocation at(const YAML::Node& node) const {
    SourceLocation where{source_, 0, 0};
    const YAML::Mark mark = node.Mark();
    if (positions_ && !mark.is_null() && mark.line >= 0) {
      where.line = mark.line + 1;
      where.column = mark.column + 1;
    }
    return where;
  }

  const std::string& source_;
  bool positions_;
  size_t count_ = 0;
};

absl::StatusOr<YamlValuePtr> parse_yaml_or_throw(std::string_view text, const std::string& source,
                                                 bool positions) {
  std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
  SourceLocation start{source, positions ? 1 : 0, positions ? 1 : 0};
  if (documents.empty()) return make_null(start);
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(cat("a config holds one YAML document, this one has ",
                                          documents.size(),
                                          location_suffix(SourceLocation{source, 0, 0})));
  }
  Converter converter(source, positions);
  absl::StatusOr<YamlValuePtr> root = converter.convert(documents.front(), &start);
  if (root.ok() && (*root)->kind == YamlKind::kMap) (*root)->where = start;
  return root;
}

void set_where_recursively(YamlValue& value, const SourceLocation& where) {
  value.where = where;
  for (YamlValuePtr& item : value.items) set_where_recursively(*item, where);
  for (YamlEntry& entry : value.entries) {
    entry.key_where = where;
    set_where_recursively(*entry.value, where);
  }
}

// The YAML reading of an expanded whole-value reference, or nullptr to keep it as text.
YamlValuePtr retype(const YamlValue& scalar, const std::string& expanded) {
  absl::StatusOr<YamlValuePtr> parsed = parse_yaml(expanded, scalar.where.file, false);
  if (!parsed.ok() || (*parsed)->kind == YamlKind::kScalar) return nullptr;
  set_where_recursively(**parsed, scalar.where);
  if ((*parsed)->kind != YamlKind::kNull) (*parsed)->source_text = expanded;
  return *parsed;
}

absl::Status expand_scalar(YamlValuePtr& value, const std::string& path, const EnvLookup& env,
                           std::vector<std::string>* warnings) {
  absl::StatusOr<ExpandedText> expanded = expand_env_refs(value->scalar, env);
  if (!expanded.ok()) {
    return absl::InvalidArgumentError(
        located_message(path, sv(expanded.status().message()), value->where));
  }
  for (const std::string& name : expanded->unset_variables) {
    warnings->push_back(located_message(
        path, cat("environment variable \"", name, "\" is not set; using \"\""), value->where));
  }
  if (expanded->whole_value && value->plain) {
    if (YamlValuePtr typed = retype(*value, expanded->text)) {
      value = std::move(typed);
      return absl::OkStatus();
    }
  }
  value->scalar = std::move(expanded->text);
  return absl::OkStatus();
}

}  // namespace

const YamlEntry* YamlValue::find(std::string_view key) const {
  for (const YamlEntry& entry : entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

YamlEntry* YamlValue::find(std::string_view key) {
  for (YamlEntry& entry : entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

YamlValuePtr make_null(SourceLocation where) {
  auto value = std::make_shared<YamlValue>();
  value->where = std::move(where);
  return value;
}

YamlValuePtr make_map(SourceLocation where) {
  YamlValuePtr value = make_null(std::move(where));
  value->kind = YamlKind::kMap;
  return value;
}

std::string describe(const YamlValue& value) {
  switch (value.kind) {
    case YamlKind::kNull:
      return "nothing";
    case YamlKind::kSequence:
      return "a list";
    case YamlKind::kMap:
      return "a map";
    case YamlKind::kScalar:
      break;
  }
  if (value.scalar.size() > kMaxQuotedScalar) {
    return cat("\"", value.scalar.substr(0, kMaxQuotedScalar), "...\"");
  }
  return cat("\"", value.scalar, "\"");
}

absl::StatusOr<YamlValuePtr> parse_yaml(std::string_view text, const std::string& source,
                                        bool positions) {
  // yaml-cpp reports every problem by exception; none may leave this function.
  try {
    return parse_yaml_or_throw(text, source, positions);
  } catch (const YAML::Exception& e) {
    SourceLocation where{source, 0, 0};
    if (positions && !e.mark.is_null()) {
      where.line = e.mark.line + 1;
      where.column = e.mark.column + 1;
    }
    return absl::InvalidArgumentError(cat("invalid YAML: ", e.msg, location_suffix(where)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        cat("invalid YAML: ", e.what(), location_suffix(SourceLocation{source, 0, 0})));
  }
}

void merge_yaml(YamlValuePtr& base, const YamlValuePtr& overlay) {
  if (overlay->kind == YamlKind::kNull && base->kind == YamlKind::kMap) return;
  if (base->kind != YamlKind::kMap || overlay->kind != YamlKind::kMap) {
    base = overlay;
    return;
  }
  for (const YamlEntry& entry : overlay->entries) {
    if (YamlEntry* existing = base->find(entry.key)) {
      merge_yaml(existing->value, entry.value);
    } else {
      base->entries.push_back(entry);
    }
  }
}

void set_yaml_path(YamlValuePtr& root, const std::vector<std::string>& path,
                   const YamlValuePtr& value) {
  YamlValuePtr overlay = value;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    YamlValuePtr level = make_map(value->where);
    level->entries.push_back(YamlEntry{*it, value->where, std::move(overlay)});
    overlay = std::move(level);
  }
  merge_yaml(root, overlay);
}

absl::Status expand_env_in_tree(YamlValuePtr& root, const std::string& path, const EnvLookup& env,
                                std::vector<std::string>* warnings) {
  switch (root->kind) {
    case YamlKind::kNull:
      return absl::OkStatus();
    case YamlKind::kScalar:
      return expand_scalar(root, path, env, warnings);
    case YamlKind::kSequence:
      for (size_t i = 0; i < root->items.size(); ++i) {
        absl::Status s = expand_env_in_tree(root->items[i], item_path(path, i), env, warnings);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    case YamlKind::kMap:
      for (YamlEntry& entry : root->entries) {
        absl::Status s =
            expand_env_in_tree(entry.value, child_path(path, entry.key), env, warnings);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return cat(parent, "::", key);
}

std::string item_path(std::string_view parent, size_t index) {
  return cat(parent, "[", index, "]");
}

std::string located_message(std::string_view path, std::string_view message,
                            const SourceLocation& where) {
  if (path.empty()) return cat(message, location_suffix(where));
  return cat(path, ": ", message, location_suffix(where));
}

}  // namespace pipeline::internal
