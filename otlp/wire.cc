// Every request type has the same three-level shape on the wire: field 1 of
// the request holds resources; field 2 of a resource holds scopes; field 2 of
// a scope holds items. Metrics and profiles add one level to count data points
// (inside a metric's data oneof, field 1) and samples (Profile field 2).

#include "otlp/wire.h"

#include "absl/strings/str_cat.h"
#include "otlp/errors.h"
#include "otlp/internal/absl_view.h"
#include "otlp/internal/wire_format.h"
#include "otlp/signals.h"

namespace otlp {
namespace {

using internal::WireReader;
using internal::WireType;

constexpr uint32_t kResourcesField = 1;   // Export*ServiceRequest.resource_*
constexpr uint32_t kDictionaryField = 2;  // ExportProfilesServiceRequest.dictionary
constexpr uint32_t kScopesField = 2;      // Resource*.scope_*
constexpr uint32_t kItemsField = 2;       // Scope*.spans / metrics / log_records / profiles
constexpr uint32_t kSamplesField = 2;     // Profile.samples
constexpr uint32_t kDataPointsField = 1;  // Gauge/Sum/…/Summary.data_points
// Metric.gauge, sum, histogram, exponential_histogram, summary: the data oneof.
constexpr uint32_t kMetricDataFields[] = {5, 7, 9, 10, 11};

absl::Status malformed(Signal signal, std::string_view where) {
  return make_error(ErrorKind::kMalformed,
                    absl::StrCat("invalid protobuf framing in ", internal::av(signal_name(signal)),
                                 " request (", internal::av(where), ")"));
}

bool is_metric_data_field(uint32_t field) {
  for (uint32_t f : kMetricDataFields) {
    if (f == field) return true;
  }
  return false;
}

// Calls fn(payload) for every length-delimited occurrence of `field` in a
// message, skipping everything else. False on broken framing.
template <class Fn>
bool for_each_len_field(std::string_view message, uint32_t wanted, Fn&& fn) {
  WireReader reader(message);
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(field, type)) return false;
    if (field == wanted && type == WireType::kLen) {
      std::string_view payload;
      if (!reader.read_len(payload) || !fn(payload)) return false;
    } else if (!reader.skip(field, type)) {
      return false;
    }
  }
  return true;
}

bool count_len_fields(std::string_view message, uint32_t wanted, uint64_t& n) {
  return for_each_len_field(message, wanted, [&](std::string_view) {
    ++n;
    return true;
  });
}

// A metric's points: occurrences of the same oneof member merge (their points
// add up); a different member replaces what came before.
bool count_metric_points(std::string_view metric, uint64_t& n) {
  WireReader reader(metric);
  uint32_t current = 0;
  uint64_t points = 0;
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(field, type)) return false;
    if (type == WireType::kLen && is_metric_data_field(field)) {
      std::string_view payload;
      if (!reader.read_len(payload)) return false;
      if (field != current) points = 0;
      current = field;
      if (!count_len_fields(payload, kDataPointsField, points)) return false;
    } else if (!reader.skip(field, type)) {
      return false;
    }
  }
  n += points;
  return true;
}

bool count_in_scope(Signal signal, std::string_view scope, uint64_t& n) {
  switch (signal) {
    case Signal::kTraces:
    case Signal::kLogs:
      return count_len_fields(scope, kItemsField, n);
    case Signal::kMetrics:
      return for_each_len_field(scope, kItemsField, [&](std::string_view metric) {
        return count_metric_points(metric, n);
      });
    case Signal::kProfiles:
      return for_each_len_field(scope, kItemsField, [&](std::string_view profile) {
        return count_len_fields(profile, kSamplesField, n);
      });
  }
  return false;
}

bool count_in_resource(Signal signal, std::string_view resource, uint64_t& n) {
  return for_each_len_field(resource, kScopesField, [&](std::string_view scope) {
    return count_in_scope(signal, scope, n);
  });
}

