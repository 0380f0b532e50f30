/*
 * durable.pml — model 3: the durable sending queue and the failover connector.
 *
 *   client ─► receiver ─► [append-only log, group commit] ─► senders ─► failover ─► primary
 *                                   ▲                            │                └► backup
 *                                   └──── ack cursor (rename) ◄──┘ (acks, contiguous prefix)
 *
 * This is the design the fault-tolerance work must follow; Durable.tla is its TLA+ twin, and
 * docs/verification.md says what each part stands for and why each rule is there. A change
 * to the protocol changes this file in the same commit.
 *
 * The design
 *   - A receiver appends each client batch as one record to an append-only log. The append
 *     is a write(2): the record is in the OS, not on disk. A group commit (fdatasync) covers
 *     every record written before it started; the client is answered OK only once the sync
 *     that covers its record has returned (ack after persist).
 *   - Senders take durable records in sequence order (a shared read position), export them
 *     through the failover connector, and acknowledge them in memory, in any order. The
 *     in-memory cursor is the first record not acknowledged: it advances over a contiguous
 *     prefix only. A cursor writer persists it atomically: write a temp file and fdatasync it,
 *     rename it over the cursor file (volatile until the directory is synced), fsync the
 *     directory.
 *   - An export attempt goes to one level and meets that level's backend UP (received,
 *     answered), DOWN (refused: not received) or SLOW (received, but the answer comes after
 *     the timeout: the sender sees a failure and the retry duplicates — legitimately). The
 *     request and its answer are two steps: in between, the outcome is unknown.
 *   - Failover: levels 0 (primary) and 1 (backup). A record starts at the active level. A
 *     level is judged by delivery outcomes, not by the synchronous result of handing a record
 *     to it: when a record's attempt at a level that is not the last one fails DOWN, its
 *     delivery there has definitely failed (answered, nothing kept); that marks the level
 *     failed (active moves down) and the record moves one level down. A SLOW failure is an
 *     unknown outcome: the record is retried at its level (moving it would put the item at
 *     two levels). At the last level a record is retried.
 *     In the code each level has its own sending queue behind the failover connector, and a
 *     move is the exporter handing the batch to the next level's queue (pipeline::Reroute)
 *     before letting go of it; the model's one log with a level per record stands for that
 *     (a crash between the two steps leaves the item at both levels, which xlevel allows
 *     because the primary had definitely failed it). A prober periodically makes the primary active again; the outcome of
 *     the next record there decides whether it stays.
 *   - A record whose K-th attempt fails is appended to a dead-letter file (fdatasync'd,
 *     counted) and then acknowledged.
 *   - A crash (kill -9 or power loss) can happen at any step. What survives: the synced
 *     records and some of the unsynced ones (kill -9 keeps the OS's page cache, power loss
 *     any part of it); recovery truncates the log at the first record that fails its
 *     checksum, so a prefix of the unsynced records remains. The cursor file is the synced one,
 *     or the renamed one if the rename reached the disk. All volatile state is lost: waiting
 *     clients (they get an error and keep their batch), the records held by senders and their
 *     attempt counts, in-memory acks, the active level. Recovery resumes reading at the
 *     persisted cursor, so everything after it is delivered again.
 *   - Not modelled: the log's poison-record rule (storage::DurableLogOptions::
 *     max_crashes_in_flight, 3 by default), which dead-letters a record that was in the middle
 *     of an attempt at that many process deaths, so a record that crashes otlpd cannot make it
 *     crash-loop. Such a rule breaks deliver_healthy once crashes reach it (the
 *     POISON_BY_HANDOUTS mutant shows how); the model's MAXCRASH (2) stays below the default,
 *     and docs/storage.md states the trade-off.
 *
 * How it is abstracted
 *   - Records carry items 0..NITEMS-1, one item per client batch, appended in that order; an
 *     item whose record was lost before its client was answered is not sent again (a client's
 *     retry is a new record, outside this contract). The log holds item ids by sequence
 *     number (slot); sets of items and of slots are bit masks.
 *   - Senders are interchangeable, so the model keeps the state of each record in flight (by
 *     slot: one Delivery process per slot) instead of the state of each sender; `busy` bounds
 *     the records in flight to NSENDERS. This drops the copies of each state that differ only
 *     in which sender holds which record.
 *   - Every step is one atomic action on shared state, and processes keep nothing between
 *     steps, so a crash (one step that loses the volatile state and runs recovery) can cut in
 *     anywhere. Time is not modelled: timeouts, backoff and the prober's period only order
 *     steps, and each attempt meets its backend UP, DOWN or SLOW, chosen freely.
 *
 * Properties (ltl claims, plus assertions checked by the `safety` runs)
 *   noloss        every acknowledged item is delivered (to some level), dead-lettered, or
 *                 recoverable: in the synced log at or after the cursor a crash could leave
 *                 (the renamed one). A crash can happen at any step, so this says that no
 *                 crash, at any moment, loses an acknowledged item.
 *   noinvent      (assertions) only items a client sent reach a backend or the dead-letter
 *                 file.
 *   nodup         an item reaches the backends twice only if a crash left it to be delivered
 *                 again, or one of its attempts was received but answered too late.
 *   xlevel        an item reaches both levels only if its delivery to the primary definitely
 *                 failed first, or a crash left it to be delivered again.
 *   deliver       every acknowledged item is eventually delivered or dead-lettered (weak
 *                 fairness; the limit of K attempts makes this hold whatever the backends do,
 *                 so "the backend is eventually up for good" is not needed as a hypothesis).
 *   deliver_healthy  if the primary always answers, every acknowledged item is delivered and
 *                 none is dead-lettered, crashes or not.
 *   failover_delivers  if the backup always answers, every acknowledged item is delivered:
 *                 what the primary fails goes to the backup, not to the dead-letter file.
 *   failback      the primary is eventually active for good (it is tried again, and kept).
 *
 * Mutants (-D<NAME>; spec/run expects spin to report a violation)
 *   ACK_BEFORE_SYNC         the client is answered once its record is written. (noloss, deliver)
 *   ACK_LATE_WRITES         a group commit, when it returns, answers every record written so
 *                           far, also those written while its fdatasync ran.          (noloss)
 *   SEND_UNSYNCED           senders take records that are written but not yet synced; the
 *                           cursor can then pass the end of the log a power loss leaves.
 *                                                                                     (noloss)
 *   CURSOR_BEFORE_DELIVERY  the cursor advances when a record is handed to a sender.
 *                                                                          (noloss, deliver)
 *   CURSOR_SKIPS_GAP        an ack moves the cursor past its record, over earlier records
 *                           not yet acknowledged.                          (noloss, deliver)
 *   DROP_AFTER_K            the K-th failure acknowledges the record without writing it to
 *                           the dead-letter file.                                      (noloss)
 *   RESUME_AT_END           recovery reads on from the end of the log, not from the cursor.
 *                                                                                    (deliver)
 *   REPLAY_FROM_START       recovery reads the log again from its first record.        (nodup)
 *   POISON_BY_HANDOUTS      a persisted count of hand-outs dead-letters a record handed out
 *                           more than K times, as a receive-count policy does.
 *                                                                            (deliver_healthy)
 *   NO_CHECKSUM             recovery keeps a torn record at the end of the log.     (noinvent)
 *   FAILOVER_ON_SEND        a record still awaiting the primary's answer is sent to the backup
 *                           once the backup is active.                         (xlevel, nodup)
 *   MOVE_ON_TIMEOUT         a record whose attempt at the primary timed out (unknown outcome)
 *                           moves to the backup too.                                  (xlevel)
 *   SYNC_ERROR_HEALTH       a level is judged by the synchronous result of handing it a
 *                           record, which a queue always accepts: nothing moves to the backup.
 *                                                                        (failover_delivers)
 *   NO_FAILBACK             no prober: once failed over, the primary is never tried again.
 *                                                                                  (failback)
 *
 * Witnesses (claims spec/run expects to be violated, so that the bounds are known to reach
 * these situations): no_lost_write (a crash loses a written record) and no_cursor_rollback (a
 * crash loses a cursor rename), both with TRACK_LOST; no_redelivery (a crash makes an item
 * reach a backend twice) and no_slow_dup (so does a late answer), with TRACK_DUP; no_ack_gap
 * (acks arrive out of order); no_failover (an item reaches the backup) and no_two_levels (an
 * item reaches both), with TRACK_LEVELS; no_failback (the primary takes an item after a
 * failover, TRACK_FAILBACK); no_dead_letter.
 */

