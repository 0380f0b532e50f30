// DurableLog::recover(): what open() does before the I/O thread starts. One thread, so the
// locks taken here only keep the annotations honest.
//
// Recovery, step by step (docs/storage.md, "Recovery"):
//  1. Create the directory if needed and take its LOCK (a second process would corrupt it).
//  2. List it: segments by first sequence number; delete a leftover MANIFEST.tmp.
//  3. Read the manifest for the cursor. Missing or corrupt: restart delivery at the oldest
//     segment (duplicates, never loss).
//  4. Segments wholly below the cursor are deleted. Every other segment is scanned frame by
//     frame (internal/frame.h): the newest one's torn tail is truncated; bad checksums keep
//     their place and are delivered as "corrupt" (counted, settled); bytes that cannot be
//     delimited end the segment. A segment never holds more frames than the gap to the next
//     segment's name allows; one with no frames at all is deleted.
//  5. Numbering resumes after the last frame found (or at the cursor, if that is later), so a
//     sequence number is never given to two different live records.
//  6. The reader starts at the first frame at or above the cursor; dead_letter.log's torn tail
//     is cut; a fresh manifest is written (which also deletes settled segments).
//  7. The `inflight` file: every record it shows handed out was being worked on when the last
//     process died — one more crash for it. The counts are written back (all resting) before
//     anything is handed out; a record at max_crashes_in_flight is dead-lettered when the
//     reader reaches it instead of being handed out.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "storage/durable_log.h"
#include "storage/internal/frame.h"
#include "storage/internal/inflight.h"
#include "storage/internal/log_files.h"
#include "storage/internal/manifest.h"

