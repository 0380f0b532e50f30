// DurableLog: appending, the I/O thread, delivery. Recovery is in durable_log_recovery.cc.
//
// Invariants (under mu_):
//  - Sequence numbers below processed_end_ are either committed records (a segment S holds
//    S.first .. S.first + S.records - 1) or void (their batch failed). Those in
//    [processed_end_, next_seq_) are queued or being written. Records become readable only when
//    committed, so nothing unconfirmed is ever delivered.
//  - Segments are disjoint and ordered by first sequence number; only the newest may be active
//    (unsealed), and only the I/O thread seals, creates or deletes segments.
//  - cursor_ <= processed_end_. Every sequence number below cursor_ is settled (acked,
//    dead-lettered, found corrupt) or void; persisted_cursor_ <= cursor_ and is what the manifest
//    on disk says. A segment is deleted only when its whole range is below persisted_cursor_.
//  - A record is in in_flight_ from the moment a reader hands it out until it is settled; there
//    it is either handed out (ack/nack allowed) or waiting in redeliver_ / dead_letter_queue_.
//
// Group commit, one batch at a time:
//   appenders: lock; seq = next_seq_++; add the frame to open_batch_; unlock; wait on its `done`
//   I/O thread: lock; take open_batch_ (new appends start the next one); unlock
//               write the frames (rolling segments), fdatasync (kAlways)
//               lock; commit (records count, processed_end_) or void the range; unlock
//               set the status, close `done` (wakes every appender of the batch)
// While one batch syncs, the next fills: its appenders share the following fdatasync.
//
// Crash counting (the `inflight` file, internal/inflight.h): a record gets a slot when it is
// first handed out and keeps it until settled. Each transition is one pwrite of its slot,
// planned under mu_ (slot_writers_ counts the planned ones) and done outside it, by whoever
// holds the record at that moment — so two writes to one slot never race:
//   handed out (try_next)      -> kHandedOut        written before try_next returns it
//   pause / resume             -> kResting / kHandedOut
//   nack                       -> kResting          written before it is queued again
//   settled (ack, dead letter) -> zeros, then the slot is free for another record
// close() freezes the file (no more writes), waits for planned writes, and writes kResting
// (or zeros) into every slot still owned, so only a process that died leaves kHandedOut.
//
// Failure handling: any write or sync error seals the active segment (nothing more is written
// into a file whose tail is now unknown — after a failed fdatasync the kernel may have dropped
// the pages) and voids the batch's sequence numbers. The next batch starts a new segment.

#include "storage/durable_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "csp/select.h"
#include "storage/internal/frame.h"
#include "storage/internal/inflight.h"
#include "storage/internal/log_files.h"
#include "storage/internal/manifest.h"