#ifndef NITEMS
#define NITEMS 3                  /* client batches, one record each */
#endif
#ifndef MAXCRASH
#define MAXCRASH 2                /* crashes (kill -9 or power loss) */
#endif
#ifndef K
#define K 2                       /* attempts before a record is dead-lettered */
#endif
#define NSENDERS 2                /* records in flight at once */
#define NLEVELS 2                 /* 0 primary, 1 backup */
#ifdef NO_CHECKSUM
#define LSLOTS (NITEMS + MAXCRASH)  /* log slots: a torn record takes one */
#else
#define LSLOTS NITEMS
#endif
#define GARBAGE NITEMS            /* the item a torn record reads as: no client sent it */

/* a record's delivery, by phase */
#define IDLE  0                   /* not in flight */
#define READY 1                   /* held by a sender, next attempt not yet sent */
#define WAIT  2                   /* request sent, answer pending: outcome unknown */
#define DLQ   3                   /* K attempts failed: to the dead-letter file */

/* attempt outcomes, fixed when the request is sent, seen when the answer comes */
#define O_ACK     0               /* UP: received and answered */
#define O_ERR     1               /* DOWN: refused, not received */
#define O_TIMEOUT 2               /* SLOW: received, answered after the timeout */

#define BIT(i) (1 << (i))

