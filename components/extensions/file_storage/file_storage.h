#pragma once
// The `file_storage` extension: a directory where components keep what must survive a restart —
// today the exporters' durable sending queues (`sending_queue: {storage: file_storage}`). Each
// client gets its own storage::DurableLog in a subdirectory named after it.
//
// Contract:
//  - start() makes sure the directory exists (creating it with create_directory) and is
//    writable; a problem is a start error naming the directory.
//  - open_log() may be called once per client name between start() and shutdown(); the log
//    takes an exclusive lock on its subdirectory, so two collectors (or two exporters with the
//    same name) cannot share one. The caller owns and closes the log.
//  - fsync (default true, unlike the Collector's false): a client is told "accepted" only once
//    its data is on stable storage, so it survives a power cut. With fsync: false it survives a
//    crash of otlpd but not of the machine.

#include <memory>
#include <string>

#include "pipeline/component.h"
#include "pipeline/host.h"
#include "storage/durable_log.h"

namespace components {

struct FileStorageConfig {
  std::string directory;  // required
  bool create_directory = false;
  bool fsync = true;
};

class FileStorage final : public pipeline::Component {
 public:
  FileStorage(std::string id, FileStorageConfig config);

  csp::Task<absl::Status> start() override;

  // The durable log of client `name` (e.g. "exporter_otlp_backup"), in <directory>/<name>.
  // The fsync policy comes from this extension's config.
  absl::StatusOr<std::unique_ptr<storage::DurableLog>> open_log(
      const std::string& name, storage::DurableLogOptions options) const;

  const FileStorageConfig& config() const { return config_; }

 private:
  std::string id_;
  FileStorageConfig config_;
};

}  // namespace components
