#include "pipeline/config/config_node.h"

#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "pipeline/config/byte_size.h"
#include "pipeline/config/duration.h"
#include "pipeline/config/internal/spelling.h"
#include "pipeline/config/internal/strings.h"
#include "pipeline/config/internal/yaml_tree.h"

namespace pipeline {

using internal::append;
using internal::cat;

using internal::child_path;
using internal::describe;
using internal::item_path;
using internal::located_message;
using internal::YamlEntry;
using internal::YamlKind;
using internal::YamlValue;

// What a parser has read of one node, and of the children and list items it took from it.
struct ConfigNode::ReadLog {
  std::set<std::string, std::less<>> requested;  // every key asked for, present or not
  std::map<std::string, std::shared_ptr<ReadLog>, std::less<>> children;
  std::map<std::string, std::vector<std::shared_ptr<ReadLog>>, std::less<>> items;
};

namespace {

const std::shared_ptr<const YamlValue>& null_value() {
  static const auto* value = new std::shared_ptr<const YamlValue>(std::make_shared<YamlValue>());
  return *value;
}

// The text a string accessor sees: the expanded text for a value that came from ${...}.
const std::string& text_of(const YamlValue& value) {
  return value.source_text ? *value.source_text : value.scalar;
}

// A key that was asked for but is absent and looks like `unknown`, or "".
std::string suggestion(std::string_view unknown, const YamlValue& map,
                       const std::set<std::string, std::less<>>& requested) {
  std::vector<std::string> candidates;
  for (const std::string& key : requested) {
    if (map.find(key) == nullptr) candidates.push_back(key);
  }
  return internal::closest_spelling(unknown, candidates);
}

// Walks `value` alongside what was read of it (a ConfigNode::ReadLog, private, hence the
// template); one message per unread key.
template <typename Log>
void collect_unknown_keys(const YamlValue& value, const std::string& path, const Log& log,
                          std::vector<std::string>* out) {
  if (value.kind == YamlKind::kNull) return;
  if (value.kind != YamlKind::kMap) {
    out->push_back(located_message(path, cat("expected a map of settings, got ", describe(value)),
                                   value.where));
    return;
  }
  for (const YamlEntry& entry : value.entries) {
    if (!log.requested.contains(entry.key)) {
      std::string message =
          located_message(path, cat("unknown key \"", entry.key, "\""), entry.key_where);
      if (std::string hint = suggestion(entry.key, value, log.requested); !hint.empty()) {
        append(&message, "; did you mean \"", hint, "\"?");
      }
      out->push_back(std::move(message));
      continue;
    }
    std::string entry_path = child_path(path, entry.key);
    if (auto child = log.children.find(entry.key); child != log.children.end()) {
      collect_unknown_keys(*entry.value, entry_path, *child->second, out);
    }
    if (auto items = log.items.find(entry.key);
        items != log.items.end() && entry.value->kind == YamlKind::kSequence) {
      for (size_t i = 0; i < items->second.size() && i < entry.value->items.size(); ++i) {
        collect_unknown_keys(*entry.value->items[i], item_path(entry_path, i), *items->second[i],
                             out);
      }
    }
  }
}

}  // namespace

ConfigNode::ConfigNode() : ConfigNode(null_value(), "", SourceLocation{}, nullptr) {}

ConfigNode::ConfigNode(std::shared_ptr<const YamlValue> value, std::string path,
                       SourceLocation where, std::shared_ptr<ReadLog> log)
    : value_(std::move(value)),
      path_(std::move(path)),
      where_(std::move(where)),
      log_(log ? std::move(log) : std::make_shared<ReadLog>()) {}

absl::StatusOr<ConfigNode> ConfigNode::parse(std::string_view yaml, std::string_view path,
                                             std::string_view source) {
  absl::StatusOr<internal::YamlValuePtr> tree = internal::parse_yaml(yaml, std::string(source));
  if (!tree.ok()) return tree.status();
  return internal::make_config_node(*std::move(tree), std::string(path));
}

bool ConfigNode::empty() const {
  return value_->kind == YamlKind::kNull ||
         (value_->kind == YamlKind::kMap && value_->entries.empty());
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> keys;
  for (const YamlEntry& entry : value_->entries) keys.push_back(entry.key);
  return keys;
}

bool ConfigNode::has(std::string_view key) const { return value_->find(key) != nullptr; }

ConfigNode ConfigNode::child(std::string_view key) const {
  log_->requested.emplace(key);
  std::shared_ptr<ReadLog>& child_log = log_->children[std::string(key)];
  if (!child_log) child_log = std::make_shared<ReadLog>();
  const YamlEntry* entry = value_->find(key);
  if (entry == nullptr) return ConfigNode(null_value(), child_path(path_, key), where_, child_log);
  return ConfigNode(entry->value, child_path(path_, key), entry->value->where, child_log);
}

absl::StatusOr<std::vector<ConfigNode>> ConfigNode::list(std::string_view key) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok()) return value.status();
  std::vector<ConfigNode> nodes;
  if (*value == nullptr) return nodes;
  if ((*value)->kind != YamlKind::kSequence) return type_error(key, **value, "a list");
  std::vector<std::shared_ptr<ReadLog>>& logs = log_->items[std::string(key)];
  const std::vector<internal::YamlValuePtr>& items = (*value)->items;
  while (logs.size() < items.size()) logs.push_back(std::make_shared<ReadLog>());
  std::string path = child_path(path_, key);
  for (size_t i = 0; i < items.size(); ++i) {
    nodes.push_back(ConfigNode(items[i], item_path(path, i), items[i]->where, logs[i]));
  }
  return nodes;
}

