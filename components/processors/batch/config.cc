#include "components/processors/batch/config.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<BatchConfig> BatchConfig::parse(const pipeline::ConfigNode& node) {
  BatchConfig c;
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t size, node.uint64("send_batch_size", c.send_batch_size));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t max, node.uint64("send_batch_max_size", 0));
  OTLPD_ASSIGN_OR_RETURN(auto timeout, node.duration("timeout", to_ns(c.timeout)));
  OTLPD_ASSIGN_OR_RETURN(c.metadata_keys, node.string_list("metadata_keys", {}));
  OTLPD_ASSIGN_OR_RETURN(std::uint64_t limit,
                         node.uint64("metadata_cardinality_limit", c.metadata_cardinality_limit));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (limit > kMax) return node.error_at("metadata_cardinality_limit", "is too large");
  c.metadata_cardinality_limit = static_cast<std::uint32_t>(limit);
  // Metadata names match without regard to case (HTTP header names), so two spellings of one
  // name would be one key twice.
  for (std::size_t i = 0; i < c.metadata_keys.size(); ++i) {
    std::string& key = c.metadata_keys[i];
    absl::AsciiStrToLower(&key);
    if (key.empty()) return node.error_at("metadata_keys", "holds an empty name");
    for (std::size_t j = 0; j < i; ++j) {
      if (c.metadata_keys[j] == key) {
        return node.error_at("metadata_keys", absl::StrCat("names \"", key, "\" twice"));
      }
    }
  }
  if (size == 0) return node.error_at("send_batch_size", "must be greater than zero");
  if (size > kMax) return node.error_at("send_batch_size", "is too large");
  if (max > kMax) return node.error_at("send_batch_max_size", "is too large");
  if (timeout <= std::chrono::nanoseconds::zero()) {
    return node.error_at("timeout", "must be greater than zero");
  }
  if (max != 0 && max < size) {
    return node.error_at("send_batch_max_size", "must be greater than or equal to send_batch_size");
  }
  c.send_batch_size = static_cast<std::uint32_t>(size);
  c.send_batch_max_size = static_cast<std::uint32_t>(max);
  c.timeout = to_duration(timeout);
  return c;
}

}  // namespace components
