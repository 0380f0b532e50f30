#pragma once
// storage::DurableLog: the durable queue's log — an append-only, segmented, checksummed record
// log in one directory, with group commit, a bound on disk bytes, at-least-once delivery to
// several consumers, and dead-lettering. It is the core of "nothing acknowledged is lost":
// when append() returns OK under FsyncPolicy::kAlways, the record survives a power cut and is
// delivered until somebody acks it. docs/storage.md describes the format and the recovery rules.
//
// Contract:
//  - Sequence numbers: append() gives each record the next sequence number (u64, increasing, never
//    reused for a live record). A failed append consumes its number; the number is never
//    delivered in this run.
//  - append(record) is OK only after the record's bytes are written and, under kAlways, covered
//    by a finished fdatasync (and, for a new segment, an fsync of the directory). Group commit:
//    one fdatasync covers every record queued while the previous one ran. An error means "not
//    durable — retry": the record may still turn up after a restart (at-least-once), never as
//    acknowledged. ResourceExhausted means the disk bound or the file system is full; it is
//    retryable once consumers ack. InvalidArgument: the record is larger than max_record_bytes.
//    FailedPrecondition: the log is closed.
//  - Delivery: next()/try_next() hand each committed record to exactly one caller at a time, in
//    sequence order (redeliveries first). ack(seq) settles it; nack(seq) puts it back for
//    redelivery and counts an attempt; after max_deliveries attempts the record is copied to
//    dead_letter.log (fdatasync'd under kAlways) and settled instead. Acks may come in any order;
//    the persisted cursor advances over the contiguous settled prefix only. ack/nack of a
//    sequence number that is not handed out is misuse: FailedPrecondition, nothing changes.
//  - Crashes (poison records): the log remembers, in the small file `inflight`, which records
//    are handed out. A record handed out when the process dies (no close()) counts one crash;
//    pause(seq) / resume(seq) let a consumer say that it holds a record without working on it
//    (a retry backoff), and a crash while paused does not count. A record whose count reaches
//    max_crashes_in_flight is not handed out again after open(): it is dead-lettered like a
//    record past max_deliveries (counted as dead_lettered and dead_lettered_after_crashes). A
//    clean close() counts nothing; a settled record drops out of the tracking. The file
//    is written with plain pwrites, never synced on the delivery path, and names the machine's
//    boot: only a process death within one boot counts. A power cut or reboot counts nothing
//    (the slots that survive it may be stale), a torn or garbage file is read as "no crash",
//    and it never stops open().
//  - On a crash at any point (process or power, under kAlways): every record whose append returned
//    OK and that was not settled (acked or dead-lettered) before the cursor was last persisted is
//    delivered again after open(). Records settled after the last cursor write may be delivered
//    again (at-least-once, never at-most-once). Nothing is delivered that was never appended.
//    Under kNever the same holds for a process crash; a power cut may lose records appended since
//    the OS last wrote them back.
//  - open() never refuses to start because of bad data: torn tails are truncated, corrupt frames
//    are skipped and counted (RecoveryStats), a missing or corrupt manifest means "redeliver from
//    the oldest segment". It fails only for I/O errors (listing the directory, reading a
//    segment), invalid options, or when another log holds the directory's lock.
//  - Threads: every method may be called from any thread or goroutine, concurrently. The
//    blocking I/O (write, fdatasync, rename, unlink) runs on the log's own I/O thread, which
//    open() starts and close() joins; goroutines wait on csp channels, never on a mutex held
//    across I/O. try_next() preads the record (page cache, usually) on the calling thread.
//    try_next(), ack(), nack(), pause() and resume() also pwrite one 24-byte slot of the
//    `inflight` file on the calling thread — never synced, the same page-cache cost as the
//    pread, and never under a lock anybody else waits on.
//    append_blocking() and close() block their thread: call them from plain threads.
//  - close() (also run by the destructor) refuses new appends, lets the I/O thread commit every
//    append already queued (their callers get an answer), persists the cursor, joins the thread,
//    marks every handed-out record as not in flight (so the next open() counts no crash), and
//    wakes every next() with FailedPrecondition. Records handed out and not yet acked stay in
//    the log for the next open(). The DurableLog must outlive every goroutine that uses it, and
//    the FileSystem must outlive the DurableLog.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "csp/chan.h"
#include "csp/context.h"
#include "csp/task.h"
#include "storage/file_system.h"
#include "storage/internal/frame.h"

