#pragma once
// pipeline::ConfigNode: a read-only view of one value of the loaded configuration, with the
// typed accessors that component config parsers use.
//
// A node knows its key path in the Collector's notation (`receivers::otlp::protocols::grpc`,
// list items as `actions[0]`) and where it was written (file:line:column), so every message
// can say what is wrong, at which key, and where:
//
//   processors::batch::send_batch_size: expected an unsigned integer, got "lots"
//   (config.yaml:12:22) receivers::otlp::protocols::grpc: unknown key "endpiont" (config.yaml:7:9);
//   did you mean "endpoint"?
//
// Contract:
//  - A node is a map of settings. A null or absent node (`otlp:` with nothing after it, or
//    child() of a missing key) behaves as an empty map: has() is false, keys() is empty and
//    every accessor returns its default. A key with an empty value (`timeout:`) also gives the
//    default.
//  - Accessors take the key of a direct child and return the typed value, the default when the
//    key is absent or empty, or InvalidArgument naming path, expected type, the value and its
//    location. Scalars are read from their text whatever their YAML tag, as the Collector's
//    weakly typed decoding does: `port: "4317"` is a number and `name: 4317` a string.
//  - Every accessor, child() and list() records the key as read; has() and keys() do not.
//    check_no_unknown_keys() then reports every key of this node, and of every child() and
//    list() item taken from it, that nothing read — one line per key, with a suggestion when a
//    key that was asked for but absent is close to it. Call it once a parser has read all it
//    knows; mark_used() accepts a key without reading it (a Collector option we ignore).
//  - Copies of a node share one read record. The record is not synchronized: use a node and
//    its copies from one thread at a time (configs are decoded before anything runs). The
//    values themselves are immutable and shared; a node stays valid after its Config is gone.
//  - Nothing here throws or aborts on bad input.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/config/source_location.h"

namespace pipeline {

class ConfigNode;

namespace internal {
struct YamlValue;
// The node for one value of a loaded tree at key path `path` (the loader's way in).
ConfigNode make_config_node(std::shared_ptr<const YamlValue> value, std::string path);
}  // namespace internal

class ConfigNode {
 public:
  ConfigNode();  // an empty node at the top of nothing: path "", no location

  // A node from YAML text, without env expansion or any structure check: for tests of
  // component config parsers. `path` prefixes messages; `source` names the text.
  static absl::StatusOr<ConfigNode> parse(std::string_view yaml, std::string_view path = {},
                                          std::string_view source = "<inline>");

  const std::string& path() const { return path_; }
  const SourceLocation& where() const { return where_; }
  bool empty() const;  // absent, null, or a map without keys

  // Present keys in the order written. Neither marks anything read.
  std::vector<std::string> keys() const;
  bool has(std::string_view key) const;  // present, even with an empty value (`grpc:`)

  // The child map (an empty node if absent). Its keys are checked by check_no_unknown_keys().
  ConfigNode child(std::string_view key) const;
  // A list of maps (e.g. processor actions), items at "key[i]"; absent or empty gives {}.
  absl::StatusOr<std::vector<ConfigNode>> list(std::string_view key) const;

  absl::StatusOr<std::string> string(std::string_view key, std::string_view default_value) const;
  absl::StatusOr<int64_t> int64(std::string_view key, int64_t default_value) const;
  absl::StatusOr<uint64_t> uint64(std::string_view key, uint64_t default_value) const;
  // `double` and `bool` are C++ keywords, hence float64() and boolean().
  absl::StatusOr<double> float64(std::string_view key, double default_value) const;
  absl::StatusOr<bool> boolean(std::string_view key, bool default_value) const;
  // A Go duration string ("200ms", "1m30s"); a bare number other than 0 is an error.
  absl::StatusOr<std::chrono::nanoseconds> duration(std::string_view key,
                                                    std::chrono::nanoseconds default_value) const;
  // Bytes: an integer, or a string with a unit ("64MiB", "1GB"); see byte_size.h.
  absl::StatusOr<uint64_t> bytes(std::string_view key, uint64_t default_value) const;
  // An unsigned count of mebibytes (memory_limiter's `limit_mib: 4000`), returned in BYTES.
  absl::StatusOr<uint64_t> mib(std::string_view key, uint64_t default_mib) const;
  // A list of strings; a single scalar is a list of one, as in the Collector.
  absl::StatusOr<std::vector<std::string>> string_list(
      std::string_view key, std::vector<std::string> default_value = {}) const;
  // A list of lists of strings (the failover connector's priority_levels); an inner scalar is a
  // list of one.
  absl::StatusOr<std::vector<std::vector<std::string>>> string_lists(std::string_view key) const;
  // A map of strings (headers); an empty value is "".
  absl::StatusOr<std::map<std::string, std::string>> string_map(std::string_view key) const;

  // InvalidArgument "path::key: missing required key" unless the key has a value.
  absl::Status require(std::string_view key) const;
  void mark_used(std::string_view key) const;
  absl::Status check_no_unknown_keys() const;

  // Messages in the same form for checks made by a component's validate():
  // "path: message (where)" and "path::key: message (where of the key's value)".
  absl::Status error(std::string_view message) const;
  absl::Status error_at(std::string_view key, std::string_view message) const;

 private:
  struct ReadLog;
  ConfigNode(std::shared_ptr<const internal::YamlValue> value, std::string path,
             SourceLocation where, std::shared_ptr<ReadLog> log);
  friend ConfigNode internal::make_config_node(std::shared_ptr<const internal::YamlValue> value,
                                               std::string path);

  // The value of `key` (nullptr if absent or null), recorded as read. Errors when this node
  // is not a map.
  absl::StatusOr<const internal::YamlValue*> lookup(std::string_view key) const;
  // lookup() for scalar accessors: nullptr means "use the default"; lists and maps are errors.
  absl::StatusOr<const internal::YamlValue*> scalar(std::string_view key,
                                                    std::string_view expected) const;
  absl::Status type_error(std::string_view key, const internal::YamlValue& value,
                          std::string_view expected) const;

  std::shared_ptr<const internal::YamlValue> value_;  // never null
  std::string path_;
  SourceLocation where_;
  std::shared_ptr<ReadLog> log_;  // never null; shared by copies
};

}  // namespace pipeline
