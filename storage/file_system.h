#pragma once
// storage::FileSystem: the few file operations the durable log needs, behind an interface so that
// tests can run the log on storage::testing::FaultInjectingFileSystem (power cuts, EIO, a full
// disk) and production on posix_file_system().
//
// Contract:
//  - Every call may be made from any thread; a File may be used by several threads at once
//    (pread concurrently with append, as the log's reader and writer do).
//  - Paths are plain strings; directories are named without a trailing slash.
//  - Errors are absl::Status values mapped from errno as absl::ErrnoToStatusCode does (ENOSPC
//    and EDQUOT → ResourceExhausted, ENOENT → NotFound, EEXIST → AlreadyExists ...) except EIO,
//    which is Unavailable; the message names the operation and the path. Nothing throws.
//  - Durability is explicit, as on POSIX: data written with append/pwrite survives a power cut
//    only after File::datasync(); a created, renamed or unlinked name survives only after
//    sync_dir() of its directory. Implementations may keep more, never less.
//  - All calls block the calling thread: call them from a plain thread (the log's I/O thread),
//    not from a csp goroutine, unless the cost is known to be small (a pread from page cache).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace storage {

enum class OpenMode {
  kExisting,   // the file must exist
  kCreate,     // create if missing, keep the contents otherwise
  kCreateNew,  // the file must not exist (O_EXCL)
  kReplace,    // create, or truncate to empty
};

class File {
 public:
  virtual ~File() = default;

  // Writes data at the end of the file. On error some prefix of data may have been written.
  virtual absl::Status append(std::string_view data) = 0;
  // The same for the pieces one after the other, as one write where the system allows
  // (pwritev): no copy to join them first. On error some prefix may have been written. The
  // default joins them and calls append().
  virtual absl::Status append_pieces(std::span<const std::string_view> pieces);
  // Writes data at offset (extending the file if needed).
  virtual absl::Status pwrite(std::uint64_t offset, std::string_view data) = 0;
  // Reads up to n bytes at offset into *out; fewer only at the end of the file.
  virtual absl::Status pread(std::uint64_t offset, std::size_t n, std::string* out) = 0;
  // fdatasync: the data written so far (and the size) survive a power cut once this returns OK.
  virtual absl::Status datasync() = 0;
  virtual absl::StatusOr<std::uint64_t> size() = 0;
  virtual absl::Status truncate(std::uint64_t size) = 0;
};

// An exclusive advisory lock, held until the object is destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual absl::StatusOr<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  // Atomically replaces `to` with `from` (same directory in the fault-injecting file system).
  virtual absl::Status rename(const std::string& from, const std::string& to) = 0;
  virtual absl::Status unlink(const std::string& path) = 0;
  // The names (not paths) of the regular files in dir, in no particular order.
  virtual absl::StatusOr<std::vector<std::string>> list(const std::string& dir) = 0;
  // fsync of the directory: its entries (creations, renames, unlinks) survive a power cut.
  virtual absl::Status sync_dir(const std::string& dir) = 0;
  // mkdir -p; OK if the directory exists.
  virtual absl::Status create_dir(const std::string& dir) = 0;
  // Bytes an unprivileged writer may still use on dir's file system.
  virtual absl::StatusOr<std::uint64_t> free_space(const std::string& dir) = 0;
  // Takes an exclusive lock on path (created if missing). FailedPrecondition if someone (another
  // process, or another open log in this one) holds it.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> lock(const std::string& path) = 0;
  // Names the machine's current boot: it changes exactly when writes that were never synced
  // may have been lost or kept at random (a power cut, a reboot), and stays the same across the
  // death of a process. Empty if the system cannot tell.
  virtual std::string boot_id() = 0;
};

// The process's POSIX file system (open/pwrite/fdatasync/rename/statvfs/flock).
FileSystem& posix_file_system();

// Reads a whole file through fs.
absl::StatusOr<std::string> read_file(FileSystem& fs, const std::string& path);

// An absl::Status for errno value err, e.g. status_from_errno(ENOSPC, "write", "/d/f").
absl::Status status_from_errno(int err, std::string_view operation, std::string_view path);

// dir + "/" + name.
std::string join_path(std::string_view dir, std::string_view name);

}  // namespace storage