/* ---- durable state (survives a crash) ---- */
byte log[LSLOTS];                 /* item ids by sequence number (slot); 0 beyond wr */
byte wr;                          /* records written (in the OS, at least) */
byte dur;                         /* records synced: a prefix of the written ones */
byte cur;                         /* the cursor file as synced */
byte cur_new;                     /* the cursor file as renamed; = cur when nothing pending */
byte dead;                        /* items in the dead-letter file (synced) */
#ifdef POISON_BY_HANDOUTS
byte handouts[LSLOTS];            /* times the record was handed to a sender (persisted) */
#endif

/* ---- volatile state (lost in a crash) ---- */
byte nrecv;                       /* next item a client sends (clients do not re-send) */
byte sync_to;                     /* the running group commit covers records < sync_to */
byte waiting;                     /* items whose clients wait for the answer */
byte next;                        /* shared read position: next record to hand out */
byte busy;                        /* records held by senders */
byte mack;                        /* slots acknowledged in memory, at or after mcur */
byte mcur;                        /* in-memory cursor: first slot not acknowledged */
byte active_lv;                   /* the failover connector's active level */
byte ph[LSLOTS];                  /* the record's delivery phase */
byte lv[LSLOTS];                  /* level of its current attempt */
byte nf[LSLOTS];                  /* its failed attempts */
byte out[LSLOTS];                 /* outcome of its pending attempt */
byte crashes;

/* ---- ghost state (item masks): observation only ----
   Every ghost variable multiplies the states, so those that only some claims read are built
   only for those claims (the TRACK_* defines on their lines in `checks`); the claims exist
   only in those builds, so a claim run without its ghosts fails to start instead of passing. */
byte acked;                       /* items whose clients were answered OK */
byte dlv;                         /* items some backend has received */
byte recov;                       /* items in log[cur_new .. dur): what recovery would redeliver */
#ifdef TRACK_DUP
byte dup;                         /* items received more than once, over both levels */
byte slowhit;                     /* items with an attempt received but answered too late */
#endif
#ifdef TRACK_LEVELS
byte dlv0, dlv1;                  /* items the primary, the backup has received */
byte failed0;                     /* items whose delivery to the primary definitely failed */
#endif
#if defined(TRACK_DUP) || defined(TRACK_LEVELS)
#define TRACK_CRASHHIT
byte crashhit;                    /* items received before a crash that left them to redeliver */
#endif
#ifdef TRACK_HEALTH
bit  bad[NLEVELS];                /* the level's backend has answered other than UP */
#endif
#ifdef TRACK_LOST
bit  lost_write;                  /* a crash lost a written record */
bit  cursor_rollback;             /* a crash lost a cursor rename */
#endif
#ifdef TRACK_FAILBACK
bit  failed_over;                 /* the backup has been made active */
bit  failed_back;                 /* after that, the primary received an item */
#endif

