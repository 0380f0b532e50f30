// The POSIX file system on a temporary directory, and the fault-injecting one's model of what a
// power cut keeps.
#include "storage/file_system.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "storage/testing/fault_injecting_file_system.h"

namespace storage {
namespace {

using testing::FaultInjectingFileSystem;
using testing::FaultOp;
using testing::PowerLossMode;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "otlpd-fs-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PosixFileSystem, WritesReadsRenamesAndLists) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  FileSystem& fs = posix_file_system();
  const std::string dir = tmp.path() + "/a/b";
  ASSERT_TRUE(fs.create_dir(dir).ok());
  ASSERT_TRUE(fs.create_dir(dir).ok());  // exists: fine
  auto file = fs.open(dir + "/f", OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->append("hello ").ok());
  ASSERT_TRUE((*file)->append("world").ok());
  ASSERT_TRUE((*file)->pwrite(0, "J").ok());
  ASSERT_TRUE((*file)->datasync().ok());
  EXPECT_EQ(*(*file)->size(), 11u);
  std::string out;
  ASSERT_TRUE((*file)->pread(6, 100, &out).ok());
  EXPECT_EQ(out, "world");
  ASSERT_TRUE((*file)->truncate(5).ok());
  EXPECT_EQ(*read_file(fs, dir + "/f"), "Jello");
  EXPECT_EQ(fs.open(dir + "/f", OpenMode::kCreateNew).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(fs.open(dir + "/missing", OpenMode::kExisting).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(fs.rename(dir + "/f", dir + "/g").ok());
  ASSERT_TRUE(fs.sync_dir(dir).ok());
  auto names = fs.list(dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"g"});
  ASSERT_TRUE(fs.unlink(dir + "/g").ok());
  EXPECT_GT(*fs.free_space(dir), 0u);
}

// Vectored appends land exactly as their pieces joined would: more pieces than one pwritev
// takes (IOV_MAX), empty ones, and large ones.
TEST(PosixFileSystem, AppendPiecesWritesThePiecesInOrder) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  FileSystem& fs = posix_file_system();
  auto file = fs.open(tmp.path() + "/f", OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->append("head:").ok());
  std::vector<std::string> storage;
  for (int i = 0; i < 3000; ++i) {
    storage.push_back(i % 7 == 0 ? std::string() : std::to_string(i) + ",");
  }
  storage.push_back(std::string(1 << 20, 'x'));  // a megabyte after the small ones
  std::vector<std::string_view> pieces(storage.begin(), storage.end());
  ASSERT_TRUE((*file)->append_pieces(pieces).ok());
  ASSERT_TRUE((*file)->append(":tail").ok());
  std::string expected = "head:";
  for (const std::string& piece : storage) expected += piece;
  expected += ":tail";
  EXPECT_EQ(*(*file)->size(), expected.size());
  EXPECT_TRUE(*read_file(fs, tmp.path() + "/f") == expected);
}

TEST(PosixFileSystem, LockIsExclusive) {
  TempDir tmp;
  FileSystem& fs = posix_file_system();
  auto first = fs.lock(tmp.path() + "/LOCK");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(fs.lock(tmp.path() + "/LOCK").status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(fs.lock(tmp.path() + "/LOCK").ok());
}

// Linux names each boot; the in-flight file relies on the name staying put while we run.
TEST(PosixFileSystem, BootIdNamesThisBoot) {
  FileSystem& fs = posix_file_system();
  const std::string id = fs.boot_id();
  EXPECT_EQ(id.size(), 36u) << "'" << id << "'";  // a UUID, without the newline
  EXPECT_EQ(fs.boot_id(), id);
}

TEST(FaultInjectingFileSystem, APowerLossStartsANewBootAProcessCrashDoesNot) {
  FaultInjectingFileSystem fs;
  const std::string first = fs.boot_id();
  fs.process_crash();
  fs.power_on();
  EXPECT_EQ(fs.boot_id(), first);
  fs.power_loss();
  fs.power_on();
  EXPECT_NE(fs.boot_id(), first);
}

TEST(FaultInjectingFileSystem, PowerLossKeepsOnlySyncedDataAndEntries) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(fs.create_dir("/d").ok());
  auto a = fs.open("/d/a", OpenMode::kCreateNew);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->append("synced").ok());
  ASSERT_TRUE((*a)->datasync().ok());
  ASSERT_TRUE(fs.sync_dir("/d").ok());
  ASSERT_TRUE((*a)->append(" lost").ok());
  auto b = fs.open("/d/b", OpenMode::kCreateNew);  // entry never synced
  ASSERT_TRUE((*b)->append("data").ok());
  ASSERT_TRUE((*b)->datasync().ok());
  fs.power_loss();
  EXPECT_FALSE(fs.open("/d/a", OpenMode::kExisting).ok());  // the power is off
  fs.power_on();
  EXPECT_EQ(fs.contents("/d/a"), "synced");
  EXPECT_EQ(fs.contents("/d/b"), std::nullopt);
  EXPECT_FALSE((*a)->append("x").ok());  // handles die with the process
}