namespace storage {

enum class FsyncPolicy {
  kAlways,  // append is OK once fdatasync'd: survives a power cut (the default)
  kNever,   // append is OK once written to the OS: survives a process crash, not a power cut
};

inline constexpr std::uint64_t kDefaultMaxSegmentBytes = 8ull << 20;
inline constexpr std::uint64_t kDefaultMaxTotalBytes = 1ull << 30;
inline constexpr std::uint32_t kDefaultMaxRecordBytes = 16u << 20;
inline constexpr std::uint32_t kDefaultMaxDeliveries = 10;
inline constexpr std::uint64_t kDefaultMaxDeadLetterBytes = 64ull << 20;
inline constexpr std::chrono::milliseconds kDefaultCursorPersistInterval{100};
inline constexpr std::uint64_t kDefaultFreeSpaceReserve = 1ull << 20;
inline constexpr std::uint32_t kDefaultMaxCrashesInFlight = 3;

struct DurableLogOptions {
  // A segment is closed once the next record would take it past this size (a record larger than
  // it gets a segment of its own). Must be at most max_total_bytes / 2.
  std::uint64_t max_segment_bytes = kDefaultMaxSegmentBytes;
  // Bound on segment bytes on disk, counting records queued for writing. An append beyond it
  // fails with ResourceExhausted. Settled segments are deleted to make room.
  std::uint64_t max_total_bytes = kDefaultMaxTotalBytes;
  // Largest payload append accepts (InvalidArgument above it); recovery treats a longer frame
  // length as corruption. At most 1 GiB.
  std::uint32_t max_record_bytes = kDefaultMaxRecordBytes;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  // Deliveries (nacks) after which a record goes to dead_letter.log. 0: never; retried forever.
  std::uint32_t max_deliveries = kDefaultMaxDeliveries;
  // Bound on dead_letter.log. A record that does not fit is settled and counted as
  // dead_letter_discarded instead. 0: no dead-letter file (always discard, counted).
  std::uint64_t max_dead_letter_bytes = kDefaultMaxDeadLetterBytes;
  // How long acks may wait before the cursor is written (a crash redelivers at most this much).
  // The cursor is also written at once when a whole segment becomes deletable, and on close.
  // 0: after every ack.
  std::chrono::milliseconds cursor_persist_interval = kDefaultCursorPersistInterval;
  // Free bytes kept on the file system beyond what appends use, so the manifest can always be
  // rewritten (and the cursor advanced, and space reclaimed) when the disk is full.
  std::uint64_t free_space_reserve = kDefaultFreeSpaceReserve;
  // Process deaths with a record handed out (and not paused) after which open() dead-letters
  // it instead of handing it out again: the cure for a record that crashes the process. 3,
  // because a kill -9 or OOM kill also counts against whatever was being exported at the time:
  // one or two such deaths must not cost innocent data, and a real poison record costs only
  // three restarts. 0: no tracking (no `inflight` file), crash-looping records are retried.
  std::uint32_t max_crashes_in_flight = kDefaultMaxCrashesInFlight;
};

enum class ManifestState {
  kFresh,    // empty directory: a new log
  kOk,       // manifest read
  kMissing,  // segments but no manifest: delivery restarts at the oldest segment
  kCorrupt,  // manifest unreadable: delivery restarts at the oldest segment
};

struct RecoveryStats {
  ManifestState manifest = ManifestState::kFresh;
  std::uint64_t segments = 0;                 // segment files kept
  std::uint64_t segments_deleted = 0;         // fully settled segments removed at open
  std::uint64_t records_recovered = 0;        // intact, unsettled records found
  std::uint64_t corrupt_records_skipped = 0;  // unsettled frames with a bad checksum (kept place)
  std::uint64_t torn_bytes_truncated = 0;     // partial frame(s) cut from the newest segment
  std::uint64_t corrupt_bytes_dropped = 0;    // undelimitable bytes in older segments (ignored)
  std::uint64_t dead_letter_torn_bytes = 0;   // partial frame cut from dead_letter.log
  std::uint64_t in_flight_at_crash = 0;       // records handed out when the last process died
  std::uint64_t in_flight_at_reboot = 0;  // handed out before a power cut or reboot: not counted
  std::uint64_t crash_limit_reached = 0;  // of which (or earlier) at max_crashes_in_flight
};

// Counters since open(). Conservation, at any quiescent moment:
//   recovered + appended == acknowledged + dead_lettered + dead_letter_discarded
//                           + corrupt_skipped + pending
struct DurableLogStats {
  std::uint64_t recovered = 0;  // unsettled frames found at open (intact and corrupt)
  std::uint64_t appended = 0;   // appends that returned OK
  std::uint64_t acknowledged = 0;
  std::uint64_t dead_lettered = 0;                // copied to dead_letter.log and settled
  std::uint64_t dead_lettered_after_crashes = 0;  // of those: at max_crashes_in_flight
  std::uint64_t dead_letter_discarded = 0;  // past max_deliveries, dead-letter file full/disabled
  std::uint64_t corrupt_skipped = 0;        // frames found corrupt when delivering; settled
  std::uint64_t pending = 0;                // in the log and not settled (in_flight included)
  std::uint64_t in_flight = 0;              // handed out, not yet acked or nacked
  std::uint64_t redeliveries = 0;           // nacks that put a record back
  std::uint64_t append_errors = 0;          // appends failed by an I/O error
  std::uint64_t appends_refused_full = 0;   // ResourceExhausted answers
  std::uint64_t group_commits = 0;          // batches written (one fdatasync each under kAlways)
  std::uint64_t cursor_writes = 0;
  std::uint64_t cursor_write_errors = 0;
  std::uint64_t dead_letter_errors = 0;      // dead-letter writes that failed (record retried)
  std::uint64_t in_flight_write_errors = 0;  // `inflight` slot writes that failed (not counted)
  std::uint64_t persisted_cursor = 0;        // first unsettled sequence number as on disk
  std::uint64_t next_seq = 0;                // the next append's sequence number
  std::uint64_t disk_bytes = 0;              // segment bytes on disk
  std::uint64_t segments = 0;
  RecoveryStats recovery;
};

struct Record {
  std::uint64_t seq = 0;
  std::string payload;
  std::uint32_t attempts = 0;  // earlier deliveries that were nacked
};

class DurableLog {
 public:
  // Opens (creating if needed) the log in dir and recovers it. fs must outlive the log.
  static absl::StatusOr<std::unique_ptr<DurableLog>> open(FileSystem& fs, std::string dir,
                                                          DurableLogOptions options = {});
  // For open() only (the tag cannot be made outside this class).
  class PrivateTag {
    friend class DurableLog;
    explicit PrivateTag() = default;
  };
  DurableLog(PrivateTag, FileSystem& fs, std::string dir, DurableLogOptions options);
  ~DurableLog();
  DurableLog(const DurableLog&) = delete;
  DurableLog& operator=(const DurableLog&) = delete;