// The request's top-level fields: resources with their item counts, and the
// bytes of every other field (tag included), in order.
struct TopLevel {
  struct Resource {
    std::string_view field_bytes;  // tag + length + payload
    uint64_t items = 0;
  };
  std::vector<Resource> resources;
  std::string other_fields;
  bool has_dictionary = false;
};

absl::StatusOr<TopLevel> read_top_level(Signal signal, std::string_view request) {
  TopLevel top;
  WireReader reader(request);
  while (!reader.done()) {
    const char* start = reader.position();
    uint32_t field = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(field, type)) return malformed(signal, "request");
    if (field == kResourcesField && type == WireType::kLen) {
      std::string_view payload;
      if (!reader.read_len(payload)) return malformed(signal, "request");
      TopLevel::Resource resource;
      if (!count_in_resource(signal, payload, resource.items)) {
        return malformed(signal, "resource");
      }
      resource.field_bytes = std::string_view(start, reader.position() - start);
      top.resources.push_back(resource);
      continue;
    }
    if (!reader.skip(field, type)) return malformed(signal, "request");
    if (signal == Signal::kProfiles && field == kDictionaryField && type == WireType::kLen) {
      top.has_dictionary = true;
    }
    top.other_fields.append(start, reader.position() - start);
  }
  return top;
}

// The top level's framing only, and whether it has a profiles dictionary: what concatenating
// needs. Nothing inside the resources is read (a concat of long requests stays a copy).
absl::StatusOr<bool> has_dictionary(Signal signal, std::string_view request) {
  WireReader reader(request);
  bool dictionary = false;
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = WireType::kVarint;
    if (!reader.read_tag(field, type) || !reader.skip(field, type)) {
      return malformed(signal, "request");
    }
    if (signal == Signal::kProfiles && field == kDictionaryField && type == WireType::kLen) {
      dictionary = true;
    }
  }
  return dictionary;
}

absl::StatusOr<std::string> concat_by_merge(const std::vector<std::string_view>& requests,
                                            const DecodeLimits& limits) {
  ProfilesRequest merged;
  for (std::string_view bytes : requests) {
    ProfilesRequest part;
    absl::Status status = decode_binary(bytes, part, limits);
    if (!status.ok()) return status;
    merge(merged, std::move(part));
  }
  return encode_binary(merged);
}

}  // namespace

absl::StatusOr<uint64_t> wire_count_items(Signal signal, std::string_view request) {
  uint64_t n = 0;
  bool ok = for_each_len_field(request, kResourcesField, [&](std::string_view resource) {
    return count_in_resource(signal, resource, n);
  });
  if (!ok) return malformed(signal, "request");
  return n;
}

absl::StatusOr<std::vector<std::string>> wire_split(Signal signal, std::string_view request,
                                                    uint64_t max_items) {
  absl::StatusOr<TopLevel> top = read_top_level(signal, request);
  if (!top.ok()) return top.status();
  uint64_t total = 0;
  for (const TopLevel::Resource& r : top->resources) total += r.items;
  std::vector<std::string> parts;
  if (max_items == 0 || total <= max_items) {
    parts.emplace_back(request);
    return parts;
  }
  uint64_t used = 0;
  for (const TopLevel::Resource& r : top->resources) {
    if (parts.empty() || (used > 0 && used + r.items > max_items)) {
      parts.emplace_back(top->other_fields);
      used = 0;
    }
    parts.back().append(r.field_bytes);
    used += r.items;
  }
  return parts;
}

absl::StatusOr<std::string> wire_concat(Signal signal,
                                        const std::vector<std::string_view>& requests,
                                        const DecodeLimits& limits) {
  size_t size = 0;
  int dictionaries = 0;
  for (std::string_view bytes : requests) {
    absl::StatusOr<bool> dictionary = has_dictionary(signal, bytes);
    if (!dictionary.ok()) return dictionary.status();
    dictionaries += *dictionary ? 1 : 0;
    size += bytes.size();
  }
  if (dictionaries > 1) return concat_by_merge(requests, limits);
  std::string out;
  out.reserve(size);
  for (std::string_view bytes : requests) out.append(bytes);
  return out;
}

}  // namespace otlp
