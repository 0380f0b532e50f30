#include "components/extensions/file_storage/file_storage.h"

#include "absl/strings/str_cat.h"
#include "storage/file_system.h"

namespace components {

FileStorage::FileStorage(std::string id, FileStorageConfig config)
    : id_(std::move(id)), config_(std::move(config)) {}

csp::Task<absl::Status> FileStorage::start() {
  storage::FileSystem& fs = storage::posix_file_system();
  if (config_.create_directory) {
    if (absl::Status s = fs.create_dir(config_.directory); !s.ok()) {
      co_return absl::Status(
          s.code(), absl::StrCat("cannot create directory ", config_.directory, ": ", s.message()));
    }
  }
  if (absl::StatusOr<std::vector<std::string>> entries = fs.list(config_.directory);
      !entries.ok()) {
    co_return absl::Status(
        entries.status().code(),
        absl::StrCat("directory ", config_.directory,
                     " is not usable: ", entries.status().message(),
                     config_.create_directory ? "" : " (set create_directory: true to create it)"));
  }
  co_return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<storage::DurableLog>> FileStorage::open_log(
    const std::string& name, storage::DurableLogOptions options) const {
  options.fsync = config_.fsync ? storage::FsyncPolicy::kAlways : storage::FsyncPolicy::kNever;
  storage::FileSystem& fs = storage::posix_file_system();
  // open() creates the client's directory when it is missing.
  return storage::DurableLog::open(fs, storage::join_path(config_.directory, name), options);
}

}  // namespace components
