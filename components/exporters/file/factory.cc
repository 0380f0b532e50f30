#include "components/exporters/file/factory.h"

#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<FileConfig> parse_file_config(const pipeline::ConfigNode& node) {
  FileConfig c;
  OTLPD_RETURN_IF_ERROR(node.require("path"));
  OTLPD_ASSIGN_OR_RETURN(c.path, node.string("path", ""));
  OTLPD_ASSIGN_OR_RETURN(c.format, node.string("format", c.format));
  OTLPD_ASSIGN_OR_RETURN(c.append, node.boolean("append", c.append));
  OTLPD_ASSIGN_OR_RETURN(auto flush, node.duration("flush_interval", to_ns(c.flush_interval)));
  c.flush_interval = to_duration(flush);
  if (node.has("rotation")) {
    const pipeline::ConfigNode r = node.child("rotation");
    c.rotation = true;
    OTLPD_ASSIGN_OR_RETURN(c.max_megabytes, r.int64("max_megabytes", c.max_megabytes));
    OTLPD_ASSIGN_OR_RETURN(c.max_backups, r.int64("max_backups", c.max_backups));
    OTLPD_ASSIGN_OR_RETURN(c.max_days, r.int64("max_days", c.max_days));
    OTLPD_ASSIGN_OR_RETURN(c.localtime, r.boolean("localtime", c.localtime));
    OTLPD_RETURN_IF_ERROR(r.check_no_unknown_keys());
    if (c.max_days < 0) return r.error_at("max_days", "must not be negative");
    if (c.max_megabytes <= 0) return r.error_at("max_megabytes", "must be greater than zero");
    if (c.max_backups < 0) return r.error_at("max_backups", "must not be negative");
  }
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (c.path.empty()) return node.error_at("path", "must not be empty");
  if (c.format != "json" && c.format != "proto") {
    return node.error_at("format", "must be json or proto, got \"" + c.format + "\"");
  }
  return c;
}

namespace {

class FileFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "file"; }
  bool supports(otlp::Signal) const override { return true; }
  // Every signal writes to the one file, so lines never interleave (as the Collector's file
  // exporter shares one instance).
  bool shared_across_signals() const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host& host) const override {
    auto c = parse_file_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Exporter>(std::make_shared<FileExporter>(id.str(), *c, host));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> make_file_exporter_factory() {
  return std::make_unique<FileFactory>();
}

}  // namespace components
