#pragma once
// The `file` exporter: appends every batch to a file in the OTLP file format — one TracesData,
// MetricsData, LogsData or ProfilesData JSON object per line (format json), or each binary
// message behind a 4-byte big-endian length (format proto).
//
// Contract:
//  - Lines are written whole: concurrent batches never interleave.
//  - Data is handed to the OS at least every flush_interval, and on shutdown.
//  - With rotation, a file that would pass max_megabytes is renamed to
//    <name>-<UTC timestamp><ext> and a new one started; only max_backups old files are kept.
//  - A write error refuses the batch with UNAVAILABLE (the disk may come back).
//  - One instance may serve several pipelines (signals): start() and shutdown() are counted,
//    the file opens on the first start and closes on the last shutdown.

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "csp/timer.h"
#include "pipeline/component.h"
#include "pipeline/host.h"

namespace components {

struct FileConfig {
  std::string path;             // required
  std::string format = "json";  // json | proto
  bool append = false;          // false: truncate at start
  csp::Duration flush_interval = std::chrono::seconds(1);
  bool rotation = false;  // true once a `rotation` section is present
  std::int64_t max_megabytes = 100;
  std::int64_t max_backups = 100;
};

class FileExporter final : public pipeline::Exporter {
 public:
  FileExporter(std::string id, FileConfig config, pipeline::Host& host);
  ~FileExporter() override;

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

 private:
  absl::Status open_locked();
  absl::Status rotate_locked();
  void flush();

  std::string id_;
  FileConfig config_;
  pipeline::Host& host_;
  std::mutex mu_;
  std::FILE* file_ = nullptr;  // guarded by mu_
  std::int64_t size_ = 0;      // guarded by mu_
  int users_ = 0;              // start() calls not yet matched by shutdown(); guarded by mu_
  csp::TimerHandle flusher_;
};

// The line (json) or record (proto) the exporter writes for a batch.
absl::StatusOr<std::string> file_record(const pipeline::Batch& batch, bool json);

}  // namespace components