absl::StatusOr<const YamlValue*> ConfigNode::lookup(std::string_view key) const {
  log_->requested.emplace(key);
  if (value_->kind == YamlKind::kNull) return nullptr;
  if (value_->kind != YamlKind::kMap) {
    return error(cat("expected a map of settings, got ", describe(*value_)));
  }
  const YamlEntry* entry = value_->find(key);
  if (entry == nullptr || entry->value->kind == YamlKind::kNull) return nullptr;
  return entry->value.get();
}

absl::StatusOr<const YamlValue*> ConfigNode::scalar(std::string_view key,
                                                    std::string_view expected) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok() || *value == nullptr) return value;
  if ((*value)->kind != YamlKind::kScalar) return type_error(key, **value, expected);
  return value;
}

absl::Status ConfigNode::type_error(std::string_view key, const YamlValue& value,
                                    std::string_view expected) const {
  return absl::InvalidArgumentError(located_message(
      child_path(path_, key), cat("expected ", expected, ", got ", describe(value)), value.where));
}

absl::StatusOr<std::string> ConfigNode::string(std::string_view key,
                                               std::string_view default_value) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok()) return value.status();
  if (*value == nullptr) return std::string(default_value);
  if ((*value)->kind != YamlKind::kScalar && !(*value)->source_text) {
    return type_error(key, **value, "a string");
  }
  return text_of(**value);
}

absl::StatusOr<int64_t> ConfigNode::int64(std::string_view key, int64_t default_value) const {
  constexpr std::string_view kExpected = "an integer";
  absl::StatusOr<const YamlValue*> value = scalar(key, kExpected);
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  int64_t result = 0;
  if (!absl::SimpleAtoi((*value)->scalar, &result)) return type_error(key, **value, kExpected);
  return result;
}

absl::StatusOr<uint64_t> ConfigNode::uint64(std::string_view key, uint64_t default_value) const {
  constexpr std::string_view kExpected = "an unsigned integer";
  absl::StatusOr<const YamlValue*> value = scalar(key, kExpected);
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  uint64_t result = 0;
  std::string_view text = internal::sv(absl::StripAsciiWhitespace((*value)->scalar));
  if (text.empty() || text[0] == '-' || !absl::SimpleAtoi(internal::av(text), &result)) {
    return type_error(key, **value, kExpected);
  }
  return result;
}

absl::StatusOr<double> ConfigNode::float64(std::string_view key, double default_value) const {
  constexpr std::string_view kExpected = "a number";
  absl::StatusOr<const YamlValue*> value = scalar(key, kExpected);
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  double result = 0;
  if (!absl::SimpleAtod((*value)->scalar, &result) || !std::isfinite(result)) {
    return type_error(key, **value, kExpected);
  }
  return result;
}

absl::StatusOr<bool> ConfigNode::boolean(std::string_view key, bool default_value) const {
  constexpr std::string_view kExpected = "true or false";
  absl::StatusOr<const YamlValue*> value = scalar(key, kExpected);
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  // YAML 1.2's booleans, as the Collector's YAML library reads them; "yes"/"on" are not.
  const std::string& text = (*value)->scalar;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return type_error(key, **value, kExpected);
}

absl::StatusOr<std::chrono::nanoseconds> ConfigNode::duration(
    std::string_view key, std::chrono::nanoseconds default_value) const {
  absl::StatusOr<const YamlValue*> value = scalar(key, "a duration");
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  absl::StatusOr<std::chrono::nanoseconds> parsed = parse_duration((*value)->scalar);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(located_message(
        child_path(path_, key), internal::sv(parsed.status().message()), (*value)->where));
  }
  return parsed;
}

absl::StatusOr<uint64_t> ConfigNode::bytes(std::string_view key, uint64_t default_value) const {
  absl::StatusOr<const YamlValue*> value = scalar(key, "a byte size");
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  absl::StatusOr<uint64_t> parsed = parse_byte_size((*value)->scalar);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(located_message(
        child_path(path_, key), internal::sv(parsed.status().message()), (*value)->where));
  }
  return parsed;
}