#define RECEIVED (BIT(nrecv) - 1)  /* items a client sent: clients send in order, once */

ltl noloss { [] ((acked & ~(dlv | dead | recov)) == 0) }
ltl deliver { <> [] ((acked & ~(dlv | dead)) == 0) }
ltl failback { <> [] (active_lv == 0) }
#ifdef TRACK_DUP
ltl nodup { [] ((dup & ~(slowhit | crashhit)) == 0) }
#endif
#ifdef TRACK_LEVELS
ltl xlevel { [] ((dlv0 & dlv1 & ~(failed0 | crashhit)) == 0) }
#endif
#ifdef TRACK_HEALTH
ltl deliver_healthy { ([] !bad[0]) -> <> [] ((acked & ~dlv) == 0 && dead == 0) }
ltl failover_delivers { ([] !bad[1]) -> <> [] ((acked & ~dlv) == 0) }
#endif

/* Witnesses: claims that must be violated (spec/run's `witness` runs). */
ltl no_dead_letter { [] (dead == 0) }
ltl no_ack_gap { [] (mack == 0) }
#ifdef TRACK_DUP
ltl no_redelivery { [] ((dup & crashhit) == 0) }
ltl no_slow_dup { [] ((dup & slowhit) == 0) }
#endif
#ifdef TRACK_LEVELS
ltl no_failover { [] (dlv1 == 0) }
ltl no_two_levels { [] ((dlv0 & dlv1) == 0) }
#endif
#ifdef TRACK_LOST
ltl no_lost_write { [] !lost_write }
ltl no_cursor_rollback { [] !cursor_rollback }
#endif
#ifdef TRACK_FAILBACK
ltl no_failback { [] !failed_back }
#endif

/* Claim runs (spec/run passes -DLTL_RUN) add a process that idles forever, so that a run in
   which everything has stopped still continues as an infinite stutter (spin 6.5.2's pan -a -f
   does not stutter-extend terminal states; see docs/verification.md). */
#ifdef LTL_RUN
active proctype Stutter() {
  bit t;
  do
  :: t = !t
  od
}
#endif

/* recov := the items of log[cur_new .. dur); after every step that moves dur or cur_new */
inline note_recoverable() {
  recov = 0;
  i = cur_new;
  do
  :: i < dur -> recov = recov | BIT(log[i]); i++
  :: else -> break
  od;
  i = 0
}

/* ---- receiver and group commit ---- */
proctype Receiver() {
  byte i, s;
end:
  do
  :: d_step {                    /* a client's batch is appended: write(2), not synced */
       nrecv < NITEMS ->
       log[wr] = nrecv; wr++;
#ifdef ACK_BEFORE_SYNC
       acked = acked | BIT(nrecv);   /* BUG: answered OK while the record is only written */
#else
       waiting = waiting | BIT(nrecv);
#endif
       nrecv++
     }
  :: d_step {                    /* group commit starts: fdatasync covers what is written */
       sync_to == dur && wr > dur -> sync_to = wr
     }
  :: d_step {                    /* fdatasync returned: the records it covers are durable, */
       sync_to > dur ->          /* and their clients are answered */
       dur = sync_to;
#ifdef ACK_LATE_WRITES
       s = wr;                   /* BUG: also those written while the sync ran */
#else
       s = dur;
#endif
       i = 0;
       do
       :: i < s -> acked = acked | (waiting & BIT(log[i])); waiting = waiting & ~BIT(log[i]); i++
       :: else -> break
       od;
       s = 0;
       note_recoverable()
     }
  od
}

/* ---- senders and the failover connector ---- */
/* Senders are interchangeable, so the model keeps the state of each record in flight, by
   its slot, rather than the state of each sender: one process per slot carries that record's
   delivery, and `busy` bounds the records in flight to NSENDERS. */

