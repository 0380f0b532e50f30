#pragma once
// The `file` exporter: appends every batch to a file in the OTLP file format — one TracesData,
// MetricsData, LogsData or ProfilesData JSON object per line (format json), or each binary
// message behind a 4-byte big-endian length (format proto).
//
// Contract:
//  - Lines are written whole: concurrent batches never interleave.
//  - Data is handed to the OS at least every flush_interval, and on shutdown.
//  - With rotation, a file that would pass max_megabytes is renamed to
//    <name>-<timestamp><ext> (UTC, or local time with `localtime`) and a new one started; only
//    the newest max_backups old files are kept, and none older than max_days (0: no age limit).
//  - A write error refuses the batch with UNAVAILABLE (the disk may come back).
//  - One instance per id serves every signal (the factory is shared_across_signals, so the
//    graph builds it once): all signals go to one file. The file opens at start() and closes
//    at shutdown(); a shutdown without a start does nothing; consume() before start or after
//    shutdown refuses.
//  - Periodic flushing runs on a goroutine started by start() and joined by shutdown(); it
//    shares only the file state (never `this`), so it cannot outlive what it touches, and it
//    never runs on the timer thread.

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "csp/chan.h"
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
  std::int64_t max_days = 0;  // backups older than this are removed at rotation; 0 = keep
  bool localtime = false;     // backup names in local time instead of UTC
};

class FileExporter final : public pipeline::Exporter {
 public:
  FileExporter(std::string id, FileConfig config, pipeline::Host& host);
  ~FileExporter() override;

  csp::Task<absl::Status> consume(csp::Context ctx, pipeline::Batch batch) override;
  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

 private:
  // The open file, shared with the flusher goroutine.
  struct State {
    std::mutex mu;
    std::FILE* file = nullptr;  // guarded by mu
    std::int64_t size = 0;      // guarded by mu
  };
  // The flusher goroutine: stop is closed to end it; it closes done when it has ended.
  struct Flusher {
    csp::Chan<csp::Unit> stop;
    csp::Chan<csp::Unit> done;
  };
  static csp::Task<void> flush_every(std::shared_ptr<State> state, csp::Duration interval,
                                     Flusher flusher);

  absl::Status open_locked();
  absl::Status rotate_locked();

  std::string id_;
  FileConfig config_;
  pipeline::Host& host_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  bool started_ = false;            // between start() and shutdown(); guarded by mu
  std::optional<Flusher> flusher_;  // while started with a flush interval; guarded by mu
};

// The line (json) or record (proto) the exporter writes for a batch.
absl::StatusOr<std::string> file_record(const pipeline::Batch& batch, bool json);

}  // namespace components
