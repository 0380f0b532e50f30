#include "components/exporters/file/file_exporter.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"
#include "otlp/signal.h"

namespace components {

absl::StatusOr<std::string> file_record(const pipeline::Batch& batch, bool json) {
  if (!json) {
    const auto n = static_cast<std::uint32_t>(batch.bytes.size());
    std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
    out += batch.bytes;
    return out;
  }
  // Export*ServiceRequest and *Data have the same fields, so their JSON is the same.
  std::unique_ptr<google::protobuf::Message> request = otlp::new_request(batch.signal);
  if (auto s = otlp::decode_binary(batch.bytes, *request); !s.ok()) return s;
  absl::StatusOr<std::string> line = otlp::encode_json(*request);
  if (line.ok()) line->push_back('\n');
  return line;
}

FileExporter::FileExporter(std::string id, FileConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {}

FileExporter::~FileExporter() {
  std::lock_guard lock(state_->mu);
  // Only if shutdown() was skipped: the flusher holds its own reference to the state, so it
  // ends safely on its own once told to.
  if (flusher_) flusher_->stop.close();
  if (state_->file != nullptr) std::fclose(state_->file);
  state_->file = nullptr;
}

absl::Status FileExporter::open_locked() {
  state_->file = std::fopen(config_.path.c_str(), config_.append ? "ab" : "wb");
  if (state_->file == nullptr) {
    return absl::UnavailableError(absl::StrCat("exporters::", id_, ": cannot open ", config_.path,
                                               ": ", std::strerror(errno)));
  }
  state_->size = static_cast<std::int64_t>(std::ftell(state_->file));
  return absl::OkStatus();
}

csp::Task<absl::Status> FileExporter::start() {
  std::lock_guard lock(state_->mu);
  if (started_) co_return absl::OkStatus();
  if (auto s = open_locked(); !s.ok()) co_return s;
  started_ = true;
  if (config_.flush_interval > csp::Duration::zero()) {
    flusher_ = Flusher{csp::Chan<csp::Unit>(0), csp::Chan<csp::Unit>(0)};
    csp::go(flush_every(state_, config_.flush_interval, *flusher_));
  }
  co_return absl::OkStatus();
}

// On a goroutine, not on the timer thread: fflush may wait for the disk, and for a rotation
// that consume() runs under the same mutex.
csp::Task<void> FileExporter::flush_every(std::shared_ptr<State> state, csp::Duration interval,
                                          Flusher flusher) {
  csp::Ticker ticker(interval);
  for (;;) {
    const std::size_t k = co_await csp::select(csp::recv(ticker.chan()), csp::recv(flusher.stop));
    if (k == 1) break;
    std::lock_guard lock(state->mu);
    if (state->file != nullptr) std::fflush(state->file);
  }
  flusher.done.close();
}

absl::Status FileExporter::rotate_locked() {
  std::fclose(state_->file);
  state_->file = nullptr;
  namespace fs = std::filesystem;
  const fs::path path(config_.path);
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (config_.localtime) {
    localtime_r(&now, &tm);
  } else {
    gmtime_r(&now, &tm);
  }
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%S", &tm);
  fs::path backup = path.parent_path() /
                    absl::StrCat(path.stem().string(), "-", stamp, path.extension().string());
  for (int i = 1; fs::exists(backup); ++i) {
    backup = path.parent_path() /
             absl::StrCat(path.stem().string(), "-", stamp, ".", i, path.extension().string());
  }
  std::error_code ec;
  fs::rename(path, backup, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("rotating ", config_.path, ": ", ec.message()));
  // Keep only the newest max_backups, and none older than max_days.
  std::vector<fs::path> backups;
  const std::string prefix = path.stem().string() + "-";
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const auto oldest_kept =
      fs::file_time_type::clock::now() - std::chrono::hours(24 * config_.max_days);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != path.extension()) continue;
    std::error_code time_ec;
    if (config_.max_days > 0 && entry.last_write_time(time_ec) < oldest_kept && !time_ec) {
      fs::remove(entry.path(), ec);
      continue;
    }
    backups.push_back(entry.path());
  }
  std::sort(backups.begin(), backups.end());
  while (config_.max_backups > 0 &&
         static_cast<std::int64_t>(backups.size()) > config_.max_backups) {
    fs::remove(backups.front(), ec);
    backups.erase(backups.begin());
  }
  const bool saved_append = config_.append;
  config_.append = false;
  absl::Status s = open_locked();
  config_.append = saved_append;
  return s;
}

csp::Task<absl::Status> FileExporter::consume(csp::Context, pipeline::Batch batch) {
  auto record = file_record(batch, config_.format == "json");
  if (!record.ok()) co_return absl::InvalidArgumentError(record.status().message());
  std::lock_guard lock(state_->mu);
  if (state_->file == nullptr)
    co_return absl::UnavailableError(absl::StrCat("exporter ", id_, " is not running"));
  if (config_.rotation && state_->size > 0 &&
      state_->size + static_cast<std::int64_t>(record->size()) >
          config_.max_megabytes * 1024 * 1024) {
    if (auto s = rotate_locked(); !s.ok()) co_return s;
  }
  if (std::fwrite(record->data(), 1, record->size(), state_->file) != record->size()) {
    co_return absl::UnavailableError(
        absl::StrCat("writing ", config_.path, ": ", std::strerror(errno)));
  }
  state_->size += static_cast<std::int64_t>(record->size());
  co_return absl::OkStatus();
}

csp::Task<void> FileExporter::shutdown(csp::Context) {
  std::optional<Flusher> flusher;
  {
    std::lock_guard lock(state_->mu);
    if (!started_) co_return;  // never started, or already shut down
    started_ = false;
    flusher = std::exchange(flusher_, std::nullopt);
  }
  // Join the flusher before closing the file (it takes the mutex, so not while holding it).
  if (flusher) {
    flusher->stop.close();
    co_await flusher->done.recv();
  }
  std::lock_guard lock(state_->mu);
  if (state_->file != nullptr) {
    std::fclose(state_->file);
    state_->file = nullptr;
  }
}

}  // namespace components
