// The in-memory model described in the header. Every public call takes mu_; nothing here
// blocks on anything else.

#include "storage/testing/fault_injecting_file_system.h"

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace storage::testing {

struct FaultInjectingFileSystem::Inode {
  std::string data;    // what reads see
  std::string synced;  // what survives a power cut
};

struct FaultInjectingFileSystem::Dir {
  struct Op {
    enum Kind { kLink, kUnlink, kRename } kind;
    std::string name;
    std::string to;                // kRename
    std::shared_ptr<Inode> inode;  // kLink
  };
  std::map<std::string, std::shared_ptr<Inode>> live;
  std::map<std::string, std::shared_ptr<Inode>> durable;
  std::vector<Op> pending;  // entry operations since the last sync_dir, in order

  static void apply(std::map<std::string, std::shared_ptr<Inode>>& entries, const Op& op) {
    switch (op.kind) {
      case Op::kLink:
        entries[op.name] = op.inode;
        break;
      case Op::kUnlink:
        entries.erase(op.name);
        break;
      case Op::kRename: {
        auto it = entries.find(op.name);
        if (it == entries.end()) break;
        auto inode = it->second;
        entries.erase(it);
        entries[op.to] = std::move(inode);
        break;
      }
    }
  }
  void record(Op op) {
    apply(live, op);
    pending.push_back(std::move(op));
  }
};

class FaultInjectingFileSystem::Handle final : public File {
 public:
  Handle(FaultInjectingFileSystem* fs, std::shared_ptr<Inode> inode, std::string path,
         std::uint64_t generation)
      : fs_(fs), inode_(std::move(inode)), path_(std::move(path)), generation_(generation) {}

  absl::Status append(std::string_view data) override {
    std::lock_guard lock(fs_->mu_);
    if (absl::Status s = check_locked(); !s.ok()) return s;
    return fs_->write_locked(*inode_, path_, inode_->data.size(), data);
  }
  absl::Status pwrite(std::uint64_t offset, std::string_view data) override {
    std::lock_guard lock(fs_->mu_);
    if (absl::Status s = check_locked(); !s.ok()) return s;
    return fs_->write_locked(*inode_, path_, offset, data);
  }
  absl::Status pread(std::uint64_t offset, std::size_t n, std::string* out) override {
    std::lock_guard lock(fs_->mu_);
    if (absl::Status s = check_locked(); !s.ok()) return s;
    out->clear();
    if (offset < inode_->data.size()) *out = inode_->data.substr(offset, n);
    return absl::OkStatus();
  }
  absl::Status datasync() override {
    std::lock_guard lock(fs_->mu_);
    if (absl::Status s = check_locked(); !s.ok()) return s;
    ++fs_->datasyncs_;
    if (absl::Status s = fs_->maybe_fail_locked(FaultOp::kSync, path_); !s.ok()) return s;
    inode_->synced = inode_->data;
    return absl::OkStatus();
  }
  absl::StatusOr<std::uint64_t> size() override {
    std::lock_guard lock(fs_->mu_);
    if (absl::Status s = check_locked(); !s.ok()) return s;
    return inode_->data.size();
  }
  absl::Status truncate(std::uint64_t size) override {
    std::lock_guard lock(fs_->mu_);
    if (absl::Status s = check_locked(); !s.ok()) return s;
    if (absl::Status s = fs_->maybe_fail_locked(FaultOp::kWrite, path_); !s.ok()) return s;
    inode_->data.resize(size, '\0');
    return absl::OkStatus();
  }

 private:
  absl::Status check_locked() const {
    if (absl::Status s = fs_->check_power_locked(path_); !s.ok()) return s;
    if (generation_ != fs_->generation_) {
      return absl::FailedPreconditionError(path_ + ": handle from before a power loss");
    }
    return absl::OkStatus();
  }

  FaultInjectingFileSystem* const fs_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const std::uint64_t generation_;
};

namespace {

class InMemoryLock final : public FileLock {
 public:
  InMemoryLock(std::mutex* mu, std::set<std::string>* locks, const std::uint64_t* generation,
               std::string path)
      : mu_(mu),
        locks_(locks),
        generation_(generation),
        taken_at_(*generation),
        path_(std::move(path)) {}
  ~InMemoryLock() override {
    std::lock_guard lock(*mu_);
    if (*generation_ == taken_at_) locks_->erase(path_);  // a power loss released it already
  }

 private:
  std::mutex* const mu_;
  std::set<std::string>* const locks_;
  const std::uint64_t* const generation_;
  const std::uint64_t taken_at_;
  const std::string path_;
};

absl::Status eio(std::string_view op, const std::string& path) {
  return status_from_errno(EIO, "injected " + std::string(op), path);
}

}  // namespace

FaultInjectingFileSystem::FaultInjectingFileSystem(std::uint64_t seed) : rng_(seed) {}
FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

FaultInjectingFileSystem::Dir* FaultInjectingFileSystem::dir_of_locked(const std::string& path,
                                                                       std::string* name) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return nullptr;
  auto it = dirs_.find(path.substr(0, slash));
  if (it == dirs_.end()) return nullptr;
  *name = path.substr(slash + 1);
  return it->second.get();
}

