#pragma once
// internal: the loader's own YAML tree. yaml-cpp parses a file; we copy its document into this
// tree at once so that every value remembers its file (yaml-cpp's marks know only line and
// column, and files are merged), and so that no yaml-cpp type or exception leaves this layer.
//
// Contract:
//  - parse_yaml() never throws: YAML syntax errors, several documents in one text, map keys
//    that are not text, duplicate keys, documents with more than a million values or nested
//    more than 128 levels come back as InvalidArgument with "file:line:column". Aliases are
//    copied, so the tree is a tree (no shared nodes; an alias inside its own anchor is an
//    error).
//  - merge_yaml() folds a later source into an earlier one: maps merge key by key, anything
//    else in the later source replaces the earlier value — except that an empty (null) value
//    over a map keeps the map, because an empty value means "an empty map" in this format.
//  - set_yaml_path() is merge_yaml() of {path[0]: {path[1]: ... value}}: missing or non-map
//    levels become maps, the final value replaces or merges as above.
//  - expand_env_in_tree() expands ${...} in every scalar value (never in keys); see
//    env_expansion.h. A plain (unquoted, untagged) scalar that is exactly one reference is
//    read again as YAML: null, list and map results replace the scalar and keep the expanded
//    text in `source_text` for string accessors; other results stay text.
//  - Trees are built and changed by one thread during loading, then shared read-only
//    (YamlValuePtr is a shared_ptr so ConfigNode views can outlive the Config they came from).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/config/env_expansion.h"
#include "pipeline/config/source_location.h"

namespace pipeline::internal {

struct YamlValue;
using YamlValuePtr = std::shared_ptr<YamlValue>;

enum class YamlKind { kNull, kScalar, kSequence, kMap };

struct YamlEntry {
  std::string key;
  SourceLocation key_where;
  YamlValuePtr value;  // never null
};

struct YamlValue {
  YamlKind kind = YamlKind::kNull;
  std::string scalar;  // kScalar: the text (after expansion)
  bool plain = false;  // kScalar: written without quotes or tag, so YAML may retype it
  // Set when this value is the YAML reading of an expanded ${...}: the expanded text, which
  // string accessors return so that a secret like "a: b" stays a string where one is wanted.
  std::optional<std::string> source_text;
  std::vector<YamlValuePtr> items;  // kSequence
  std::vector<YamlEntry> entries;   // kMap, in source order; keys are unique
  SourceLocation where;

  const YamlEntry* find(std::string_view key) const;
  YamlEntry* find(std::string_view key);
};

YamlValuePtr make_null(SourceLocation where);
YamlValuePtr make_map(SourceLocation where);

// "a map", "a list", "nothing", or the scalar quoted: used as "got ..." in messages.
std::string describe(const YamlValue& value);

// `source` names the text in locations. With `positions` false (a --set value) locations get
// no line or column: positions inside a command-line snippet would only confuse.
absl::StatusOr<YamlValuePtr> parse_yaml(std::string_view text, const std::string& source,
                                        bool positions = true);

void merge_yaml(YamlValuePtr& base, const YamlValuePtr& overlay);

void set_yaml_path(YamlValuePtr& root, const std::vector<std::string>& path,
                   const YamlValuePtr& value);

// Expands every scalar below `root`, whose key path is `path` ("" for the document). Unset
// variables are reported in `warnings`; errors name the path and location of the value.
absl::Status expand_env_in_tree(YamlValuePtr& root, const std::string& path, const EnvLookup& env,
                                std::vector<std::string>* warnings);

// Key paths in the Collector's notation: "receivers::otlp", and "actions[2]" for list items.
std::string child_path(std::string_view parent, std::string_view key);
std::string item_path(std::string_view parent, size_t index);

// "path: message (file:line:column)" — or "message (...)" at the top of the document.
std::string located_message(std::string_view path, std::string_view message,
                            const SourceLocation& where);

}  // namespace pipeline::internal
