#include "pipeline/config/config.h"

#include <cerrno>
#include <cstdio>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "pipeline/config/internal/config_decoder.h"
#include "pipeline/config/internal/strings.h"
#include "pipeline/config/internal/yaml_tree.h"

namespace pipeline {

using internal::append;
using internal::cat;
namespace {

// A config file is a few kilobytes; anything this large is the wrong file.
constexpr size_t kMaxConfigFileBytes = 16 << 20;

using internal::YamlValuePtr;

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return absl::ErrnoToStatus(errno, cat("cannot read config file \"", path, "\""));
  std::string text;
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxConfigFileBytes) {
      return absl::InvalidArgumentError(cat("config file \"", path,
                                            "\" is larger than 16 MiB; is it the "
                                            "right file?"));
    }
  }
  if (std::ferror(file.get())) {
    // e.g. EISDIR: fopen() succeeds on a directory, reading it fails.
    return absl::ErrnoToStatus(errno, cat("cannot read config file \"", path, "\""));
  }
  return text;
}

// Steps 1 and 2: every source parsed, then merged in order.
absl::StatusOr<YamlValuePtr> read_sources(const LoadOptions& options) {
  if (options.inline_yaml && !options.files.empty()) {
    return absl::InvalidArgumentError("LoadOptions: give either files or inline_yaml, not both");
  }
  if (options.inline_yaml) return internal::parse_yaml(*options.inline_yaml, options.inline_name);
  if (options.files.empty()) {
    return absl::InvalidArgumentError("no configuration given: pass at least one --config file");
  }
  YamlValuePtr merged;
  for (const std::string& path : options.files) {
    absl::StatusOr<std::string> text = read_file(path);
    if (!text.ok()) return text.status();
    absl::StatusOr<YamlValuePtr> tree = internal::parse_yaml(*text, path);
    if (!tree.ok()) return tree.status();
    if (merged == nullptr) {
      merged = *std::move(tree);
    } else {
      internal::merge_yaml(merged, *tree);
    }
  }
  return merged;
}

// "processors.batch.timeout=1s" → path and value. "::" separates keys when present, so that
// names containing "." can be reached.
absl::Status apply_set(const std::string& argument, YamlValuePtr& root) {
  size_t equals = argument.find('=');
  if (equals == std::string::npos) {
    return absl::InvalidArgumentError(
        cat("--set \"", argument, "\": expected key.path=value, e.g. processors.batch.timeout=1s"));
  }
  std::string_view key = std::string_view(argument).substr(0, equals);
  std::vector<std::string> path;
  if (key.find("::") != std::string_view::npos) {
    path = absl::StrSplit(internal::av(key), "::");
  } else {
    path = absl::StrSplit(internal::av(key), '.');
  }
  for (const std::string& segment : path) {
    if (segment.empty()) {
      return absl::InvalidArgumentError(
          cat("--set \"", argument, "\": the key path \"", key, "\" has an empty part"));
    }
  }
  absl::StatusOr<YamlValuePtr> value = internal::parse_yaml(
      std::string_view(argument).substr(equals + 1), cat("--set ", argument), false);
  if (!value.ok()) return value.status();
  internal::set_yaml_path(root, path, *value);
  return absl::OkStatus();
}

}  // namespace

const std::map<ComponentId, ConfigNode>& Config::section(ComponentKind kind) const {
  switch (kind) {
    case ComponentKind::kReceiver:
      return receivers;
    case ComponentKind::kProcessor:
      return processors;
    case ComponentKind::kExporter:
      return exporters;
    case ComponentKind::kConnector:
      return connectors;
    case ComponentKind::kExtension:
      break;
  }
  return extensions;
}

absl::StatusOr<Config> load_config(const LoadOptions& options) {
  absl::StatusOr<YamlValuePtr> root = read_sources(options);
  if (!root.ok()) return root.status();
  for (const std::string& set : options.sets) {
    if (absl::Status s = apply_set(set, *root); !s.ok()) return s;
  }
  std::vector<std::string> warnings;
  const EnvLookup env = options.env ? options.env : process_env();
  if (absl::Status s = internal::expand_env_in_tree(*root, "", env, &warnings); !s.ok()) {
    return s;
  }
  return internal::decode_config(*root, std::move(warnings));
}

}  // namespace pipeline
