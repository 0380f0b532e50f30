#include "components/exporters/helper/config.h"

#include "components/extensions/file_storage/file_storage.h"
#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<QueueConfig> parse_queue_config(const pipeline::ConfigNode& exporter) {
  QueueConfig q;
  const pipeline::ConfigNode node = exporter.child("sending_queue");
  OTLPD_ASSIGN_OR_RETURN(q.enabled, node.boolean("enabled", q.enabled));
  OTLPD_ASSIGN_OR_RETURN(std::int64_t consumers, node.int64("num_consumers", 10));
  OTLPD_ASSIGN_OR_RETURN(std::int64_t size, node.int64("queue_size", 1000));
  OTLPD_ASSIGN_OR_RETURN(std::string sizer, node.string("sizer", "requests"));
  OTLPD_ASSIGN_OR_RETURN(q.block_on_overflow,
                         node.boolean("block_on_overflow", q.block_on_overflow));
  OTLPD_ASSIGN_OR_RETURN(q.storage, node.string("storage", ""));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (sizer == "requests") {
    q.sizer = QueueSizer::kRequests;
  } else if (sizer == "bytes") {
    if (q.storage.empty()) {
      return node.error_at("sizer",
                           "bytes is supported with a storage only (the memory queue "
                           "counts requests)");
    }
    q.sizer = QueueSizer::kBytes;
  } else if (sizer == "items") {
    q.sizer = QueueSizer::kItems;
  } else {
    return node.error_at("sizer", "must be requests, items or bytes, got \"" + sizer + "\"");
  }
  if (!q.storage.empty() && !q.enabled) {
    return node.error_at("storage", "needs the queue enabled");
  }
  if (q.enabled && consumers <= 0)
    return node.error_at("num_consumers", "must be greater than zero");
  if (q.enabled && size <= 0) return node.error_at("queue_size", "must be greater than zero");
  q.num_consumers = static_cast<std::size_t>(consumers);
  q.queue_size = static_cast<std::size_t>(size);
  return q;
}

absl::Status check_queue_storage(const pipeline::ConfigNode& exporter, const QueueConfig& queue,
                                 const pipeline::Host& host) {
  if (queue.storage.empty()) return absl::OkStatus();
  if (std::dynamic_pointer_cast<FileStorage>(host.extension(queue.storage)) == nullptr) {
    return exporter.child("sending_queue")
        .error_at("storage", "\"" + queue.storage +
                                 "\" is not a file_storage extension listed in "
                                 "service::extensions");
  }
  return absl::OkStatus();
}

absl::StatusOr<RetryConfig> parse_retry_config(const pipeline::ConfigNode& exporter) {
  RetryConfig r;
  const pipeline::ConfigNode node = exporter.child("retry_on_failure");
  OTLPD_ASSIGN_OR_RETURN(r.enabled, node.boolean("enabled", r.enabled));
  OTLPD_ASSIGN_OR_RETURN(auto initial,
                         node.duration("initial_interval", to_ns(r.initial_interval)));
  OTLPD_ASSIGN_OR_RETURN(auto max, node.duration("max_interval", to_ns(r.max_interval)));
  r.max_elapsed_time_set = node.has("max_elapsed_time");
  OTLPD_ASSIGN_OR_RETURN(auto elapsed,
                         node.duration("max_elapsed_time", to_ns(r.max_elapsed_time)));
  OTLPD_ASSIGN_OR_RETURN(r.multiplier, node.float64("multiplier", r.multiplier));
  OTLPD_ASSIGN_OR_RETURN(r.randomization_factor,
                         node.float64("randomization_factor", r.randomization_factor));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  r.initial_interval = to_duration(initial);
  r.max_interval = to_duration(max);
  r.max_elapsed_time = to_duration(elapsed);
  if (r.enabled) {
    if (r.initial_interval <= csp::Duration::zero()) {
      return node.error_at("initial_interval", "must be greater than zero");
    }
    if (r.max_interval < r.initial_interval) {
      return node.error_at("max_interval", "must not be less than initial_interval");
    }
    if (r.multiplier < 1) return node.error_at("multiplier", "must be at least 1");
    if (r.randomization_factor < 0 || r.randomization_factor > 1) {
      return node.error_at("randomization_factor", "must be between 0 and 1");
    }
    if (r.max_elapsed_time < csp::Duration::zero()) {
      return node.error_at("max_elapsed_time", "must not be negative");
    }
  }
  return r;
}

}  // namespace components
