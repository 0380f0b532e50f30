#include "components/extensions/file_storage/factory.h"

#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<FileStorageConfig> parse_file_storage_config(const pipeline::ConfigNode& node) {
  FileStorageConfig c;
  OTLPD_RETURN_IF_ERROR(node.require("directory"));
  OTLPD_ASSIGN_OR_RETURN(c.directory, node.string("directory", ""));
  OTLPD_ASSIGN_OR_RETURN(c.create_directory, node.boolean("create_directory", c.create_directory));
  OTLPD_ASSIGN_OR_RETURN(c.fsync, node.boolean("fsync", c.fsync));
  // The Collector's bbolt settings have nothing to act on here: the log deletes what was
  // delivered as it goes, and takes its lock without waiting.
  for (const char* key : {"compaction", "timeout"}) {
    if (node.has(key)) {
      return node.error_at(key,
                           "is not supported: the log reclaims delivered segments as it goes "
                           "and never waits for its lock");
    }
  }
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (c.directory.empty()) return node.error_at("directory", "must not be empty");
  return c;
}

namespace {

class FileStorageFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "file_storage"; }
  pipeline::Stability stability() const override { return pipeline::Stability::kBeta; }
  absl::StatusOr<std::shared_ptr<pipeline::Component>> create(const pipeline::ComponentId& id,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host&) const override {
    auto c = parse_file_storage_config(config);
    if (!c.ok()) return c.status();
    return std::shared_ptr<pipeline::Component>(
        std::make_shared<FileStorage>(id.str(), *std::move(c)));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> make_file_storage_extension_factory() {
  return std::make_unique<FileStorageFactory>();
}

}  // namespace components
