#pragma once
// pipeline::ClientMetadata: who sent a batch — the client's address and the request's headers
// (HTTP) or metadata (gRPC) — carried with the batch when the receiver's include_metadata is
// on (the Collector's client.Info).
//
// A batch processor with metadata_keys gathers batches per distinct set of those keys' values
// and hands on only those keys; an exporter's headers_setter extension turns them back into
// request headers (say, a tenant id). Without include_metadata, batches carry none.
//
// Immutable once made, and shared: copies of a batch (fan-out, retries) point at one value.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipeline {

struct ClientMetadata {
  std::string address;  // "ip:port" ("[v6]:port"); empty when unknown
  // Names in lower case, in arrival order; a name may repeat.
  std::vector<std::pair<std::string, std::string>> entries;

  // Every value of `name` (matched without regard to case), in order.
  std::vector<std::string_view> values(std::string_view name) const;
  // The first value of `name`, or empty.
  std::string_view first(std::string_view name) const;
  // What the value occupies in memory, roughly (for the memory budget).
  std::size_t bytes() const;
};

using ClientMetadataPtr = std::shared_ptr<const ClientMetadata>;

// Whether two metadata (header) names are the same: ASCII, without regard to case.
bool same_metadata_name(std::string_view a, std::string_view b);

}  // namespace pipeline