absl::Status FaultInjectingFileSystem::check_power_locked(const std::string& path) const {
  if (powered_off_) return absl::UnavailableError(path + ": the power is off");
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::maybe_fail_locked(FaultOp op, const std::string& path) {
  auto it = armed_.find(op);
  if (it == armed_.end() || it->second <= 0) return absl::OkStatus();
  if (--it->second > 0) return absl::OkStatus();
  fired_.push_back(FiredFault{op, path});
  static constexpr const char* kNames[] = {"write", "sync", "rename", "create", "unlink"};
  return eio(kNames[static_cast<int>(op)], path);
}

std::uint64_t FaultInjectingFileSystem::used_bytes_locked() const {
  std::set<const Inode*> seen;
  std::uint64_t used = 0;
  for (const auto& [_, dir] : dirs_) {
    for (const auto& [_, inode] : dir->live) {
      if (seen.insert(inode.get()).second) used += inode->data.size();
    }
  }
  return used;
}

absl::Status FaultInjectingFileSystem::write_locked(Inode& inode, const std::string& path,
                                                    std::uint64_t offset, std::string_view data) {
  if (absl::Status s = maybe_fail_locked(FaultOp::kWrite, path); !s.ok()) {
    // A failed write may still have written some prefix.
    const std::size_t partial = data.empty() ? 0 : rng_() % (data.size() + 1);
    if (inode.data.size() < offset) inode.data.resize(offset, '\0');
    const std::string_view part = data.substr(0, partial);
    if (inode.data.size() < offset + part.size()) inode.data.resize(offset + part.size());
    inode.data.replace(offset, part.size(), part);
    return s;
  }
  std::string_view fits = data;
  const std::uint64_t end = offset + data.size();
  const std::uint64_t growth = end > inode.data.size() ? end - inode.data.size() : 0;
  bool full = false;
  if (budget_ && growth > 0) {
    const std::uint64_t used = used_bytes_locked();
    const std::uint64_t left = *budget_ > used ? *budget_ - used : 0;
    if (growth > left) {
      full = true;
      const std::uint64_t room =
          inode.data.size() + left > offset ? inode.data.size() + left - offset : 0;
      fits = data.substr(0, std::min<std::uint64_t>(room, data.size()));
    }
  }
  if (inode.data.size() < offset) inode.data.resize(offset, '\0');
  if (inode.data.size() < offset + fits.size()) inode.data.resize(offset + fits.size());
  inode.data.replace(offset, fits.size(), fits);
  if (full) return status_from_errno(ENOSPC, "write", path);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<File>> FaultInjectingFileSystem::open(const std::string& path,
                                                                     OpenMode mode) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(path); !s.ok()) return s;
  std::string name;
  Dir* dir = dir_of_locked(path, &name);
  if (dir == nullptr) return status_from_errno(ENOENT, "open", path);
  auto it = dir->live.find(name);
  std::shared_ptr<Inode> inode;
  if (it != dir->live.end()) {
    if (mode == OpenMode::kCreateNew) return status_from_errno(EEXIST, "open", path);
    inode = it->second;
    if (mode == OpenMode::kReplace) {
      if (absl::Status s = maybe_fail_locked(FaultOp::kWrite, path); !s.ok()) return s;
      inode->data.clear();
    }
  } else {
    if (mode == OpenMode::kExisting) return status_from_errno(ENOENT, "open", path);
    if (absl::Status s = maybe_fail_locked(FaultOp::kCreate, path); !s.ok()) return s;
    inode = std::make_shared<Inode>();
    dir->record(Dir::Op{Dir::Op::kLink, name, {}, inode});
  }
  return std::make_unique<Handle>(this, std::move(inode), path, generation_);
}

absl::Status FaultInjectingFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(from); !s.ok()) return s;
  std::string from_name, to_name;
  Dir* dir = dir_of_locked(from, &from_name);
  Dir* to_dir = dir_of_locked(to, &to_name);
  if (dir == nullptr || !dir->live.contains(from_name)) {
    return status_from_errno(ENOENT, "rename", from);
  }
  if (to_dir != dir) return status_from_errno(EXDEV, "rename", to);
  if (absl::Status s = maybe_fail_locked(FaultOp::kRename, from); !s.ok()) return s;
  dir->record(Dir::Op{Dir::Op::kRename, from_name, to_name, nullptr});
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::unlink(const std::string& path) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(path); !s.ok()) return s;
  std::string name;
  Dir* dir = dir_of_locked(path, &name);
  if (dir == nullptr || !dir->live.contains(name)) return status_from_errno(ENOENT, "unlink", path);
  if (absl::Status s = maybe_fail_locked(FaultOp::kUnlink, path); !s.ok()) return s;
  dir->record(Dir::Op{Dir::Op::kUnlink, name, {}, nullptr});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FaultInjectingFileSystem::list(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(dir); !s.ok()) return s;
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return status_from_errno(ENOENT, "opendir", dir);
  std::vector<std::string> names;
  for (const auto& [name, _] : it->second->live) names.push_back(name);
  return names;
}