namespace storage {
namespace {

constexpr std::uint64_t kNoSegment = UINT64_MAX;

}  // namespace

absl::Status DurableLog::recover() {
  std::lock_guard lock(mu_);
  // 1. Directory and lock.
  if (absl::Status s = fs_.create_dir(dir_); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<FileLock>> dir_lock =
      fs_.lock(join_path(dir_, internal::kLockFileName));
  if (!dir_lock.ok()) return dir_lock.status();
  dir_lock_ = std::move(*dir_lock);

  // 2. What is there.
  absl::StatusOr<std::vector<std::string>> names = fs_.list(dir_);
  if (!names.ok()) return names.status();
  std::map<std::uint64_t, std::string> segment_names;
  bool has_manifest = false;
  bool has_dead_letter = false;
  for (const std::string& name : *names) {
    if (auto seq = internal::parse_segment_file_name(name)) {
      segment_names[*seq] = name;
    } else if (name == internal::kManifestFileName) {
      has_manifest = true;
    } else if (name == internal::kManifestTempFileName || name == internal::kInFlightTempFileName) {
      (void)fs_.unlink(join_path(dir_, name));  // an interrupted manifest or inflight write
    } else if (name == internal::kDeadLetterFileName) {
      has_dead_letter = true;
    }
  }

  // 3. The cursor.
  RecoveryStats& rs = stats_.recovery;
  const std::uint64_t oldest = segment_names.empty() ? 0 : segment_names.begin()->first;
  std::uint64_t cursor = oldest;
  internal::Manifest manifest;
  if (has_manifest) {
    absl::StatusOr<std::string> bytes =
        read_file(fs_, join_path(dir_, internal::kManifestFileName));
    absl::StatusOr<internal::Manifest> decoded =
        bytes.ok() ? internal::decode_manifest(*bytes)
                   : absl::StatusOr<internal::Manifest>(bytes.status());
    if (decoded.ok() && decoded->cursor <= internal::kMaxSequence) {
      manifest = *std::move(decoded);
      cursor = manifest.cursor;
      rs.manifest = ManifestState::kOk;
    } else {
      rs.manifest = ManifestState::kCorrupt;
    }
  } else {
    rs.manifest = segment_names.empty() ? ManifestState::kFresh : ManifestState::kMissing;
  }

  // 4. Segments.
  ReadHead head;
  for (auto it = segment_names.begin(); it != segment_names.end(); ++it) {
    const auto next = std::next(it);
    const bool is_last = next == segment_names.end();
    if (!is_last && next->first <= cursor) {
      (void)fs_.unlink(join_path(dir_, it->second));  // wholly settled
      ++rs.segments_deleted;
      continue;
    }
    const std::uint64_t max_frames = is_last ? UINT64_MAX - it->first : next->first - it->first;
    if (absl::Status s = recover_segment(it->first, it->second, max_frames, is_last, cursor, &head);
        !s.ok()) {
      return s;
    }
  }

  // 5. Numbering resumes after everything found.
  std::uint64_t end = cursor;
  for (const auto& [first, seg] : segments_) {
    end = std::max(end, first + seg.records);
    disk_bytes_ += seg.bytes;
  }
  next_seq_ = processed_end_ = end;
  cursor_ = persisted_cursor_ = cursor;
  stats_.recovered = unread_;

  // 6. Reader, attempts, dead letters, a fresh manifest.
  if (head.found) {
    read_segment_ = head.segment;
    read_seq_ = head.seq;
    read_offset_ = head.offset;
  } else {
    read_segment_ = kNoSegment;  // pick_locked finds the first segment at or after read_seq_
    read_seq_ = end;
    read_offset_ = 0;
  }
  for (const auto& [seq, attempts] : manifest.attempts) {
    if (seq >= cursor) recovered_attempts_[seq] = attempts;
  }
  advance_cursor_locked();
  if (has_dead_letter) recover_dead_letter_file();
  recover_in_flight_file(cursor, end);
  absl::StatusOr<std::uint64_t> free = fs_.free_space(dir_);
  if (!free.ok()) return free.status();
  free_space_ = *free;
  last_cursor_write_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

absl::Status DurableLog::recover_segment(std::uint64_t first_seq, const std::string& name,
                                         std::uint64_t max_frames, bool is_last,
                                         std::uint64_t cursor, ReadHead* head) {
  RecoveryStats& rs = stats_.recovery;
  const std::string path = join_path(dir_, name);
  absl::StatusOr<std::unique_ptr<File>> opened = fs_.open(path, OpenMode::kExisting);
  if (!opened.ok()) return opened.status();
  std::shared_ptr<File> file(std::move(*opened));
  absl::StatusOr<std::uint64_t> size = file->size();
  if (!size.ok()) return size.status();
  // A segment is never longer than this; a longer file is read only this far (the rest counts
  // as dropped), so a hostile or damaged file cannot make open() allocate without bound.
  const std::uint64_t cap =
      std::max(options_.max_segment_bytes, internal::frame_bytes(options_.max_record_bytes));
  std::string data;
  if (absl::Status s = file->pread(0, std::min(*size, cap), &data); !s.ok()) return s;

  const internal::ScanResult scan = internal::scan_frames(
      data, options_.max_record_bytes, max_frames, is_last, [&](const internal::FrameInfo& f) {
        const std::uint64_t seq = first_seq + f.index;
        if (seq < cursor) return;
        if (f.intact) {
          ++rs.records_recovered;
        } else {
          ++rs.corrupt_records_skipped;
        }
        ++unread_;
        if (!head->found) *head = ReadHead{true, first_seq, seq, f.offset};
      });
  const std::uint64_t dropped = *size - scan.end_offset;
  std::uint64_t bytes = *size;
  if (dropped > 0 && is_last && !scan.hit_max_frames) {
    // The newest segment's tail is where a power cut tears a write: cut it, so the bytes on
    // disk are exactly the frames counted.
    rs.torn_bytes_truncated += dropped;
    if (file->truncate(scan.end_offset).ok() && file->datasync().ok()) bytes = scan.end_offset;
  } else {
    rs.corrupt_bytes_dropped += dropped;
  }
  if (scan.frames == 0) {
    (void)fs_.unlink(path);  // nothing in it; its numbers are void
    return absl::OkStatus();
  }
  ++rs.segments;
  Segment seg;
  seg.first_seq = first_seq;
  seg.path = path;
  seg.file = std::move(file);
  seg.records = scan.frames;
  seg.committed_bytes = scan.end_offset;
  seg.bytes = bytes;
  seg.sealed = true;  // appends always go to a new segment
  segments_[first_seq] = std::move(seg);
  return absl::OkStatus();
}

void DurableLog::recover_dead_letter_file() {
  const std::string path = join_path(dir_, internal::kDeadLetterFileName);
  absl::StatusOr<std::unique_ptr<File>> opened = fs_.open(path, OpenMode::kExisting);
  if (!opened.ok()) return;  // none yet (or unreadable: the first dead letter will say so)
  absl::StatusOr<std::uint64_t> size = (*opened)->size();
  if (!size.ok()) return;
  const std::uint64_t cap =
      options_.max_dead_letter_bytes + internal::frame_bytes(options_.max_record_bytes);
  if (*size > cap) {
    // Larger than we would ever write (the bound was lowered): treat it as full.
    dead_letter_bytes_ = *size;
    dead_letter_file_ = std::move(*opened);
    return;
  }
  std::string data;
  if (!(*opened)->pread(0, *size, &data).ok()) return;
  const internal::ScanResult scan =
      internal::scan_frames(data, options_.max_record_bytes, UINT64_MAX, true, nullptr);
  if (scan.dropped_bytes > 0) {
    stats_.recovery.dead_letter_torn_bytes = scan.dropped_bytes;
    // write_dead_letter cuts the file back to dead_letter_bytes_ before its next append.
  }
  dead_letter_bytes_ = scan.end_offset;
  dead_letter_file_ = std::move(*opened);
  dead_letter_dir_synced_ = true;
}

}  // namespace storage

namespace storage {

void DurableLog::recover_in_flight_file(std::uint64_t cursor, std::uint64_t end) {
  const std::string path = join_path(dir_, internal::kInFlightFileName);
  if (options_.max_crashes_in_flight == 0) {
    (void)fs_.unlink(path);  // tracking off; stale counts must not surface if it is turned on
    return;
  }
  // What the last process left: one entry per record, handed out if any slot says so.
  std::map<std::uint64_t, internal::InFlightSlot> found;
  const std::uint64_t boot = internal::boot_hash(fs_.boot_id());
  bool same_boot = false;  // handed-out slots count only if the machine did not restart
  bool any_slot = false;   // the file says something, if only about records now gone
  if (absl::StatusOr<std::unique_ptr<File>> old = fs_.open(path, OpenMode::kExisting); old.ok()) {
    absl::StatusOr<std::uint64_t> size = (*old)->size();
    std::string data;
    if (size.ok() && *size > 0) {
      const std::uint64_t cap = internal::in_flight_slot_offset(internal::kMaxInFlightSlots);
      if (!(*old)->pread(0, std::min(*size, cap), &data).ok()) data.clear();
    }
    const std::optional<std::uint64_t> written_in =
        internal::decode_header(std::string_view(data).substr(0, internal::kInFlightSlotBytes));
    same_boot = written_in == boot;
    for (std::size_t off = internal::kInFlightSlotBytes;
         off + internal::kInFlightSlotBytes <= data.size(); off += internal::kInFlightSlotBytes) {
      const std::optional<internal::InFlightSlot> slot =
          internal::decode_slot(std::string_view(data).substr(off, internal::kInFlightSlotBytes));
      // Settled records (below the cursor) are forgotten; so are numbers past the last record,
      // which a new append will take (their count must not pass to it).
      if (!slot) continue;
      any_slot = true;
      if (slot->seq < cursor || slot->seq >= end) continue;
      internal::InFlightSlot& e = found[slot->seq];
      e.seq = slot->seq;
      e.crashes = std::max(e.crashes, slot->crashes);
      if (slot->state == internal::SlotState::kHandedOut || e.state == internal::SlotState::kFree) {
        e.state = slot->state;
      }
    }
  }
  std::vector<internal::InFlightSlot> slots;
  for (const auto& [seq, e] : found) {
    std::uint32_t crashes = e.crashes;
    if (e.state == internal::SlotState::kHandedOut && !same_boot) {
      // The slot may be older than the record's settling (its zeros never reached the disk).
      ++stats_.recovery.in_flight_at_reboot;
    } else if (e.state == internal::SlotState::kHandedOut) {
      ++stats_.recovery.in_flight_at_crash;
      if (crashes < UINT32_MAX) ++crashes;
    }
    if (crashes == 0) continue;
    if (crashes >= options_.max_crashes_in_flight) ++stats_.recovery.crash_limit_reached;
    recovered_crashes_[seq] = Tracked{crashes, static_cast<std::uint32_t>(slots.size())};
    slots.push_back(internal::InFlightSlot{seq, crashes, internal::SlotState::kResting});
  }
  absl::Status status;
  if (any_slot) {
    // Replace the file whole and durably: a power cut must bring back neither the handed-out
    // slots just counted (they would be counted twice) nor the slots just forgotten (a record
    // lost in a power cut gives its number to a new append, which must not inherit its count).
    status = internal::write_in_flight_file(fs_, dir_, boot, slots, /*sync=*/true);
  }
  absl::StatusOr<std::unique_ptr<File>> file = status.ok()
                                                   ? fs_.open(path, OpenMode::kCreate)
                                                   : absl::StatusOr<std::unique_ptr<File>>(status);
  if (file.ok() && !any_slot) {
    // Nothing in it (free or garbage slots): start from this boot's header alone. Not synced:
    // an older file coming back after a power cut holds no slot either (every open that
    // forgets slots makes that durable), and names an older boot.
    status = (*file)->truncate(0);
    if (status.ok()) status = (*file)->pwrite(0, internal::encode_header(boot));
    if (!status.ok()) file = status;
  }
  if (!file.ok()) {
    // No tracking this run (the counts found still apply). Remove what is there, durably, so
    // that its handed-out slots are not counted a second time; failing that, one extra count
    // is the cost.
    if (fs_.unlink(path).ok()) (void)fs_.sync_dir(dir_);
    return;
  }
  in_flight_file_ = std::shared_ptr<File>(std::move(*file));
  slot_count_ = static_cast<std::uint32_t>(slots.size());
}

}  // namespace storage