namespace storage {

using internal::frame_bytes;
using internal::kFrameHeaderBytes;
using internal::SlotState;

namespace {
constexpr int kSlotFree = static_cast<int>(SlotState::kFree);
constexpr int kSlotHandedOut = static_cast<int>(SlotState::kHandedOut);
constexpr int kSlotResting = static_cast<int>(SlotState::kResting);
}  // namespace

DurableLog::DurableLog(PrivateTag, FileSystem& fs, std::string dir, DurableLogOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

DurableLog::~DurableLog() { (void)close(); }

absl::StatusOr<std::unique_ptr<DurableLog>> DurableLog::open(FileSystem& fs, std::string dir,
                                                             DurableLogOptions options) {
  if (options.max_segment_bytes == 0 || options.max_total_bytes == 0 ||
      options.max_segment_bytes > options.max_total_bytes / 2) {
    return absl::InvalidArgumentError(
        "durable log: max_segment_bytes must be positive and at most max_total_bytes / 2");
  }
  if (options.max_record_bytes > (1u << 30)) {
    return absl::InvalidArgumentError("durable log: max_record_bytes is at most 1 GiB");
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto log = std::make_unique<DurableLog>(PrivateTag(), fs, std::move(dir), options);
  if (absl::Status s = log->recover(); !s.ok()) return s;
  // Rewrite the manifest now: it repairs a missing or corrupt one and deletes settled segments.
  // A failure here is not fatal; the cursor is written again as soon as it moves.
  (void)log->persist_cursor_and_reclaim();
  log->io_thread_ = std::thread([raw = log.get()] { raw->io_loop(); });
  return log;
}

// ---------------------------------------------------------------------------------------------
// Appending

absl::Status DurableLog::admit_locked(std::uint64_t bytes, bool* stale_free_space) {
  *stale_free_space = false;
  if (disk_bytes_ + queued_bytes_ + bytes > options_.max_total_bytes) {
    // If the active segment is wholly settled, closing it lets the I/O thread delete it.
    auto active = segments_.empty() ? segments_.end() : std::prev(segments_.end());
    if (active != segments_.end() && !active->second.sealed && active->second.records > 0 &&
        cursor_ >= active->first + active->second.records) {
      roll_requested_ = true;
      io_cv_.notify_one();
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("durable log ", dir_, " is full (", disk_bytes_ + queued_bytes_, " of ",
                     options_.max_total_bytes, " bytes): retry after deliveries are acknowledged"));
  }
  if (free_space_ < queued_bytes_ + bytes + options_.free_space_reserve) {
    *stale_free_space = true;
    return absl::ResourceExhaustedError(
        absl::StrCat("durable log ", dir_, ": file system full (", free_space_, " bytes free, ",
                     options_.free_space_reserve, " kept in reserve)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<DurableLog::CommitBatch>> DurableLog::enqueue(std::string record,
                                                                             std::uint64_t* seq) {
  if (record.size() > options_.max_record_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("durable log: record of ", record.size(),
                                                   " bytes exceeds max_record_bytes (",
                                                   options_.max_record_bytes, ")"));
  }
  // Frame outside the lock: the checksum is the expensive part.
  PendingFrame frame;
  internal::encode_frame_header(record, frame.header.data());
  frame.payload = std::move(record);
  const std::uint64_t bytes = frame.size();

  std::shared_ptr<CommitBatch> batch;
  bool started_batch = false;
  for (int attempt = 0;; ++attempt) {
    std::unique_lock lock(mu_);
    if (closing_) return absl::FailedPreconditionError("durable log is closed");
    if (next_seq_ >= internal::kMaxSequence) {
      return absl::FailedPreconditionError("durable log: sequence numbers exhausted");
    }
    bool stale_free_space = false;
    if (absl::Status s = admit_locked(bytes, &stale_free_space); !s.ok()) {
      if (stale_free_space && attempt == 0) {
        // Space may have been freed outside the log since the I/O thread last looked.
        lock.unlock();
        auto free = fs_.free_space(dir_);
        lock.lock();
        if (free.ok()) free_space_ = *free;
        continue;
      }
      ++stats_.appends_refused_full;
      return s;
    }
    if (!open_batch_) {
      open_batch_ = std::make_shared<CommitBatch>();
      open_batch_->first_seq = next_seq_;
      started_batch = true;
    }
    *seq = next_seq_++;
    open_batch_->frames.push_back(std::move(frame));
    open_batch_->bytes += bytes;
    queued_bytes_ += bytes;
    batch = open_batch_;
    break;
  }
  // Only the batch's first append needs to wake the I/O thread: until it takes the batch, it has
  // not seen open_batch_ empty again.
  if (started_batch) io_cv_.notify_one();
  return batch;
}

csp::Task<absl::StatusOr<std::uint64_t>> DurableLog::append(std::string record) {
  std::uint64_t seq = 0;
  absl::StatusOr<std::shared_ptr<CommitBatch>> batch = enqueue(std::move(record), &seq);
  if (!batch.ok()) co_return batch.status();
  csp::Chan<csp::Unit> done = (*batch)->done;
  (void)co_await done.recv();  // closed by the I/O thread once the batch is settled
  if (!(*batch)->status.ok()) co_return (*batch)->status;
  co_return seq;
}

absl::StatusOr<std::uint64_t> DurableLog::append_blocking(std::string record) {
  std::uint64_t seq = 0;
  absl::StatusOr<std::shared_ptr<CommitBatch>> batch = enqueue(std::move(record), &seq);
  if (!batch.ok()) return batch.status();
  (void)(*batch)->done.recv_blocking();
  if (!(*batch)->status.ok()) return (*batch)->status;
  return seq;
}

// ---------------------------------------------------------------------------------------------
// The I/O thread

bool DurableLog::cursor_write_due_locked(std::chrono::steady_clock::time_point now) const {
  if (flush_requested_ > flush_done_) return true;
  if (now < cursor_retry_at_) return false;
  if (roll_requested_) return true;
  if (cursor_ == persisted_cursor_ && !attempts_dirty_) return false;
  // A settled head segment is disk space waiting for the cursor: write it now.
  if (!segments_.empty()) {
    auto head = segments_.begin();
    auto after = std::next(head);
    const std::uint64_t end =
        after != segments_.end() ? after->first : head->first + head->second.records;
    if (head->second.sealed && end <= cursor_ && end > persisted_cursor_) return true;
  }
  return now >= last_cursor_write_ + options_.cursor_persist_interval;
}

void DurableLog::io_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (open_batch_) {
      std::shared_ptr<CommitBatch> batch = std::move(open_batch_);
      open_batch_.reset();
      lock.unlock();
      commit_batch(*batch);
      lock.lock();
      continue;
    }
    if (!dead_letter_queue_.empty()) {
      std::vector<std::uint64_t> seqs = std::move(dead_letter_queue_);
      dead_letter_queue_.clear();
      lock.unlock();
      process_dead_letters(std::move(seqs));
      lock.lock();
      continue;
    }
    if (closing_) break;
    if (cursor_write_due_locked(now)) {
      if (roll_requested_) {
        seal_active_segment_locked();
        roll_requested_ = false;
      }
      const std::uint64_t flush_ticket = flush_requested_;
      lock.unlock();
      const absl::Status status = persist_cursor_and_reclaim();
      lock.lock();
      if (flush_ticket > flush_done_) {
        flush_done_ = flush_ticket;
        flush_status_ = status;
        flush_cv_.notify_all();
      }
      continue;
    }
    if (cursor_ != persisted_cursor_ || attempts_dirty_) {
      io_cv_.wait_until(
          lock, std::max(last_cursor_write_ + options_.cursor_persist_interval, cursor_retry_at_));
    } else {
      io_cv_.wait(lock);
    }
  }
  // Closing: every queued batch and dead letter is done; write the cursor one last time.
  const bool write = cursor_ != persisted_cursor_ || attempts_dirty_;
  const std::uint64_t flush_ticket = flush_requested_;
  lock.unlock();
  absl::Status status = write ? persist_cursor_and_reclaim() : absl::OkStatus();
  lock.lock();
  flush_done_ = flush_ticket;
  flush_status_ = status;
  flush_cv_.notify_all();
}

void DurableLog::commit_batch(CommitBatch& batch) {
  std::vector<SegmentWrite> writes;
  absl::Status status = write_batch(batch, &writes);
  const absl::StatusOr<std::uint64_t> free = fs_.free_space(dir_);
  const std::uint64_t count = batch.frames.size();
  {
    std::lock_guard lock(mu_);
    queued_bytes_ -= batch.bytes;
    if (free.ok()) free_space_ = *free;
    for (const SegmentWrite& w : writes) {
      auto it = segments_.find(w.segment);
      if (status.ok() && it != segments_.end() && it->second.poisoned) {
        status = absl::DataLossError("durable log: segment found corrupt while being written");
      }
    }
    for (const SegmentWrite& w : writes) {
      auto it = segments_.find(w.segment);
      if (it == segments_.end()) continue;
      it->second.bytes += w.bytes;
      disk_bytes_ += w.bytes;
      if (status.ok()) {
        it->second.records += w.frames;
        it->second.committed_bytes += w.bytes;
      }
    }
    processed_end_ = batch.first_seq + count;
    ++stats_.group_commits;
    if (status.ok()) {
      stats_.appended += count;
      unread_ += count;
    } else {
      stats_.append_errors += count;
      seal_active_segment_locked();
      advance_cursor_locked();  // the voided numbers may sit right at the cursor
    }
  }
  batch.status = status;
  batch.done.close();
  if (status.ok()) signal_available();
}

absl::Status DurableLog::write_batch(CommitBatch& batch, std::vector<SegmentWrite>* writes) {
  const std::size_t n = batch.frames.size();
  std::vector<std::string_view> chunk;  // headers and payloads, written with one pwritev
  std::uint64_t chunk_bytes = 0;
  std::size_t i = 0;
  while (i < n) {
    const std::uint64_t seq = batch.first_seq + i;
    const std::uint64_t size = batch.frames[i].size();
    bool poisoned = false;
    if (active_file_) {
      std::lock_guard lock(mu_);
      poisoned = segments_.at(active_first_).poisoned;
    }
    if (!active_file_ || poisoned ||
        (active_bytes_ > 0 && active_bytes_ + size > options_.max_segment_bytes)) {
      if (absl::Status s = start_segment(seq); !s.ok()) return s;
    }
    // Every frame that still fits goes into this segment with one write and one sync; the
    // first frame of an empty segment always fits (a record larger than a segment gets its own).
    chunk.clear();
    chunk_bytes = 0;
    std::size_t j = i;
    while (j < n) {
      const PendingFrame& frame = batch.frames[j];
      if (active_bytes_ + chunk_bytes > 0 &&
          active_bytes_ + chunk_bytes + frame.size() > options_.max_segment_bytes) {
        break;
      }
      chunk.emplace_back(frame.header.data(), frame.header.size());
      chunk.push_back(frame.payload);
      chunk_bytes += frame.size();
      ++j;
    }
    if (writes->empty() || writes->back().segment != active_first_) {
      writes->push_back(SegmentWrite{active_first_, 0, 0});
    }
    writes->back().bytes += chunk_bytes;
    active_bytes_ += chunk_bytes;
    if (absl::Status s = active_file_->append_pieces(chunk); !s.ok()) return s;
    if (options_.fsync == FsyncPolicy::kAlways) {
      if (absl::Status s = active_file_->datasync(); !s.ok()) return s;
    }
    writes->back().frames += j - i;
    i = j;
  }
  return absl::OkStatus();
}

absl::Status DurableLog::start_segment(std::uint64_t first_seq) {
  {
    std::lock_guard lock(mu_);
    seal_active_segment_locked();
  }
  const std::string path = join_path(dir_, internal::segment_file_name(first_seq));
  absl::StatusOr<std::unique_ptr<File>> file = fs_.open(path, OpenMode::kCreateNew);
  if (file.status().code() == absl::StatusCode::kAlreadyExists) {
    // A frameless leftover of a failed write (recovery numbers past every frame it found). Not
    // truncated in place: until synced, a truncation may be undone by a power cut and bring
    // the old bytes back under this name. A new file cannot have old bytes.
    if (absl::Status s = fs_.unlink(path); !s.ok()) return s;
    file = fs_.open(path, OpenMode::kCreateNew);
  }
  if (!file.ok()) return file.status();
  // The name must be durable before any record in the file is reported durable.
  if (absl::Status s = fs_.sync_dir(dir_); !s.ok()) return s;
  std::shared_ptr<File> shared(std::move(*file));
  std::lock_guard lock(mu_);
  Segment seg;
  seg.first_seq = first_seq;
  seg.path = path;
  seg.file = shared;
  segments_[first_seq] = std::move(seg);
  active_file_ = std::move(shared);
  active_first_ = first_seq;
  active_bytes_ = 0;
  return absl::OkStatus();
}

void DurableLog::seal_active_segment_locked() {
  if (!active_file_) return;
  auto it = segments_.find(active_first_);
  if (it != segments_.end()) it->second.sealed = true;
  active_file_.reset();
  active_bytes_ = 0;
}

absl::Status DurableLog::write_dead_letter(const std::string& payload) {
  const std::string path = join_path(dir_, internal::kDeadLetterFileName);
  if (!dead_letter_file_) {
    absl::StatusOr<std::unique_ptr<File>> file = fs_.open(path, OpenMode::kCreate);
    if (!file.ok()) return file.status();
    dead_letter_file_ = std::move(*file);
    dead_letter_dir_synced_ = false;
  }
  // After an earlier failed write the file may end in a partial frame: cut it first.
  absl::StatusOr<std::uint64_t> size = dead_letter_file_->size();
  if (!size.ok()) return size.status();
  if (*size != dead_letter_bytes_) {
    if (absl::Status s = dead_letter_file_->truncate(dead_letter_bytes_); !s.ok()) return s;
  }
  std::string frame;
  internal::append_frame(&frame, payload);
  if (absl::Status s = dead_letter_file_->append(frame); !s.ok()) return s;
  if (options_.fsync == FsyncPolicy::kAlways) {
    if (absl::Status s = dead_letter_file_->datasync(); !s.ok()) return s;
    if (!dead_letter_dir_synced_) {
      if (absl::Status s = fs_.sync_dir(dir_); !s.ok()) return s;
      dead_letter_dir_synced_ = true;
    }
  }
  dead_letter_bytes_ += frame.size();
  return absl::OkStatus();
}

void DurableLog::process_dead_letters(std::vector<std::uint64_t> seqs) {
  std::vector<SlotWrite> releases;
  for (const std::uint64_t seq : seqs) {
    std::shared_ptr<File> file;
    InFlight where;
    {
      std::lock_guard lock(mu_);
      auto it = in_flight_.find(seq);
      auto seg = it == in_flight_.end() ? segments_.end() : segments_.find(it->second.segment);
      if (seg == segments_.end()) continue;  // cannot happen: unsettled records keep segments
      where = it->second;
      file = seg->second.file;
    }
    std::string frame;
    absl::Status read = file->pread(where.offset, frame_bytes(where.length), &frame);
    internal::FrameHeader header;
    const bool intact = read.ok() && internal::check_frame(frame, options_.max_record_bytes,
                                                           &header) == internal::FrameStatus::kOk;
    const std::uint64_t frame_size = frame_bytes(where.length);
    const bool fits = options_.max_dead_letter_bytes > 0 &&
                      dead_letter_bytes_ + frame_size <= options_.max_dead_letter_bytes;
    absl::Status written = absl::OkStatus();
    if (intact && fits) {
      written = write_dead_letter(frame.substr(kFrameHeaderBytes));
    }
    std::lock_guard lock(mu_);
    if (!read.ok() || (intact && fits && !written.ok())) {
      // Keep the record; it comes back through next() and is dead-lettered at its next nack
      // (or, if it crashes the process again, at the next open).
      ++stats_.dead_letter_errors;
      in_flight_.at(seq).crash_dead_letter = false;
      redeliver_.insert(seq);
      continue;
    }
    in_flight_.erase(seq);
    if (!intact) {
      ++stats_.corrupt_skipped;
    } else if (fits) {
      ++stats_.dead_lettered;
      if (where.crash_dead_letter) ++stats_.dead_lettered_after_crashes;
    } else {
      ++stats_.dead_letter_discarded;
    }
    settle_locked(seq);
    SlotWrite w;
    if (plan_slot_release_locked(seq, where.slot, &w)) releases.push_back(std::move(w));
  }
  do_slot_writes(releases);
  signal_available();
}

absl::Status DurableLog::persist_cursor_and_reclaim() {
  internal::Manifest manifest;
  {
    std::lock_guard lock(mu_);
    manifest.cursor = cursor_;
    for (const auto& [seq, f] : in_flight_) {
      if (f.attempts > 0) manifest.attempts.emplace_back(seq, f.attempts);
    }
    for (const auto& [seq, attempts] : recovered_attempts_) {
      if (seq >= cursor_) manifest.attempts.emplace_back(seq, attempts);
    }
    attempts_dirty_ = false;
  }
  std::sort(manifest.attempts.begin(), manifest.attempts.end());
  const absl::Status status = internal::write_manifest(fs_, dir_, manifest);
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    if (!status.ok()) {
      ++stats_.cursor_write_errors;
      attempts_dirty_ = true;
      cursor_retry_at_ =
          now + std::max(options_.cursor_persist_interval, std::chrono::milliseconds(10));
      return status;
    }
    ++stats_.cursor_writes;
    persisted_cursor_ = manifest.cursor;
    last_cursor_write_ = now;
    // Delete the sealed head segments whose whole range is below the persisted cursor.
    while (!segments_.empty()) {
      auto head = segments_.begin();
      auto after = std::next(head);
      const std::uint64_t end =
          after != segments_.end() ? after->first : head->first + head->second.records;
      if (!head->second.sealed || end > persisted_cursor_) break;
      doomed.push_back(head->second.path);
      disk_bytes_ -= head->second.bytes;
      segments_.erase(head);
    }
  }
  for (const std::string& path : doomed) {
    // A failed unlink leaves a settled segment behind; the next open deletes it.
    (void)fs_.unlink(path);
  }
  if (!doomed.empty()) {
    const absl::StatusOr<std::uint64_t> free = fs_.free_space(dir_);
    std::lock_guard lock(mu_);
    if (free.ok()) free_space_ = *free;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Delivery

void DurableLog::signal_available() { (void)available_.try_send(csp::Unit{}); }

bool DurableLog::pick_locked(Pick* pick) {
  if (!redeliver_.empty()) {
    const std::uint64_t seq = *redeliver_.begin();
    redeliver_.erase(redeliver_.begin());
    const InFlight& f = in_flight_.at(seq);
    const Segment& seg = segments_.at(f.segment);
    *pick = Pick{seq, seg.file, f.segment, f.offset, seg.committed_bytes, true, f.length};
    return true;
  }
  for (;;) {
    auto it = segments_.find(read_segment_);
    if (it == segments_.end()) {
      // Not yet created, or settled and deleted: the next segment starts at or after read_seq_.
      auto next = segments_.lower_bound(read_seq_);
      if (next == segments_.end()) return false;
      read_segment_ = read_seq_ = next->first;
      read_offset_ = 0;
      continue;
    }
    const Segment& seg = it->second;
    if (read_seq_ < seg.first_seq + seg.records) {
      *pick = Pick{read_seq_, seg.file, seg.first_seq, read_offset_, seg.committed_bytes, false, 0};
      return true;
    }
    // Past the committed records. Numbers up to the next segment are void only once processed.
    auto next = std::next(it);
    if (!seg.sealed || next == segments_.end() || next->first > processed_end_) return false;
    read_segment_ = read_seq_ = next->first;
    read_offset_ = 0;
  }
}

absl::StatusOr<std::optional<Record>> DurableLog::try_next() {
  std::lock_guard read_lock(read_mu_);
  for (;;) {
    Pick pick;
    {
      std::lock_guard lock(mu_);
      if (closing_) return absl::FailedPreconditionError("durable log is closed");
      if (!pick_locked(&pick)) return std::nullopt;
    }
    // Read the header, then the payload into a string of its own: it is handed out as it is.
    std::string head;
    std::string payload;
    internal::FrameHeader header;
    internal::FrameStatus check = internal::FrameStatus::kTruncated;
    absl::Status read = pick.file->pread(pick.offset, kFrameHeaderBytes, &head);
    if (read.ok() && head.size() == kFrameHeaderBytes) {
      header = internal::decode_header(head.data());
      if (header.length > options_.max_record_bytes ||
          (pick.redelivery && header.length != pick.length)) {
        check = internal::FrameStatus::kBadLength;
      } else if (pick.redelivery || pick.offset + frame_bytes(header.length) <= pick.limit) {
        read = pick.file->pread(pick.offset + kFrameHeaderBytes, header.length, &payload);
        if (read.ok() && payload.size() == header.length) {
          check = internal::frame_checksum_ok(header, payload)
                      ? internal::FrameStatus::kOk
                      : internal::FrameStatus::kBadChecksum;
        }
      }
    }
    // A frame that fails its check now was intact at recovery or when written: the disk changed
    // under us. Decide, by the same rules as recovery, how far to skip.
    std::uint64_t skip_frames = 1;
    std::uint64_t next_offset = pick.offset + frame_bytes(header.length);
    if (read.ok() && check != internal::FrameStatus::kOk && !pick.redelivery) {
      std::string rest;
      read = pick.file->pread(pick.offset, pick.limit - pick.offset, &rest);
      if (read.ok()) {
        const internal::ScanResult scan =
            internal::scan_frames(rest, options_.max_record_bytes, 1, false, nullptr);
        if (scan.frames == 1) {
          next_offset = pick.offset + scan.end_offset;
        } else {
          skip_frames = 0;  // the rest of the segment cannot be delimited
        }
      }
    }
    std::unique_lock lock(mu_);
    if (!read.ok()) {
      if (pick.redelivery) redeliver_.insert(pick.seq);
      return read;  // an I/O error: nothing moved, a later call tries again
    }
    // The record is marked handed out in the `inflight` file before the caller gets it, so a
    // crash while it is being worked on is counted.
    SlotWrite slot_write;
    auto hand_out = [&](Record record) -> absl::StatusOr<std::optional<Record>> {
      lock.unlock();
      do_slot_writes(std::span<const SlotWrite>(&slot_write, 1));
      return std::optional<Record>(std::move(record));
    };
    if (pick.redelivery) {
      InFlight& f = in_flight_.at(pick.seq);
      if (check == internal::FrameStatus::kOk) {
        f.handed_out = true;
        ++stats_.in_flight;
        Record record{pick.seq, std::move(payload), f.attempts};
        const bool more = unread_ > 0 || !redeliver_.empty();
        if (more) signal_available();
        if (!plan_slot_write_locked(pick.seq, f, kSlotHandedOut, true, &slot_write)) {
          return std::optional<Record>(std::move(record));
        }
        return hand_out(std::move(record));
      }
      const std::uint32_t slot = f.slot;
      in_flight_.erase(pick.seq);
      ++stats_.corrupt_skipped;
      settle_locked(pick.seq);
      if (plan_slot_release_locked(pick.seq, slot, &slot_write)) {
        lock.unlock();
        do_slot_writes(std::span<const SlotWrite>(&slot_write, 1));
      }
      continue;
    }
    Segment& seg = segments_.at(pick.segment);
    Tracked tracked;
    if (auto t = recovered_crashes_.find(pick.seq); t != recovered_crashes_.end()) {
      tracked = t->second;
      recovered_crashes_.erase(t);
    }
    if (check == internal::FrameStatus::kOk) {
      std::uint32_t attempts = 0;
      if (auto a = recovered_attempts_.find(pick.seq); a != recovered_attempts_.end()) {
        attempts = a->second;
        recovered_attempts_.erase(a);
      }
      InFlight& f = in_flight_[pick.seq] =
          InFlight{pick.segment, pick.offset, header.length, attempts, /*handed_out=*/true};
      f.crashes = tracked.crashes;
      f.slot = tracked.slot;
      ++read_seq_;
      read_offset_ = next_offset;
      --unread_;
      if (options_.max_crashes_in_flight > 0 && f.crashes >= options_.max_crashes_in_flight) {
        // It was being worked on at max_crashes_in_flight process deaths: a poison record.
        // Not handed out again; the I/O thread copies it to dead_letter.log and settles it.
        f.handed_out = false;
        f.crash_dead_letter = true;
        dead_letter_queue_.push_back(pick.seq);
        io_cv_.notify_one();
        continue;
      }
      ++stats_.in_flight;
      Record record{pick.seq, std::move(payload), attempts};
      if (unread_ > 0 || !redeliver_.empty()) signal_available();
      if (!plan_slot_write_locked(pick.seq, f, kSlotHandedOut, true, &slot_write)) {
        return std::optional<Record>(std::move(record));
      }
      return hand_out(std::move(record));
    }
    if (skip_frames == 1) {
      ++stats_.corrupt_skipped;
      ++read_seq_;
      read_offset_ = next_offset;
      --unread_;
      settle_locked(pick.seq);
      if (plan_slot_release_locked(pick.seq, tracked.slot, &slot_write)) {
        lock.unlock();
        do_slot_writes(std::span<const SlotWrite>(&slot_write, 1));
      }
      continue;
    }
    // Give up on the rest of this segment: its records from here on are void.
    const std::uint64_t lost = seg.first_seq + seg.records - pick.seq;
    stats_.corrupt_skipped += lost;
    unread_ -= lost;
    seg.records = pick.seq - seg.first_seq;
    seg.committed_bytes = pick.offset;
    if (!seg.sealed) {
      // The active segment: appends must not land behind bytes no reader can pass. Batches in
      // it fail from now on (their appenders retry) and the I/O thread closes it.
      seg.poisoned = true;
      roll_requested_ = true;
      io_cv_.notify_one();
    }
    advance_cursor_locked();
  }
}

csp::Task<absl::StatusOr<Record>> DurableLog::next(csp::Context ctx) {
  csp::Chan<csp::Unit> available = available_;
  csp::Chan<csp::Unit> closed = closed_signal_;
  csp::Chan<csp::Unit> done = ctx.done();
  for (;;) {
    absl::StatusOr<std::optional<Record>> got = try_next();
    if (!got.ok()) co_return got.status();
    if (got->has_value()) co_return std::move(**got);
    // Nothing now. A commit or nack after try_next leaves a token in `available` (capacity 1),
    // so this cannot miss it; whoever takes the token passes it on if more is ready.
    const int which =
        co_await csp::select(csp::recv(available), csp::recv(closed), csp::recv(done));
    if (which == 2) co_return ctx.err();
  }
}

absl::Status DurableLog::ack(std::uint64_t seq) {
  SlotWrite release;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(seq);
    if (it == in_flight_.end() || !it->second.handed_out) {
      return absl::FailedPreconditionError(
          absl::StrCat("durable log: ack of ", seq, ", which is not handed out"));
    }
    const std::uint32_t slot = it->second.slot;
    in_flight_.erase(it);
    --stats_.in_flight;
    ++stats_.acknowledged;
    const bool was_clean = cursor_ == persisted_cursor_ && !attempts_dirty_;
    settle_locked(seq);
    const bool dirty = cursor_ != persisted_cursor_;
    if (dirty && (was_clean || cursor_write_due_locked(std::chrono::steady_clock::now()))) {
      io_cv_.notify_one();
    }
    if (!plan_slot_release_locked(seq, slot, &release)) return absl::OkStatus();
  }
  do_slot_writes(std::span<const SlotWrite>(&release, 1));
  return absl::OkStatus();
}

absl::Status DurableLog::nack(std::uint64_t seq) {
  bool to_dead_letter = false;
  {
    std::unique_lock lock(mu_);
    auto it = in_flight_.find(seq);
    if (it == in_flight_.end() || !it->second.handed_out) {
      return absl::FailedPreconditionError(
          absl::StrCat("durable log: nack of ", seq, ", which is not handed out"));
    }
    it->second.handed_out = false;
    // Mark it resting before anyone can take it again: once it is queued, the next holder's
    // kHandedOut write must not be overtaken by this one. Nobody else touches the record
    // meanwhile (it is neither handed out nor queued).
    SlotWrite resting;
    if (plan_slot_write_locked(seq, it->second, kSlotResting, false, &resting)) {
      lock.unlock();
      do_slot_writes(std::span<const SlotWrite>(&resting, 1));
      lock.lock();
      it = in_flight_.find(seq);
    }
    InFlight& f = it->second;
    ++f.attempts;
    --stats_.in_flight;
    const bool was_clean = cursor_ == persisted_cursor_ && !attempts_dirty_;
    attempts_dirty_ = true;
    if (options_.max_deliveries > 0 && f.attempts >= options_.max_deliveries) {
      to_dead_letter = true;
      dead_letter_queue_.push_back(seq);
      io_cv_.notify_one();
    } else {
      redeliver_.insert(seq);
      ++stats_.redeliveries;
      if (was_clean) io_cv_.notify_one();  // arms the cursor timer for the attempt counts
    }
  }
  if (!to_dead_letter) signal_available();
  return absl::OkStatus();
}

absl::Status DurableLog::pause(std::uint64_t seq) { return mark(seq, kSlotResting, "pause"); }

absl::Status DurableLog::resume(std::uint64_t seq) { return mark(seq, kSlotHandedOut, "resume"); }

absl::Status DurableLog::mark(std::uint64_t seq, int state, const char* what) {
  SlotWrite w;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(seq);
    if (it == in_flight_.end() || !it->second.handed_out) {
      return absl::FailedPreconditionError(
          absl::StrCat("durable log: ", what, " of ", seq, ", which is not handed out"));
    }
    if (!plan_slot_write_locked(seq, it->second, state, false, &w)) return absl::OkStatus();
  }
  do_slot_writes(std::span<const SlotWrite>(&w, 1));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Crash counting

std::uint32_t DurableLog::allocate_slot_locked() {
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  if (slot_count_ >= internal::kMaxInFlightSlots) return kNoSlot;  // not tracked
  return slot_count_++;
}

bool DurableLog::plan_slot_write_locked(std::uint64_t seq, InFlight& f, int state, bool allocate,
                                        SlotWrite* out) {
  if (!in_flight_file_ || slots_frozen_) return false;
  if (f.slot == kNoSlot) {
    if (!allocate) return false;
    f.slot = allocate_slot_locked();
    if (f.slot == kNoSlot) return false;
  }
  *out = SlotWrite{in_flight_file_, f.slot, seq, f.crashes, state, /*release=*/false};
  ++slot_writers_;
  return true;
}

bool DurableLog::plan_slot_release_locked(std::uint64_t seq, std::uint32_t slot, SlotWrite* out) {
  // Frozen (closed): the slot keeps what close() wrote; the next open sees a resting record
  // below or at its cursor, which costs nothing.
  if (slot == kNoSlot || !in_flight_file_ || slots_frozen_) return false;
  *out = SlotWrite{in_flight_file_, slot, seq, 0, kSlotFree, /*release=*/true};
  ++slot_writers_;
  return true;
}

void DurableLog::do_slot_writes(std::span<const SlotWrite> writes) {
  if (writes.empty()) return;
  std::uint64_t errors = 0;
  for (const SlotWrite& w : writes) {
    const internal::InFlightSlot slot{w.seq, w.crashes, static_cast<SlotState>(w.state)};
    const std::uint64_t offset = internal::in_flight_slot_offset(w.slot);
    if (!w.file->pwrite(offset, internal::encode_slot(slot)).ok()) ++errors;
  }
  {
    std::lock_guard lock(mu_);
    stats_.in_flight_write_errors += errors;
    for (const SlotWrite& w : writes) {
      if (w.release) free_slots_.push_back(w.slot);
    }
    slot_writers_ -= static_cast<int>(writes.size());
    if (slot_writers_ == 0) slot_cv_.notify_all();
  }
  if (errors > 0) drop_in_flight_file(writes.front().file);
}

void DurableLog::drop_in_flight_file(const std::shared_ptr<File>& file) {
  // A slot whose write failed may say anything — "handed out" for a record long settled. Rather
  // than risk counting a crash against an innocent record, forget every count: tracking stops
  // for this run and the file goes (a missing file is no information).
  {
    std::lock_guard lock(mu_);
    if (in_flight_file_ != file) return;  // dropped already
    in_flight_file_.reset();
  }
  (void)fs_.unlink(join_path(dir_, internal::kInFlightFileName));
}

void DurableLog::freeze_slots() {
  std::vector<SlotWrite> writes;
  {
    std::unique_lock lock(mu_);
    if (!in_flight_file_ || slots_frozen_) return;
    slots_frozen_ = true;
    slot_cv_.wait(lock, [&] { return slot_writers_ == 0; });
    for (const auto& [seq, f] : in_flight_) {
      if (f.slot == kNoSlot) continue;
      writes.push_back(SlotWrite{in_flight_file_, f.slot, seq, f.crashes,
                                 f.crashes > 0 ? kSlotResting : kSlotFree, false});
    }
  }
  std::uint64_t errors = 0;
  for (const SlotWrite& w : writes) {
    const internal::InFlightSlot slot{w.seq, w.crashes, static_cast<SlotState>(w.state)};
    const std::uint64_t offset = internal::in_flight_slot_offset(w.slot);
    if (!w.file->pwrite(offset, internal::encode_slot(slot)).ok()) ++errors;
  }
  if (errors == 0) return;
  std::shared_ptr<File> file;
  {
    std::lock_guard lock(mu_);
    stats_.in_flight_write_errors += errors;
    file = in_flight_file_;
  }
  // Slots still saying "handed out" would count this clean stop as a crash.
  drop_in_flight_file(file);
}

void DurableLog::settle_locked(std::uint64_t seq) {
  if (seq >= cursor_) settled_above_cursor_.insert(seq);
  advance_cursor_locked();
}

void DurableLog::advance_cursor_locked() {
  for (;;) {
    if (!settled_above_cursor_.empty() && *settled_above_cursor_.begin() <= cursor_) {
      if (*settled_above_cursor_.begin() == cursor_) ++cursor_;
      settled_above_cursor_.erase(settled_above_cursor_.begin());
      continue;
    }
    if (cursor_ >= processed_end_) return;
    // Is cursor_ a committed record? If not it is void: jump to the next segment (never past
    // processed_end_, beyond which records are still being written).
    auto after = segments_.upper_bound(cursor_);
    std::uint64_t target = processed_end_;
    if (after != segments_.end()) target = std::min(target, after->first);
    if (after != segments_.begin()) {
      const Segment& seg = std::prev(after)->second;
      if (cursor_ < seg.first_seq + seg.records || !seg.sealed) return;
    }
    if (target <= cursor_) return;
    cursor_ = target;
  }
}

absl::Status DurableLog::flush() {
  std::unique_lock lock(mu_);
  if (closing_) return absl::FailedPreconditionError("durable log is closed");
  const std::uint64_t ticket = ++flush_requested_;
  io_cv_.notify_one();
  flush_cv_.wait(lock, [&] { return flush_done_ >= ticket; });
  return flush_status_;
}

// Close protocol:
//  1. closing_ = true: appends, next() and flush() are refused from here on, so no new work
//     reaches the I/O thread.
//  2. The I/O thread finishes what is queued — every batch (their appenders get an answer) and
//     every dead letter — then writes the cursor once more and exits; join it.
//  3. Freeze the `inflight` file: every record still owned is marked resting, so the next open
//     counts no crash (a process that dies instead never gets here).
//  4. Close closed_signal_: goroutines parked in next() wake and see FailedPrecondition.
//  5. Release the directory lock so another DurableLog (or process) may open it.
absl::Status DurableLog::close() {
  std::lock_guard close_lock(close_mu_);
  {
    std::lock_guard lock(mu_);
    if (closed_) return absl::OkStatus();
    closing_ = true;
  }
  io_cv_.notify_all();
  if (io_thread_.joinable()) io_thread_.join();
  // A clean stop: nothing handed out now was being worked on when the process died.
  freeze_slots();
  absl::Status status;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    status = flush_status_;
    flush_done_ = flush_requested_;
    flush_cv_.notify_all();
  }
  closed_signal_.close();
  dir_lock_.reset();
  return status;
}

std::uint64_t DurableLog::pending_locked() const {
  return stats_.recovered + stats_.appended - stats_.acknowledged - stats_.dead_lettered -
         stats_.dead_letter_discarded - stats_.corrupt_skipped;
}

std::uint64_t DurableLog::pending() const {
  std::lock_guard lock(mu_);
  return pending_locked();
}

std::uint64_t DurableLog::persisted_cursor() const {
  std::lock_guard lock(mu_);
  return persisted_cursor_;
}

DurableLogStats DurableLog::stats() const {
  std::lock_guard lock(mu_);
  DurableLogStats s = stats_;
  s.pending = pending_locked();
  s.persisted_cursor = persisted_cursor_;
  s.next_seq = next_seq_;
  s.disk_bytes = disk_bytes_;
  s.segments = segments_.size();
  return s;
}

}  // namespace storage