/* mcur advances over the contiguous prefix of acknowledged slots */
inline advance_cursor() {
#if defined(CURSOR_SKIPS_GAP)
  if                             /* BUG: jumps past this record, over unacked earlier ones */
  :: s + 1 > mcur -> mcur = s + 1
  :: else -> skip
  fi;
  mack = (mack | BIT(s)) & ~(BIT(mcur) - 1)
#elif defined(CURSOR_BEFORE_DELIVERY)
  skip                           /* (advanced at hand-off) */
#else
  mack = mack | BIT(s);
  do
  :: mack & BIT(mcur) -> mack = mack & ~BIT(mcur); mcur++
  :: else -> break
  od
#endif
}

inline release() {
  ph[s] = IDLE; lv[s] = 0; nf[s] = 0; out[s] = 0; busy--
}

/* the backend of level lv[s] receives the record's item */
inline receive() {
  assert(BIT(it) & RECEIVED);    /* noinvent: only what a client sent reaches a backend */
#ifdef TRACK_DUP
  dup = dup | (dlv & BIT(it));
#endif
#ifdef TRACK_LEVELS
  if
  :: lv[s] == 0 -> dlv0 = dlv0 | BIT(it)
  :: else -> dlv1 = dlv1 | BIT(it)
  fi;
#endif
  dlv = dlv | BIT(it)
}

/* the attempt's backend answered other than UP */
inline note_bad() {
#ifdef TRACK_HEALTH
  bad[lv[s]] = 1
#else
  skip
#endif
}

proctype Delivery(byte s) {
  byte it;
end:
  do
  :: d_step {                    /* a sender takes the record: the next durable one */
#ifdef SEND_UNSYNCED
       ph[s] == IDLE && next == s && s < wr && busy < NSENDERS ->  /* BUG: not synced yet */
#else
       ph[s] == IDLE && next == s && s < dur && busy < NSENDERS ->
#endif
       next++; busy++;
       lv[s] = active_lv; ph[s] = READY;
#ifdef POISON_BY_HANDOUTS
       handouts[s]++;            /* BUG: a record handed out more than K times is poison */
       if
       :: handouts[s] > K -> ph[s] = DLQ
       :: else -> skip
       fi;
#endif
#ifdef CURSOR_BEFORE_DELIVERY
       mcur = next;              /* BUG: the cursor moves when the record is handed out */
#endif
       skip
     }
  :: atomic {                    /* an attempt is sent to level lv[s]; its backend is ... */
       ph[s] == READY ->
       it = log[s];
       if
       :: out[s] = O_ACK; receive()                       /* ... UP */
       :: out[s] = O_ERR; note_bad()                      /* ... DOWN */
       :: out[s] = O_TIMEOUT; receive(); note_bad()       /* ... SLOW */
       fi;
#ifdef TRACK_FAILBACK
       if
       :: failed_over && lv[s] == 0 && out[s] != O_ERR -> failed_back = 1
       :: else -> skip
       fi;
#endif
       ph[s] = WAIT; it = 0
     }
  :: d_step {                    /* the answer comes, or the timeout */
       ph[s] == WAIT ->
       if
       :: out[s] == O_ACK ->
          advance_cursor();
          release()
       :: else ->
          it = log[s];
#ifdef TRACK_DUP
          if
          :: out[s] == O_TIMEOUT -> slowhit = slowhit | BIT(it)
          :: else -> skip
          fi;
#endif
          nf[s]++;
          if
          :: nf[s] >= K -> ph[s] = DLQ
#ifndef SYNC_ERROR_HEALTH
#ifdef MOVE_ON_TIMEOUT
          :: nf[s] < K && lv[s] + 1 < NLEVELS ->
             /* BUG: an unknown outcome (SLOW: the backend may have the item) moves too */
#else
          :: nf[s] < K && out[s] == O_ERR && lv[s] + 1 < NLEVELS ->
#endif
             /* definitely failed at this level (DOWN: answered, nothing kept): the level is
                judged failed, and the record moves one level down */
#ifdef TRACK_LEVELS
             if
             :: lv[s] == 0 && out[s] == O_ERR -> failed0 = failed0 | BIT(it)
             :: else -> skip
             fi;
#endif
             if
             :: active_lv == lv[s] ->
                active_lv = lv[s] + 1;
#ifdef TRACK_FAILBACK
                failed_over = 1;
#endif
                skip
             :: else -> skip
             fi;
             lv[s]++;
             ph[s] = READY
#endif
          :: else -> ph[s] = READY   /* retried at the same level (also every SLOW) */
          fi;
          out[s] = 0;
          it = 0
       fi
     }
#ifdef FAILOVER_ON_SEND
  :: d_step {                    /* BUG: the backup is active, so the record still awaiting */
       ph[s] == WAIT && lv[s] == 0 && active_lv == 1 ->  /* the primary's answer goes there */
       lv[s] = 1; out[s] = 0; ph[s] = READY
     }
#endif
  :: d_step {                    /* K attempts failed: dead-letter file (fdatasync'd), ack */
       ph[s] == DLQ ->
       it = log[s];
       assert(BIT(it) & RECEIVED);   /* noinvent, for the dead-letter file */
#ifndef DROP_AFTER_K
       dead = dead | BIT(it);
#endif
       it = 0;
       advance_cursor();
       release()
     }
  od
}