  // Appends a record; the sequence number once durable (see the contract).
  csp::Task<absl::StatusOr<std::uint64_t>> append(std::string record);
  // The same for plain threads.
  absl::StatusOr<std::uint64_t> append_blocking(std::string record);

  // The next record to deliver, or nullopt if none is ready now. FailedPrecondition once closed;
  // other errors are read errors (the record stays queued).
  absl::StatusOr<std::optional<Record>> try_next();
  // Waits for the next record; ctx.err() if ctx is done first, FailedPrecondition on close.
  csp::Task<absl::StatusOr<Record>> next(csp::Context ctx);

  absl::Status ack(std::uint64_t seq);
  absl::Status nack(std::uint64_t seq);
  // The holder of a handed-out record is waiting (pause) or working on it again (resume): a
  // process death while paused does not count against the record (max_crashes_in_flight).
  // FailedPrecondition if seq is not handed out.
  absl::Status pause(std::uint64_t seq);
  absl::Status resume(std::uint64_t seq);

  // Writes the cursor now (and deletes what it frees); blocks until done. For tests and for
  // callers that want a crash to redeliver nothing already acked.
  absl::Status flush();
  absl::Status close();

  DurableLogStats stats() const;
  // stats().pending and stats().persisted_cursor without copying the rest (per append).
  std::uint64_t pending() const;
  std::uint64_t persisted_cursor() const;
  const std::string& dir() const { return dir_; }

  // Shared between an append and the I/O thread; public only so the .cc can name it.
  // A frame waiting to be written: its header, and the appender's record as it was given
  // (written after the header with one vectored write, never copied next to it).
  struct PendingFrame {
    std::array<char, internal::kFrameHeaderBytes> header;
    std::string payload;
    std::uint64_t size() const { return header.size() + payload.size(); }
  };
  struct CommitBatch {
    std::uint64_t first_seq = 0;
    std::vector<PendingFrame> frames;
    std::uint64_t bytes = 0;
    absl::Status status;  // written by the I/O thread before `done` is closed
    csp::Chan<csp::Unit> done{0};
  };