absl::StatusOr<uint64_t> ConfigNode::mib(std::string_view key, uint64_t default_mib) const {
  absl::StatusOr<uint64_t> count = uint64(key, default_mib);
  if (!count.ok()) return count.status();
  absl::StatusOr<uint64_t> bytes = mib_to_bytes(*count);
  if (!bytes.ok()) return error_at(key, internal::sv(bytes.status().message()));
  return bytes;
}

absl::StatusOr<std::vector<std::string>> ConfigNode::string_list(
    std::string_view key, std::vector<std::string> default_value) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok()) return value.status();
  if (*value == nullptr) return default_value;
  if ((*value)->kind == YamlKind::kScalar) return std::vector<std::string>{(*value)->scalar};
  if ((*value)->kind != YamlKind::kSequence) return type_error(key, **value, "a list of strings");
  std::vector<std::string> result;
  std::string path = child_path(path_, key);
  for (size_t i = 0; i < (*value)->items.size(); ++i) {
    const YamlValue& item = *(*value)->items[i];
    if (item.kind != YamlKind::kScalar) {
      return absl::InvalidArgumentError(located_message(
          item_path(path, i), cat("expected a string, got ", describe(item)), item.where));
    }
    result.push_back(item.scalar);
  }
  return result;
}

absl::StatusOr<std::vector<std::vector<std::string>>> ConfigNode::string_lists(
    std::string_view key) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok()) return value.status();
  std::vector<std::vector<std::string>> result;
  if (*value == nullptr) return result;
  if ((*value)->kind != YamlKind::kSequence) {
    return type_error(key, **value, "a list of lists of strings");
  }
  const std::string path = child_path(path_, key);
  for (size_t i = 0; i < (*value)->items.size(); ++i) {
    const YamlValue& list = *(*value)->items[i];
    std::vector<std::string> inner;
    if (list.kind == YamlKind::kScalar) {
      inner.push_back(list.scalar);
    } else if (list.kind == YamlKind::kSequence) {
      for (size_t j = 0; j < list.items.size(); ++j) {
        const YamlValue& item = *list.items[j];
        if (item.kind != YamlKind::kScalar) {
          return absl::InvalidArgumentError(
              located_message(item_path(item_path(path, i), j),
                              cat("expected a string, got ", describe(item)), item.where));
        }
        inner.push_back(item.scalar);
      }
    } else {
      return absl::InvalidArgumentError(located_message(
          item_path(path, i), cat("expected a list of strings, got ", describe(list)), list.where));
    }
    result.push_back(std::move(inner));
  }
  return result;
}

absl::StatusOr<std::map<std::string, std::string>> ConfigNode::string_map(
    std::string_view key) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok()) return value.status();
  std::map<std::string, std::string> result;
  if (*value == nullptr) return result;
  if ((*value)->kind != YamlKind::kMap) return type_error(key, **value, "a map of strings");
  std::string path = child_path(path_, key);
  for (const YamlEntry& entry : (*value)->entries) {
    const YamlValue& item = *entry.value;
    if (item.kind == YamlKind::kNull) {
      result[entry.key] = "";
    } else if (item.kind == YamlKind::kScalar) {
      result[entry.key] = item.scalar;
    } else {
      return absl::InvalidArgumentError(located_message(
          child_path(path, entry.key), cat("expected a string, got ", describe(item)), item.where));
    }
  }
  return result;
}

absl::Status ConfigNode::require(std::string_view key) const {
  absl::StatusOr<const YamlValue*> value = lookup(key);
  if (!value.ok()) return value.status();
  if (*value != nullptr) return absl::OkStatus();
  return error(cat("missing required key \"", key, "\""));
}

void ConfigNode::mark_used(std::string_view key) const { log_->requested.emplace(key); }

absl::Status ConfigNode::check_no_unknown_keys() const {
  std::vector<std::string> messages;
  collect_unknown_keys(*value_, path_, *log_, &messages);
  if (messages.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(messages, "\n"));
}

absl::Status ConfigNode::error(std::string_view message) const {
  return absl::InvalidArgumentError(located_message(path_, message, where_));
}

absl::Status ConfigNode::error_at(std::string_view key, std::string_view message) const {
  const YamlEntry* entry = value_->find(key);
  return absl::InvalidArgumentError(located_message(
      child_path(path_, key), message, entry != nullptr ? entry->value->where : where_));
}

namespace internal {

ConfigNode make_config_node(std::shared_ptr<const YamlValue> value, std::string path) {
  SourceLocation where = value->where;
  return ConfigNode(std::move(value), std::move(path), std::move(where), nullptr);
}

}  // namespace internal
}  // namespace pipeline
