#pragma once
// The examples of docs/configuration.md, read for tests: the guide cannot drift from the code.
//
// A fenced ```yaml block preceded by an HTML comment is an example:
//
//   <!-- check: ok [env:NAME=value ...] [set:key=value ...] -->      must load
//   <!-- check: error [env:...] [set:...] -->   must fail to load; the next ```text block is
//                                                the whole message
//   <!-- check: graph-error [env:...] -->        loads, but building the pipelines (the graph,
//                                                with this build's components) fails; the next
//                                                ```text block is the whole message
//   <!-- check: warnings [env:...] [set:...] --> must load; the next ```text block is the
//                                                warnings, one per line
//   <!-- check: files:a.yaml,b.yaml [set:...] --> the next blocks are the files a.yaml and
//                                                b.yaml, loaded together; must load
//
// Single-block examples are loaded as inline YAML named "config.yaml", so the locations in
// their messages read as they would for a file of that name. Values cannot contain spaces.
// Used by pipeline/config/docs_examples_test.cc (loading) and
// components/configuration_guide_test.cc (building the graph).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "pipeline/config/config.h"

namespace pipeline::testing {

struct Example {
  int line = 0;  // of the marker in the guide
  std::string kind;
  std::map<std::string, std::string> env;
  std::vector<std::string> sets;
  std::vector<std::string> file_names;
  std::vector<std::string> yaml_blocks;
  std::string expected_text;
};

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string_view without_indent(std::string_view line) {
  size_t start = line.find_first_not_of(' ');
  return start == std::string_view::npos ? std::string_view() : line.substr(start);
}

// The body of the fenced block of `language` that starts at or after lines[*i]. A block may be
// indented (inside a list item); its indentation is removed from every line.
inline std::string next_block(const std::vector<std::string>& lines, size_t* i,
                              const std::string& language) {
  while (*i < lines.size() && without_indent(lines[*i]) != "```" + language) ++*i;
  if (*i == lines.size()) return "";
  size_t indent = lines[*i].size() - without_indent(lines[*i]).size();
  std::string body;
  for (++*i; *i < lines.size() && without_indent(lines[*i]) != "```"; ++*i) {
    body += lines[*i].substr(std::min(indent, lines[*i].size())) + "\n";
  }
  ++*i;
  return body;
}

inline Example parse_marker(const std::string& marker, int line) {
  Example example;
  example.line = line;
  std::string inner(without_indent(marker).substr(std::string_view("<!-- check: ").size()));
  inner = inner.substr(0, inner.rfind(" -->"));
  std::vector<std::string> words = absl::StrSplit(inner, ' ', absl::SkipEmpty());
  example.kind = words.empty() ? "" : words[0];
  for (size_t w = 0; w < words.size(); ++w) {
    const std::string& word = words[w];
    if (word.rfind("env:", 0) == 0) {
      std::string assignment = word.substr(4);
      size_t eq = assignment.find('=');
      example.env[assignment.substr(0, eq)] = assignment.substr(eq + 1);
    } else if (word.rfind("set:", 0) == 0) {
      example.sets.push_back(word.substr(4));
    } else if (word.rfind("files:", 0) == 0) {
      example.kind = "files";
      example.file_names = absl::StrSplit(word.substr(6), ',');
    }
  }
  return example;
}

inline std::vector<Example> examples(const std::string& guide) {
  std::vector<std::string> lines = read_lines(guide);
  std::vector<Example> found;
  for (size_t i = 0; i < lines.size();) {
    if (!without_indent(lines[i]).starts_with("<!-- check: ")) {
      ++i;
      continue;
    }
    Example example = parse_marker(lines[i], static_cast<int>(i) + 1);
    size_t blocks = example.kind == "files" ? example.file_names.size() : 1;
    for (size_t b = 0; b < blocks; ++b)
      example.yaml_blocks.push_back(next_block(lines, &i, "yaml"));
    if (example.kind == "error" || example.kind == "graph-error" || example.kind == "warnings") {
      example.expected_text = next_block(lines, &i, "text");
    }
    found.push_back(std::move(example));
  }
  return found;
}

inline absl::StatusOr<Config> load(const Example& example) {
  LoadOptions options;
  options.sets = example.sets;
  options.env = [env = example.env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  if (example.kind != "files") {
    options.inline_yaml = example.yaml_blocks.at(0);
    options.inline_name = "config.yaml";
    return load_config(options);
  }
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("otlpd-docs-example-" + std::to_string(example.line));
  std::filesystem::create_directories(dir);
  for (size_t f = 0; f < example.file_names.size(); ++f) {
    std::ofstream(dir / example.file_names[f]) << example.yaml_blocks[f];
    options.files.push_back((dir / example.file_names[f]).string());
  }
  absl::StatusOr<Config> config = load_config(options);
  std::filesystem::remove_all(dir);
  return config;
}

inline std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace pipeline::testing
