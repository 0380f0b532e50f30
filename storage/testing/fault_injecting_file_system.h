#pragma once
// storage::testing::FaultInjectingFileSystem: an in-memory FileSystem that remembers what is
// durable, so a test can cut the power at any point and see exactly what a real disk would be
// allowed to keep. After RocksDB's FaultInjectionTestFS and SQLite's test VFS in purpose; the
// model is ours:
//
//  - Each file (inode) has its current bytes (what reads see) and its synced bytes (as of the
//    last successful datasync). Each directory has its live entries and its durable entries
//    (as of the last sync_dir), plus the list of entry operations since then, in order.
//  - power_loss(kDropUnsynced) keeps the worst case a correct program must survive: every
//    directory reverts to its durable entries (a created or renamed file whose directory was
//    not synced vanishes, an unlinked one comes back) and every file to its synced bytes.
//  - power_loss(kTornWrites) keeps what a journaling file system may keep: each directory
//    replays a random prefix of its pending entry operations (they are ordered), and a file
//    that only grew since its last sync keeps its synced bytes plus a random prefix of the
//    rest, sometimes with that prefix zero-filled (an extent allocated, the data not written).
//  - fail_nth(op, n) makes the nth next operation of that kind fail with EIO (Unavailable). A
//    failed write may have written a random prefix of its data; a failed datasync leaves the
//    synced bytes as they were; a failed rename or create changes nothing.
//  - set_space_budget(b): the bytes of all files may not exceed b; a write beyond it writes
//    what fits and fails with ENOSPC (ResourceExhausted). free_space() reports what is left.
//  - process_crash() models a process that dies (kill -9, a segfault) while the machine stays
//    up: every byte and entry written so far stays, synced or not; the process's handles and
//    locks are gone. Like power_loss(), calls fail until power_on() so that the dead process's
//    objects (a DurableLog's destructor) cannot touch the files.
//  - After power_loss() the power stays off until power_on(): every call fails (Unavailable),
//    so the crashed process's objects can be destroyed without touching what survived. Handles
//    opened before a power loss fail for good (the process that held them is gone).
//  - Directories are created durable and never removed. Thread-safe: one mutex.
//
// Randomness comes from the seed only, so a failing test replays with the same seed.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/file_system.h"

namespace storage::testing {

enum class FaultOp { kWrite, kSync, kRename, kCreate, kUnlink };
enum class PowerLossMode { kDropUnsynced, kTornWrites };

struct FiredFault {
  FaultOp op;
  std::string path;
};

class FaultInjectingFileSystem final : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(std::uint64_t seed = 1);
  ~FaultInjectingFileSystem() override;

  // --- FileSystem ---
  absl::StatusOr<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  absl::Status rename(const std::string& from, const std::string& to) override;
  absl::Status unlink(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> list(const std::string& dir) override;
  absl::Status sync_dir(const std::string& dir) override;
  absl::Status create_dir(const std::string& dir) override;
  absl::StatusOr<std::uint64_t> free_space(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<FileLock>> lock(const std::string& path) override;
  // "boot-N": N counts the power losses so far (a process crash keeps the boot).
  std::string boot_id() override;

  // --- faults ---
  // The nth next operation of kind op fails (n >= 1); n = 0 disarms. kWrite covers append,
  // pwrite and truncate; kSync covers datasync and sync_dir.
  void fail_nth(FaultOp op, int n);
  void disarm_all();
  // Total bytes all files may hold; nullopt = unlimited.
  void set_space_budget(std::optional<std::uint64_t> bytes);
  void power_loss(PowerLossMode mode = PowerLossMode::kDropUnsynced);
  // The process dies, the machine does not: nothing written is lost (see above).
  void process_crash();
  void power_on();

  // --- inspection and tampering (for tests) ---
  std::vector<FiredFault> fired_faults() const;
  std::uint64_t datasync_calls() const;
  std::uint64_t used_bytes() const;
  // The current bytes of path, or nullopt if it does not exist.
  std::optional<std::string> contents(const std::string& path) const;
  // Replaces path's bytes (current and synced), creating it durably if missing.
  void set_contents(const std::string& path, const std::string& bytes);

  struct Inode;
  class Handle;
  struct Dir;

 private:
  friend class Handle;
  absl::Status maybe_fail_locked(FaultOp op, const std::string& path);
  absl::Status check_power_locked(const std::string& path) const;
  absl::Status write_locked(Inode& inode, const std::string& path, std::uint64_t offset,
                            std::string_view data);
  std::uint64_t used_bytes_locked() const;
  Dir* dir_of_locked(const std::string& path, std::string* name);

  mutable std::mutex mu_;
  std::mt19937_64 rng_;                               // guarded by mu_
  std::map<std::string, std::unique_ptr<Dir>> dirs_;  // guarded by mu_
  std::map<FaultOp, int> armed_;                      // guarded by mu_
  std::optional<std::uint64_t> budget_;               // guarded by mu_
  std::vector<FiredFault> fired_;                     // guarded by mu_
  std::set<std::string> locks_;                       // guarded by mu_
  std::uint64_t generation_ = 0;                      // guarded by mu_; bumped by power_loss
  std::uint64_t boots_ = 0;                           // guarded by mu_; power losses so far
  bool powered_off_ = false;                          // guarded by mu_
  std::uint64_t datasyncs_ = 0;                       // guarded by mu_
};

}  // namespace storage::testing
