// The POSIX FileSystem. Every call retries EINTR and loops over short reads and writes; nothing
// here caches or buffers, so a File's datasync() covers exactly what append/pwrite returned OK
// for.

#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace storage {

absl::Status status_from_errno(int err, std::string_view operation, std::string_view path) {
  std::string message(operation);
  message.append(" ").append(path).append(": ").append(std::strerror(err));
  // EIO is Unknown to Abseil; to a caller of the log it means "not stored, try again (or
  // elsewhere)", which is what Unavailable says.
  const absl::StatusCode code =
      err == EIO ? absl::StatusCode::kUnavailable : absl::ErrnoToStatusCode(err);
  return absl::Status(code, message);
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string path(dir);
  path.append("/").append(name);
  return path;
}

absl::StatusOr<std::string> read_file(FileSystem& fs, const std::string& path) {
  auto file = fs.open(path, OpenMode::kExisting);
  if (!file.ok()) return file.status();
  auto size = (*file)->size();
  if (!size.ok()) return size.status();
  std::string out;
  if (absl::Status s = (*file)->pread(0, *size, &out); !s.ok()) return s;
  return out;
}

absl::Status File::append_pieces(std::span<const std::string_view> pieces) {
  std::string joined;
  for (std::string_view piece : pieces) joined.append(piece);
  return append(joined);
}

namespace {

// No O_APPEND: Linux ignores pwrite's offset on such descriptors. append() writes at end_, the
// size as this handle knows it (the log has one writer per file).
class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, std::uint64_t size)
      : fd_(fd), path_(std::move(path)), end_(size) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  absl::Status append(std::string_view data) override {
    std::lock_guard lock(write_mu_);
    return pwrite_locked(end_, data);
  }

  absl::Status pwrite(std::uint64_t offset, std::string_view data) override {
    std::lock_guard lock(write_mu_);
    return pwrite_locked(offset, data);
  }

  absl::Status append_pieces(std::span<const std::string_view> pieces) override {
    std::lock_guard lock(write_mu_);
    std::vector<iovec> iov;
    iov.reserve(std::min<std::size_t>(pieces.size(), IOV_MAX));
    std::size_t next = 0;  // first piece not yet in iov
    while (next < pieces.size() || !iov.empty()) {
      // Fill iov up to IOV_MAX entries.
      while (next < pieces.size() && iov.size() < static_cast<std::size_t>(IOV_MAX)) {
        std::string_view piece = pieces[next++];
        if (!piece.empty()) iov.push_back(iovec{const_cast<char*>(piece.data()), piece.size()});
      }
      if (iov.empty()) break;
      const ssize_t n =
          ::pwritev(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(end_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return status_from_errno(errno, "pwritev", path_);
      }
      end_ += static_cast<std::uint64_t>(n);
      // Drop what was written: whole entries, then the front of a partly written one.
      auto left = static_cast<std::size_t>(n);
      std::size_t done = 0;
      while (done < iov.size() && left >= iov[done].iov_len) left -= iov[done++].iov_len;
      iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(done));
      if (left > 0) {
        iov.front().iov_base = static_cast<char*>(iov.front().iov_base) + left;
        iov.front().iov_len -= left;
      }
    }
    return absl::OkStatus();
  }

  absl::Status pread(std::uint64_t offset, std::size_t n, std::string* out) override {
    out->resize(n);
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, out->data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        out->clear();
        return status_from_errno(errno, "pread", path_);
      }
      if (r == 0) break;  // end of file
      got += static_cast<std::size_t>(r);
    }
    out->resize(got);
    return absl::OkStatus();
  }

  absl::Status datasync() override {
    // No retry on EINTR or EIO: after a failed fdatasync Linux may have dropped the dirty pages,
    // so a second call that succeeds would prove nothing. The caller treats the data as lost.
    if (::fdatasync(fd_) != 0) return status_from_errno(errno, "fdatasync", path_);
    return absl::OkStatus();
  }

  absl::StatusOr<std::uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return status_from_errno(errno, "fstat", path_);
    return static_cast<std::uint64_t>(st.st_size);
  }

  absl::Status truncate(std::uint64_t size) override {
    std::lock_guard lock(write_mu_);
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return status_from_errno(errno, "ftruncate", path_);
    }
    end_ = size;
    return absl::OkStatus();
  }

 private:
  absl::Status pwrite_locked(std::uint64_t offset, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return status_from_errno(errno, "pwrite", path_);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
      end_ = std::max(end_, offset);  // a short write still moved the end
    }
    return absl::OkStatus();
  }

  const int fd_;
  const std::string path_;
  std::mutex write_mu_;
  std::uint64_t end_;  // guarded by write_mu_
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override { ::close(fd_); }  // closing releases the flock
  PosixLock(const PosixLock&) = delete;
  PosixLock& operator=(const PosixLock&) = delete;

 private:
  const int fd_;
};

int open_flags(OpenMode mode) {
  const int base = O_RDWR | O_CLOEXEC;
  switch (mode) {
    case OpenMode::kExisting:
      return base;
    case OpenMode::kCreate:
      return base | O_CREAT;
    case OpenMode::kCreateNew:
      return base | O_CREAT | O_EXCL;
    case OpenMode::kReplace:
      return base | O_CREAT | O_TRUNC;
  }
  return base;
}

class PosixFileSystem final : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int fd;
    do {
      fd = ::open(path.c_str(), open_flags(mode), 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return status_from_errno(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return status_from_errno(err, "fstat", path);
    }
    return std::make_unique<PosixFile>(fd, path, static_cast<std::uint64_t>(st.st_size));
  }

  absl::Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return status_from_errno(errno, "rename", from + " -> " + to);
    }
    return absl::OkStatus();
  }

  absl::Status unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return status_from_errno(errno, "unlink", path);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> list(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return status_from_errno(errno, "opendir", dir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
      names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return status_from_errno(err, "readdir", dir);
    return names;
  }

  absl::Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return status_from_errno(errno, "open directory", dir);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return status_from_errno(err, "fsync directory", dir);
    return absl::OkStatus();
  }

  absl::Status create_dir(const std::string& dir) override {
    for (std::size_t at = 1; at <= dir.size(); ++at) {
      if (at != dir.size() && dir[at] != '/') continue;
      const std::string prefix = dir.substr(0, at);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return status_from_errno(errno, "mkdir", prefix);
      }
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return status_from_errno(errno, "stat", dir);
    if (!S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(dir + " is not a directory");
    return absl::OkStatus();
  }

  absl::StatusOr<std::uint64_t> free_space(const std::string& dir) override {
    struct statvfs st;
    if (::statvfs(dir.c_str(), &st) != 0) return status_from_errno(errno, "statvfs", dir);
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  }

  absl::StatusOr<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return status_from_errno(errno, "open lock file", path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(path + " is locked: another log has this directory");
      }
      return status_from_errno(err, "flock", path);
    }
    return std::make_unique<PosixLock>(fd);
  }

  std::string boot_id() override {
    // Linux gives every boot a random UUID; read once, it cannot change while we run.
    static const std::string id = [] {
      std::string out;
      if (std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "re")) {
        char buf[64];
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        std::fclose(f);
        out.assign(buf, n);
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
      }
      return out;
    }();
    return id;
  }
};

}  // namespace

FileSystem& posix_file_system() {
  // Stateless, so destroying it at exit is harmless to anyone still calling it.
  static PosixFileSystem fs;
  return fs;
}

}  // namespace storage