/* ---- cursor writer ---- */
proctype CursorWriter() {
  byte i;
end:
  do
  :: d_step {                    /* temp file written and fdatasync'd, renamed over the cursor */
       mcur > cur_new -> cur_new = mcur; note_recoverable()
     }
  :: d_step {                    /* directory fsync'd: the rename is durable */
       cur_new != cur -> cur = cur_new
     }
  od
}

/* ---- failover prober ---- */
proctype Prober() {
end:
  do
#ifndef NO_FAILBACK
  :: d_step { active_lv > 0 -> active_lv = 0 }   /* try the primary again */
#else
  :: false                       /* BUG: the primary is never tried again */
#endif
  od
}

/* ---- crash and recovery ---- */
proctype Crasher() {
  byte i, w;
  do
  :: atomic {
       crashes < MAXCRASH ->
       crashes++;
       w = wr;
       do                        /* the OS kept a prefix of the unsynced records */
       :: wr > dur -> wr--
       :: break
       od;
#ifdef TRACK_LOST
       if
       :: wr < w -> lost_write = 1
       :: else -> skip
       fi;
#endif
       i = wr;
       do                        /* recovery truncates the log there */
       :: i < w ->
          log[i] = 0;
#ifdef POISON_BY_HANDOUTS
          handouts[i] = 0;
#endif
          i++
       :: else -> break
       od;
#ifdef NO_CHECKSUM
       if                        /* BUG: a torn record at the end is read as a record */
       :: wr < w -> log[wr] = GARBAGE; wr++
       :: skip
       fi;
#endif
       if                        /* a pending cursor rename reached the disk, or not */
       :: cur = cur_new
       :: cur_new != cur ->
#ifdef TRACK_LOST
          cursor_rollback = 1;
#endif
          skip
       fi;
       /* volatile state is gone */
       cur_new = cur; sync_to = dur; waiting = 0; busy = 0; mack = 0; active_lv = 0;
       i = 0;
       do
       :: i < LSLOTS -> ph[i] = IDLE; lv[i] = 0; nf[i] = 0; out[i] = 0; i++
       :: else -> break
       od;
       /* recovery: read the log from the persisted cursor */
#if defined(RESUME_AT_END)
       next = wr; mcur = wr;     /* BUG: only records written from now on are read */
#elif defined(REPLAY_FROM_START)
       next = 0; mcur = 0;       /* BUG: the log is read again from its first record */
#else
       next = cur; mcur = cur;
#endif
#ifdef TRACK_CRASHHIT
       i = cur;
       do                        /* what was received and is now to be delivered again */
       :: i < wr -> crashhit = crashhit | (dlv & BIT(log[i])); i++
       :: else -> break
       od;
#endif
       note_recoverable();
       i = 0; w = 0
     }
  :: break                       /* no (further) crash: lets weak fairness retire this process */
  od
}

init {
  byte s;
  atomic {
    run Receiver();
    s = 0;
    do
    :: s < LSLOTS -> run Delivery(s); s++
    :: else -> break
    od;
    run CursorWriter();
    run Prober();
    run Crasher();
    s = 0
  }
}
