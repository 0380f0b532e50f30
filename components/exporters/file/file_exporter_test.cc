#include "components/exporters/file/file_exporter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "csp/csp.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"

namespace components {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

csp::Context ctx() { return csp::with_timeout(csp::Context::background(), 5s).first; }

pipeline::Batch logs_batch(const std::string& body) {
  otlp::LogsRequest r;
  auto* lr = r.add_resource_logs()->add_scope_logs()->add_log_records();
  lr->mutable_body()->set_string_value(body);
  lr->set_time_unix_nano(1700000000000000000ULL);
  return pipeline::Batch{otlp::Signal::kLogs, *otlp::encode_binary(r), 1};
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("otlpd-file-test-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(std::rand()));
  fs::create_directories(d);
  return d;
}

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(FileExporter, WritesOneJsonObjectPerLineThatDecodesBack) {
  pipeline::Host host(pipeline::LogLevel::kError);
  const fs::path dir = temp_dir();
  FileConfig c;
  c.path = (dir / "out.json").string();
  auto e = std::make_shared<FileExporter>("file", c, host);
  ASSERT_TRUE(csp::block_on(e->start()).ok());
  ASSERT_TRUE(csp::block_on(e->consume(ctx(), logs_batch("first"))).ok());
  ASSERT_TRUE(csp::block_on(e->consume(ctx(), logs_batch("second"))).ok());
  csp::block_on(e->shutdown(ctx()));
  auto got = lines(c.path);
  ASSERT_EQ(got.size(), 2u);
  otlp::LogsRequest decoded;
  ASSERT_TRUE(otlp::decode_json(got[1], decoded).ok()) << got[1];
  EXPECT_EQ(decoded.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "second");
  EXPECT_NE(got[0].find("\"resourceLogs\""), std::string::npos);
  fs::remove_all(dir);
}

TEST(FileExporter, RotatesAndKeepsMaxBackups) {
  pipeline::Host host(pipeline::LogLevel::kError);
  const fs::path dir = temp_dir();
  FileConfig c;
  c.path = (dir / "rot.json").string();
  c.rotation = true;
  c.max_megabytes = 1;
  c.max_backups = 2;
  auto e = std::make_shared<FileExporter>("file", c, host);
  ASSERT_TRUE(csp::block_on(e->start()).ok());
  const std::string big(300 * 1024, 'x');
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(csp::block_on(e->consume(ctx(), logs_batch(big))).ok());
  csp::block_on(e->shutdown(ctx()));
  int backups = 0;
  std::uintmax_t total_lines = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_LE(fs::file_size(entry.path()), 1024u * 1024u + 0u) << entry.path();
    if (entry.path().filename() != "rot.json") ++backups;
    total_lines += lines(entry.path()).size();
  }
  EXPECT_EQ(backups, 2);
  EXPECT_GT(total_lines, 0u);
  fs::remove_all(dir);
}

TEST(FileExporter, RotationRemovesBackupsOlderThanMaxDays) {
  pipeline::Host host(pipeline::LogLevel::kError);
  const fs::path dir = temp_dir();
  // Two backups from an earlier run: one 10 days old, one from today.
  const fs::path old_backup = dir / "age-2000-01-01T00-00-00.json";
  const fs::path new_backup = dir / "age-2099-01-01T00-00-00.json";
  std::ofstream(old_backup) << "{}\n";
  std::ofstream(new_backup) << "{}\n";
  fs::last_write_time(old_backup, fs::file_time_type::clock::now() - std::chrono::hours(24 * 10));
  FileConfig c;
  c.path = (dir / "age.json").string();
  c.rotation = true;
  c.max_megabytes = 1;
  c.max_backups = 100;
  c.max_days = 3;
  auto e = std::make_shared<FileExporter>("file", c, host);
  ASSERT_TRUE(csp::block_on(e->start()).ok());
  const std::string big(300 * 1024, 'x');
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(csp::block_on(e->consume(ctx(), logs_batch(big))).ok());
  csp::block_on(e->shutdown(ctx()));
  EXPECT_FALSE(fs::exists(old_backup)) << "older than max_days";
  EXPECT_TRUE(fs::exists(new_backup));
  fs::remove_all(dir);
}

TEST(FileExporter, UnwritablePathFailsToStart) {
  pipeline::Host host(pipeline::LogLevel::kError);
  FileConfig c;
  c.path = "/nonexistent-dir/x/out.json";
  auto e = std::make_shared<FileExporter>("file", c, host);
  absl::Status s = csp::block_on(e->start());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/x/out.json"), std::string::npos);
}

// The flush goroutine hands buffered data to the OS while the exporter runs: a record far
// smaller than stdio's buffer reaches the file without a shutdown.
TEST(FileExporter, FlushesEveryIntervalWithoutShutdown) {
  pipeline::Host host(pipeline::LogLevel::kError);
  const fs::path dir = temp_dir();
  FileConfig c;
  c.path = (dir / "flush.json").string();
  c.flush_interval = 10ms;
  auto e = std::make_shared<FileExporter>("file", c, host);
  ASSERT_TRUE(csp::block_on(e->start()).ok());
  const pipeline::Batch batch = logs_batch("flushed");
  const std::size_t expected = file_record(batch, true)->size();
  ASSERT_TRUE(csp::block_on(e->consume(ctx(), batch)).ok());
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (fs::file_size(c.path) < expected && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(fs::file_size(c.path), expected);
  csp::block_on(e->shutdown(ctx()));
  fs::remove_all(dir);
}

// Without a flush interval nothing is flushed before shutdown, which then writes it all: the
// check above is about the flusher, not about stdio.
TEST(FileExporter, WithoutFlushIntervalDataWaitsForShutdown) {
  pipeline::Host host(pipeline::LogLevel::kError);
  const fs::path dir = temp_dir();
  FileConfig c;
  c.path = (dir / "noflush.json").string();
  c.flush_interval = csp::Duration::zero();
  auto e = std::make_shared<FileExporter>("file", c, host);
  ASSERT_TRUE(csp::block_on(e->start()).ok());
  const pipeline::Batch batch = logs_batch("held");
  const std::size_t expected = file_record(batch, true)->size();
  ASSERT_TRUE(csp::block_on(e->consume(ctx(), batch)).ok());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fs::file_size(c.path), 0u);
  csp::block_on(e->shutdown(ctx()));
  EXPECT_EQ(fs::file_size(c.path), expected);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace components