 private:
  struct Segment {
    std::uint64_t first_seq = 0;
    std::string path;
    std::shared_ptr<File> file;
    std::uint64_t records = 0;          // committed frames
    std::uint64_t committed_bytes = 0;  // end of the last committed frame
    std::uint64_t bytes = 0;            // bytes on disk (committed or not)
    bool sealed = false;
    // Found corrupt by a reader while active: nothing more is committed into it (try_next).
    bool poisoned = false;
  };
  struct InFlight {
    std::uint64_t segment = 0;  // first sequence number of its segment
    std::uint64_t offset = 0;   // of the frame header
    std::uint32_t length = 0;   // payload bytes
    std::uint32_t attempts = 0;
    bool handed_out = true;          // false: waiting in redeliver_ or dead_letter_queue_
    std::uint32_t crashes = 0;       // process deaths while it was handed out
    std::uint32_t slot = kNoSlot;    // in the `inflight` file
    bool crash_dead_letter = false;  // queued for dead_letter.log by max_crashes_in_flight
  };
  static constexpr std::uint32_t kNoSlot = UINT32_MAX;
  // Crash count and slot of a recovered record that the reader has not handed out yet.
  struct Tracked {
    std::uint32_t crashes = 0;
    std::uint32_t slot = kNoSlot;
  };
  // One pwrite into the `inflight` file, planned under mu_ and done outside it.
  struct SlotWrite {
    std::shared_ptr<File> file;
    std::uint32_t slot = kNoSlot;
    std::uint64_t seq = 0;
    std::uint32_t crashes = 0;
    int state = 0;         // internal::SlotState
    bool release = false;  // the slot is free once written
  };
  struct SegmentWrite {
    std::uint64_t segment = 0;
    std::uint64_t frames = 0;  // written and (kAlways) synced
    std::uint64_t bytes = 0;   // attempted
  };
  struct Pick {
    std::uint64_t seq = 0;
    std::shared_ptr<File> file;
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    std::uint64_t limit = 0;  // committed bytes of the segment
    bool redelivery = false;
    std::uint32_t length = 0;  // known for redeliveries
  };
  struct ReadHead {
    bool found = false;
    std::uint64_t segment = 0;
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;
  };