absl::Status FaultInjectingFileSystem::sync_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(dir); !s.ok()) return s;
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return status_from_errno(ENOENT, "open directory", dir);
  if (absl::Status s = maybe_fail_locked(FaultOp::kSync, dir); !s.ok()) return s;
  it->second->durable = it->second->live;
  it->second->pending.clear();
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::create_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(dir); !s.ok()) return s;
  if (!dirs_.contains(dir)) dirs_[dir] = std::make_unique<Dir>();
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> FaultInjectingFileSystem::free_space(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(dir); !s.ok()) return s;
  if (!dirs_.contains(dir)) return status_from_errno(ENOENT, "statvfs", dir);
  if (!budget_) return std::uint64_t{1} << 50;
  const std::uint64_t used = used_bytes_locked();
  return *budget_ > used ? *budget_ - used : 0;
}

absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectingFileSystem::lock(const std::string& path) {
  std::lock_guard lock(mu_);
  if (absl::Status s = check_power_locked(path); !s.ok()) return s;
  if (!locks_.insert(path).second) {
    return absl::FailedPreconditionError(path + " is locked: another log has this directory");
  }
  return std::make_unique<InMemoryLock>(&mu_, &locks_, &generation_, path);
}

void FaultInjectingFileSystem::fail_nth(FaultOp op, int n) {
  std::lock_guard lock(mu_);
  armed_[op] = n;
}

void FaultInjectingFileSystem::disarm_all() {
  std::lock_guard lock(mu_);
  armed_.clear();
}

void FaultInjectingFileSystem::set_space_budget(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(mu_);
  budget_ = bytes;
}

void FaultInjectingFileSystem::power_loss(PowerLossMode mode) {
  std::lock_guard lock(mu_);
  const bool torn = mode == PowerLossMode::kTornWrites;
  std::set<Inode*> done;
  for (auto& [_, dir] : dirs_) {
    const std::size_t keep = torn ? rng_() % (dir->pending.size() + 1) : 0;
    for (std::size_t i = 0; i < keep; ++i) Dir::apply(dir->durable, dir->pending[i]);
    dir->pending.clear();
    dir->live = dir->durable;
    for (auto& [_, inode] : dir->live) {
      if (!done.insert(inode.get()).second) continue;
      std::string survived = inode->synced;
      const bool only_grew = inode->data.size() > inode->synced.size() &&
                             inode->data.compare(0, inode->synced.size(), inode->synced) == 0;
      if (torn && only_grew) {
        const std::size_t extra = inode->data.size() - inode->synced.size();
        const std::size_t kept = rng_() % (extra + 1);
        std::string tail = inode->data.substr(inode->synced.size(), kept);
        if (rng_() % 4 == 0) tail.assign(tail.size(), '\0');
        survived += tail;
      }
      inode->data = survived;
      inode->synced = std::move(survived);
    }
  }
  locks_.clear();
  armed_.clear();
  ++generation_;
  ++boots_;
  powered_off_ = true;
}

std::string FaultInjectingFileSystem::boot_id() {
  std::lock_guard lock(mu_);
  return "boot-" + std::to_string(boots_);
}

void FaultInjectingFileSystem::process_crash() {
  std::lock_guard lock(mu_);
  // The kernel keeps everything the process wrote (page cache, directory entries); only the
  // process's handles and locks go away.
  locks_.clear();
  armed_.clear();
  ++generation_;
  powered_off_ = true;
}

void FaultInjectingFileSystem::power_on() {
  std::lock_guard lock(mu_);
  powered_off_ = false;
}

std::vector<FiredFault> FaultInjectingFileSystem::fired_faults() const {
  std::lock_guard lock(mu_);
  return fired_;
}

std::uint64_t FaultInjectingFileSystem::datasync_calls() const {
  std::lock_guard lock(mu_);
  return datasyncs_;
}

std::uint64_t FaultInjectingFileSystem::used_bytes() const {
  std::lock_guard lock(mu_);
  return used_bytes_locked();
}

std::optional<std::string> FaultInjectingFileSystem::contents(const std::string& path) const {
  std::lock_guard lock(mu_);
  std::string name;
  const Dir* dir = const_cast<FaultInjectingFileSystem*>(this)->dir_of_locked(path, &name);
  if (dir == nullptr) return std::nullopt;
  auto it = dir->live.find(name);
  if (it == dir->live.end()) return std::nullopt;
  return it->second->data;
}

void FaultInjectingFileSystem::set_contents(const std::string& path, const std::string& bytes) {
  std::lock_guard lock(mu_);
  std::string name;
  Dir* dir = dir_of_locked(path, &name);
  if (dir == nullptr) {
    const std::size_t slash = path.rfind('/');
    auto& d = dirs_[path.substr(0, slash)];
    if (!d) d = std::make_unique<Dir>();
    dir = d.get();
    name = path.substr(slash + 1);
  }
  auto& inode = dir->live[name];
  if (!inode) inode = std::make_shared<Inode>();
  inode->data = bytes;
  inode->synced = bytes;
  dir->durable[name] = inode;
}

}  // namespace storage::testing