TEST(FaultInjectingFileSystem, UnsyncedRenameAndUnlinkRevert) {
  FaultInjectingFileSystem fs;
  fs.set_contents("/d/old", "old");
  fs.set_contents("/d/tmp", "new");
  ASSERT_TRUE(fs.rename("/d/tmp", "/d/old").ok());
  EXPECT_EQ(fs.contents("/d/old"), "new");
  fs.power_loss();
  fs.power_on();
  EXPECT_EQ(fs.contents("/d/old"), "old");
  EXPECT_EQ(fs.contents("/d/tmp"), "new");
  ASSERT_TRUE(fs.unlink("/d/tmp").ok());
  fs.power_loss();
  fs.power_on();
  EXPECT_EQ(fs.contents("/d/tmp"), "new");
  ASSERT_TRUE(fs.rename("/d/tmp", "/d/old").ok());
  ASSERT_TRUE(fs.sync_dir("/d").ok());
  fs.power_loss();
  fs.power_on();
  EXPECT_EQ(fs.contents("/d/old"), "new");
  EXPECT_EQ(fs.contents("/d/tmp"), std::nullopt);
}

TEST(FaultInjectingFileSystem, TornWritesKeepAPrefixOfWhatWasAppended) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    FaultInjectingFileSystem fs(seed);
    fs.set_contents("/d/f", "base");
    auto f = fs.open("/d/f", OpenMode::kExisting);
    ASSERT_TRUE((*f)->append("0123456789").ok());
    fs.power_loss(PowerLossMode::kTornWrites);
    const std::string after = *fs.contents("/d/f");
    ASSERT_GE(after.size(), 4u);
    ASSERT_LE(after.size(), 14u);
    EXPECT_EQ(after.substr(0, 4), "base");
    const std::string tail = after.substr(4);
    const bool prefix = std::string("0123456789").compare(0, tail.size(), tail) == 0;
    const bool zeros = std::all_of(tail.begin(), tail.end(), [](char c) { return c == '\0'; });
    EXPECT_TRUE(prefix || zeros) << seed;
  }
}

TEST(FaultInjectingFileSystem, FailsTheNthOperation) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(fs.create_dir("/d").ok());
  auto f = fs.open("/d/f", OpenMode::kCreateNew);
  fs.fail_nth(FaultOp::kWrite, 2);
  EXPECT_TRUE((*f)->append("a").ok());
  const absl::Status failed = (*f)->append("bbbb");
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;  // EIO
  EXPECT_TRUE((*f)->append("c").ok());
  fs.fail_nth(FaultOp::kSync, 1);
  EXPECT_FALSE((*f)->datasync().ok());
  EXPECT_TRUE((*f)->datasync().ok());
  fs.fail_nth(FaultOp::kRename, 1);
  EXPECT_FALSE(fs.rename("/d/f", "/d/g").ok());
  EXPECT_TRUE(fs.contents("/d/f").has_value());
  ASSERT_EQ(fs.fired_faults().size(), 3u);
  EXPECT_EQ(fs.fired_faults()[0].path, "/d/f");
}

TEST(FaultInjectingFileSystem, SpaceBudgetGivesEnospc) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(fs.create_dir("/d").ok());
  fs.set_space_budget(10);
  auto f = fs.open("/d/f", OpenMode::kCreateNew);
  EXPECT_TRUE((*f)->append("12345678").ok());
  EXPECT_EQ(*fs.free_space("/d"), 2u);
  EXPECT_EQ((*f)->append("abcd").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fs.contents("/d/f"), "12345678ab");
  ASSERT_TRUE((*f)->truncate(4).ok());
  EXPECT_TRUE((*f)->append("xyz").ok());
}

TEST(FaultInjectingFileSystem, LockIsExclusiveUntilReleased) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(fs.create_dir("/d").ok());
  auto first = fs.lock("/d/LOCK");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(fs.lock("/d/LOCK").ok());
  first->reset();
  EXPECT_TRUE(fs.lock("/d/LOCK").ok());
}

}  // namespace
}  // namespace storage