  // --- open (durable_log_recovery.cc) ---
  absl::Status recover();
  absl::Status recover_segment(std::uint64_t first_seq, const std::string& name,
                               std::uint64_t max_frames, bool is_last, std::uint64_t cursor,
                               ReadHead* head);
  void recover_dead_letter_file();
  void recover_in_flight_file(std::uint64_t cursor, std::uint64_t end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- appending ---
  absl::StatusOr<std::shared_ptr<CommitBatch>> enqueue(std::string record, std::uint64_t* seq);
  absl::Status admit_locked(std::uint64_t bytes, bool* stale_free_space)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- the I/O thread ---
  void io_loop();
  void commit_batch(CommitBatch& batch);
  absl::Status write_batch(CommitBatch& batch, std::vector<SegmentWrite>* writes);
  absl::Status start_segment(std::uint64_t first_seq);
  void seal_active_segment_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void process_dead_letters(std::vector<std::uint64_t> seqs);
  absl::Status write_dead_letter(const std::string& payload);
  absl::Status persist_cursor_and_reclaim();
  bool cursor_write_due_locked(std::chrono::steady_clock::time_point now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- delivery ---
  bool pick_locked(Pick* pick) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool readable_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void settle_locked(std::uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void advance_cursor_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void signal_available();

  // --- the `inflight` file (durable_log.cc, "Crash counting") ---
  std::uint32_t allocate_slot_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Plans writing `state` into f's slot (allocating one if needed and asked to); returns false
  // if nothing is to be written (tracking is off or frozen, or no slot).
  bool plan_slot_write_locked(std::uint64_t seq, InFlight& f, int state, bool allocate,
                              SlotWrite* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Plans freeing the slot of a settled record.
  bool plan_slot_release_locked(std::uint64_t seq, std::uint32_t slot, SlotWrite* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Does planned writes (outside mu_), then returns released slots. Best effort: an error is
  // counted and ends tracking for this run (drop_in_flight_file).
  void do_slot_writes(std::span<const SlotWrite> writes);
  // After a failed slot write: stop tracking and delete the file (if it is still `file`).
  void drop_in_flight_file(const std::shared_ptr<File>& file);
  void freeze_slots();
  absl::Status mark(std::uint64_t seq, int state, const char* what);

  FileSystem& fs_;
  const std::string dir_;
  const DurableLogOptions options_;
  std::unique_ptr<FileLock> dir_lock_;

  // Serialises readers: guards the read position below against a second reader between the
  // pick and the pread. Lock order: read_mu_ before mu_. Never held by the I/O thread.
  std::mutex read_mu_;

  // Guards everything below it that is not marked otherwise. Never held across a file call.
  mutable std::mutex mu_;
  std::condition_variable io_cv_;     // wakes the I/O thread
  std::condition_variable flush_cv_;  // wakes flush() callers
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  // Segments by first sequence number. All but the active one are sealed.
  std::map<std::uint64_t, Segment> segments_ ABSL_GUARDED_BY(mu_);
  std::uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // Sequence numbers below this are either committed records or void (their batch failed).
  std::uint64_t processed_end_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<CommitBatch> open_batch_ ABSL_GUARDED_BY(mu_);
  std::uint64_t disk_bytes_ ABSL_GUARDED_BY(mu_) = 0;    // sum of segment bytes
  std::uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // frames queued, not yet written
  std::uint64_t free_space_ ABSL_GUARDED_BY(mu_) = 0;    // file system free bytes, last look
  // Ask the I/O thread to close the active segment (it is wholly settled and the log is full).
  bool roll_requested_ ABSL_GUARDED_BY(mu_) = false;

  // Delivery state. cursor_: every sequence number below it is settled or void.
  std::uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t persisted_cursor_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::uint64_t> settled_above_cursor_ ABSL_GUARDED_BY(mu_);
  std::map<std::uint64_t, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);   // handed out or returned
  std::set<std::uint64_t> redeliver_ ABSL_GUARDED_BY(mu_);             // nacked, waiting
  std::vector<std::uint64_t> dead_letter_queue_ ABSL_GUARDED_BY(mu_);  // for the I/O thread
  std::map<std::uint64_t, std::uint32_t> recovered_attempts_ ABSL_GUARDED_BY(mu_);
  std::map<std::uint64_t, Tracked> recovered_crashes_ ABSL_GUARDED_BY(mu_);
  bool attempts_dirty_ ABSL_GUARDED_BY(mu_) = false;  // nacks since the last cursor write
  std::uint64_t unread_ ABSL_GUARDED_BY(mu_) = 0;     // committed frames the reader has not passed
  // The sequential reader: the next never-delivered record is read_seq_, at read_offset_ in the
  // segment that starts at read_segment_.
  std::uint64_t read_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t read_segment_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t read_offset_ ABSL_GUARDED_BY(mu_) = 0;

  // Cursor writes.
  std::chrono::steady_clock::time_point last_cursor_write_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point cursor_retry_at_ ABSL_GUARDED_BY(mu_);  // after a failure
  std::uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t flush_done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status flush_status_ ABSL_GUARDED_BY(mu_);

  DurableLogStats stats_ ABSL_GUARDED_BY(mu_);
  std::uint64_t pending_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The `inflight` file: null when tracking is off (max_crashes_in_flight == 0, or it could not
  // be set up at open). Slots are handed to records under mu_; a slot is written only by the
  // one party that holds its record at the time, outside mu_. close() freezes the file: it
  // waits for slot writes under way (slot_writers_), then marks every record not in flight.
  std::shared_ptr<File> in_flight_file_ ABSL_GUARDED_BY(mu_);
  std::vector<std::uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  std::uint32_t slot_count_ ABSL_GUARDED_BY(mu_) = 0;
  bool slots_frozen_ ABSL_GUARDED_BY(mu_) = false;
  int slot_writers_ ABSL_GUARDED_BY(mu_) = 0;
  std::condition_variable slot_cv_;  // slot_writers_ dropped to 0

  // Owned by the I/O thread (no lock): the segment being appended to, and the dead-letter file.
  std::shared_ptr<File> active_file_;
  std::uint64_t active_first_ = 0;
  std::uint64_t active_bytes_ = 0;
  std::unique_ptr<File> dead_letter_file_;
  std::uint64_t dead_letter_bytes_ = 0;  // end of the last good frame in dead_letter.log
  bool dead_letter_dir_synced_ = false;

  std::mutex close_mu_;  // serialises close()

  // Signals for next(): available_ (capacity 1) carries "a record may be ready" to one waiter,
  // who passes it on if more are; closed_signal_ is closed by close().
  csp::Chan<csp::Unit> available_{1};
  csp::Chan<csp::Unit> closed_signal_{0};

  std::thread io_thread_;
};

}  // namespace storage
