/*
 * chansel.pml — model 1: channels and select of the CSP runtime.
 *
 * Mirrors csp/chan.h, csp/chan.cc, csp/internal/waiter.h and csp/select.cc. Each inline below
 * names the function it stands for:
 *   dequeue_claim  WaitQueue::dequeue            try_send   ChanState<T>::send_locked
 *   q_remove       WaitQueue::remove             try_recv   ChanState<T>::recv_locked
 *   chan_close     ChanCore::close               wake       WakeTarget::wake
 *   chan_send/recv SendAwaiter, RecvAwaiter, send_blocking, recv_blocking, try_send/try_recv
 *   select_pass12  select_begin (poll_locked) + select_park_locked
 *   select_finish  (the resume, then) select_withdraw
 *   lock_all       sort_lock_order + lock_all    sel_done/sel_win  SelectState::done/winner
 * ChanSelect.tla is the TLA+ twin of this file, and docs/verification.md maps both to the
 * code. A change to the algorithm in csp/ changes this file in the same commit.
 * Not modelled: select's lock-free default path (nothing_ready_snapshot over the readiness
 * words), a select with two cases on one channel, and the C++ memory model (the model is
 * sequentially consistent; the code relies on the channel locks and the run queue's
 * release/acquire to publish a hand-over before the woken goroutine reads it).
 *
 * How the code is abstracted
 *   - A channel is a lock, a FIFO buffer (capacity 0 = rendezvous), a closed flag and two
 *     FIFO queues of waiters, recvq and sendq.
 *   - A lock-held critical section is one indivisible step (d_step) whose guard is "every
 *     lock it takes is free". For the correct algorithm this loses no behaviour: all a section
 *     touches is guarded by the locks it holds, except a select's `done` flag, which it changes
 *     at most once by compare-and-swap, so every finer interleaving of sections is equivalent
 *     to an order explored here. Lock bits become visible only in WAKE_BEFORE_HANDOVER, whose
 *     bug is to keep a lock across two steps.
 *   - Parking is a binary semaphore per goroutine (woken): a wake that comes before its owner
 *     has suspended is kept, as when a coroutine is resumed from await_suspend or a thread
 *     waits on a futex.
 *   - The random poll order of select is a rotation whose start is chosen nondeterministically,
 *     so every ready case can win. Lock order: scenario 5 takes a select's locks one at a time
 *     (LOCK_STEPS); elsewhere taking them is part of the section's single step.
 *   - The timer thread is a sender on T that never blocks (one tick into an empty buffer(1)).
 *   - Values carry their source and sequence number (v = 4 * source + seq) so that loss,
 *     duplication and reordering can be seen.
 *
 * Scenarios (-DSCENARIO=n; each is small enough to be explored exhaustively)
 *   1 channels: A unbuffered, B buffered(BCAP), no select.
 *       SA sends 1, 2 on A, then closes A      RA1, RA2 receive from A until it is closed
 *       SB sends 5, 6, 7 on B                  RB receives one value from B, then closes B
 *                                              (SB may be blocked then: close must release it)
 *   2 select over every kind of case: A unbuffered, B buffered(BCAP), T a timer channel
 *     (buffered(1), one tick from the timer thread), D the ctx.done() channel (closed on cancel).
 *       SEL loops on select { v = <-A ; B <- 9, then 10 ; <-T ; <-D }
 *       SA sends 1, 2 on A, then closes A      RB receives from B until it is closed
 *       TM sends the tick 13 on T              CX closes D
 *   3 select and a plain receiver on one channel (stale waiters are met and skipped):
 *       SEL loops on select { v = <-A ; <-D }  RA1 receives from A until it is closed
 *       SA sends 1, 2 on A, then closes A      CX closes D
 *   4 select against select (each completes with the other's waiters):
 *       SEL0 loops on select { A <- 9, then 10 ; <-D }
 *       SEL1 loops on select { v = <-A ; v = <-B ; <-D }
 *       SB sends 5 on B, then closes B         CX closes D
 *   5 lock order: two selects over the same three channels, locks taken one at a time
 *       SEL0 loops on select { A <- 9 ; v = <-B ; <-D }
 *       SEL1 loops on select { v = <-A ; B <- 17 ; <-D }       CX closes D
 *   A select goroutine closes a channel it sends on once it is done sending on it (all values
 *   sent, or cancelled), and after ctx.done() is closed it only drains its receive channels
 *   until they are closed. So in every scenario each operation has a partner or meets a
 *   close, and none may block forever.
 *
 * Properties
 *   assertions  no value duplicated (got); values leave a channel in FIFO order per sender
 *               (took); a goroutine is woken once per park (wake); at most one of a channel's
 *               queues is non-empty; at the end (init): every value whose send reported success
 *               was received exactly once or is still buffered, and no value whose send
 *               reported failure was received (no loss, no phantom).
 *   end states  no goroutine blocks forever (no deadlock when a partner exists).
 *   ltl         terminates: every goroutine finishes. close_wakes: once a channel is closed,
 *               every goroutine waiting on it is resumed (both under weak fairness).
 *
 * Mutants (-D<NAME>; spec/run expects spin to report a violation for each)
 *   NO_ATOMIC_WINNER      dequeue takes a select's waiter without winning `done`.
 *   WAKE_BEFORE_HANDOVER  the partner wakes the waiter, and only then writes value and success.
 *   CLOSE_NO_CLAIM        close releases a select's waiter without winning `done`.
 *   FIFO_SKIP_BUFFER      recv from a full buffer takes the waiting sender's value directly.
 *   CLOSE_SKIPS_SENDERS   close releases the receivers only; a blocked sender never wakes.
 *   DONE_RESET_EARLY      a woken select makes its record reusable (done = 0) before it has
 *                         withdrawn its other waiters, so a stale waiter can be claimed again.
 *   LOCK_IN_POLL_ORDER    select takes its locks in poll order instead of address order.
 *   SEND_CLOSED_WAITS     a send on a closed channel is "not ready" (and parks) instead of
 *                         failing at once.
 */

#ifndef SCENARIO
#define SCENARIO 1
#endif
#ifndef BCAP
#define BCAP 1
#endif

#define NCH  4
#define CH_A 0
#define CH_B 1
#define CH_T 2
#define CH_D 3
#define BMAX 2                    /* storage per buffer; the capacity in force is CAP(c) */
#define CAP(c) ((c) == CH_B -> BCAP : ((c) == CH_T -> 1 : 0))

#define QMAX 2                    /* most waiters a queue holds in these scenarios */
#define RQ 0
#define SQ 1
#define QI(c, k) ((c) * 2 + (k))

/* Goroutines. A plain goroutine's waiter id is its goroutine id. Select goroutine s owns one
   waiter per case, SELW + NCH * s + i, and its case i is an operation on channel i. */
#define G_SA   0
#define G_SB   1
#define G_RA1  2
#define G_RA2  3
#define G_RB   4
#define G_TM   5
#define G_CX   6
#define G_SEL0 7
#define NSEL   2
#define NG     9                  /* G_SEL0 + NSEL */
#define SELW   9
#define NW     17                 /* SELW + NCH * NSEL */
#define NONE   255
#define IS_SEL(w)  ((w) >= SELW)
#define W_SEL(w)   (((w) - SELW) / NCH)
#define W_CASE(w)  (((w) - SELW) % NCH)
#define W_OWNER(w) ((w) >= SELW -> G_SEL0 + W_SEL(w) : (w))
#define SEL_W(s, i) (SELW + NCH * (s) + (i))

/* Values: source s sends 4s+1, 4s+2, 4s+3 in that order.
   Sources: SA 0, SB 1, select 0 is 2, TM 3, select 1 is 4. */
#define NV   19
#define TICK 13
#define SRC(v) ((v) / 4)
#define SEQ(v) ((v) % 4)

#if SCENARIO == 1 || SCENARIO == 2
#define NRUN 5
#elif SCENARIO == 3 || SCENARIO == 4
#define NRUN 4
#else
#define NRUN 3
#define LOCK_STEPS                /* scenario 5 takes the select's locks one at a time */
#endif

/* ---- channel state (csp/chan.h, ChanState) ---- */
bit  lk[NCH];                     /* the channel's spin lock */
bit  closed[NCH];
byte buf[NCH * BMAX];             /* FIFO, head at index 0 */
byte blen[NCH];
byte qbuf[NCH * 2 * QMAX];        /* recvq and sendq of every channel, head at index 0 */
byte qlen[NCH * 2];

/* ---- waiters (csp/chan.h, Waiter) and the select record (csp/select.cc) ---- */
byte w_slot[NW];                  /* the value handed to, or offered by, the waiter */
bit  w_ok[NW];                    /* success: completed by a partner (1), released by close (0) */
bit  sel_done[NSEL];              /* each select record's atomic `done` flag */
byte sel_win[NSEL];               /* the case that won, written by whoever won `done` */
bit  woken[NG];                   /* per-goroutine park semaphore */

/* ---- ghost state: observation only, never read by the algorithm ---- */
bit  sent_ok[NV + 1];             /* the send of v reported success to its sender */
bit  recvd[NV + 1];               /* v reported to a receiver (or still buffered at the end) */
byte last_taken[5];               /* per source: sequence number last taken from a channel */
byte waiting_on[NCH];             /* goroutines parked with a waiter on channel c */
byte ndone;                       /* goroutines that have finished */

#ifdef TRACK_STALE
bit  stale_seen;                  /* a stale waiter was met and skipped */
#define NOTE_STALE stale_seen = 1
#else
#define NOTE_STALE skip           /* the ghost bit costs states: only for the witness */
#endif

ltl terminates  { <> (ndone == NRUN) }
ltl close_wakes { [] ((closed[CH_A] -> <> (waiting_on[CH_A] == 0)) && (closed[CH_B] -> <> (waiting_on[CH_B] == 0)) && (closed[CH_D] -> <> (waiting_on[CH_D] == 0))) }

/* Witness (spec/run expects it violated, built with -DTRACK_STALE): stale waiters are met,
   so the scenarios exercise the path the atomic winner protects. */
#ifdef TRACK_STALE
ltl no_stale { [] !stale_seen }
#endif

/* Claim runs (spec/run passes -DLTL_RUN to spin) add a process that idles forever, so that a
   run which terminates or deadlocks still continues as an infinite stutter. spin 6.5.2's
   weak-fairness search (pan -a -f) does not stutter-extend terminal states by itself, and
   would miss every liveness violation that ends in one. */
#ifdef LTL_RUN
active proctype Stutter() {
  bit t;
  do
  :: t = !t
  od
}
#endif

/* Locals of every goroutine; the inlines below use them. */
#define LOCALS byte w, i, qx, v, wg, hw = NONE, late_w = NONE, late_v, late_c; bit ok, ready

/* ---- queues: caller holds the channel lock ---- */
inline q_push(qi, x) {
  assert(qlen[qi] < QMAX);
  qbuf[(qi) * QMAX + qlen[qi]] = x;
  qlen[qi]++
}

inline q_pop(qi, x) {
  x = qbuf[(qi) * QMAX];
  i = 1;
  do
  :: i < qlen[qi] -> qbuf[(qi) * QMAX + i - 1] = qbuf[(qi) * QMAX + i]; i++
  :: else -> break
  od;
  qlen[qi]--;
  qbuf[(qi) * QMAX + qlen[qi]] = 0;
  i = 0
}

/* WaitQueue::remove: removes x from queue qi if it is still there (a select withdrawing the
   waiters of the cases that lost). */
inline q_remove(qi, x) {
  i = 0;
  do
  :: i < qlen[qi] && qbuf[(qi) * QMAX + i] != x -> i++
  :: else -> break
  od;
  if
  :: i < qlen[qi] ->
     do
     :: i + 1 < qlen[qi] -> qbuf[(qi) * QMAX + i] = qbuf[(qi) * QMAX + i + 1]; i++
     :: else -> break
     od;
     qlen[qi]--;
     qbuf[(qi) * QMAX + qlen[qi]] = 0
  :: else -> skip
  fi;
  i = 0
}

/* WaitQueue::dequeue. Takes into w the first waiter of queue qi that may still be completed,
   NONE if there is none. A select's waiter is taken only by winning its `done` flag (compare-and-swap 0 -> 1
   under this channel's lock); a waiter whose select already won elsewhere is stale and is
   dropped. Caller holds the lock. */
inline dequeue_claim(qi, w) {
  w = NONE;
  do
  :: qlen[qi] == 0 -> break
  :: else ->
     q_pop(qi, w);
     if
     :: !IS_SEL(w) -> break
#ifdef NO_ATOMIC_WINNER
     :: IS_SEL(w) ->                                  /* BUG: no compare-and-swap */
        sel_done[W_SEL(w)] = 1; sel_win[W_SEL(w)] = W_CASE(w); break
#else
     :: IS_SEL(w) && sel_done[W_SEL(w)] == 0 ->
        sel_done[W_SEL(w)] = 1; sel_win[W_SEL(w)] = W_CASE(w); break
     :: IS_SEL(w) && sel_done[W_SEL(w)] == 1 -> w = NONE; NOTE_STALE   /* stale: skip it */
#endif
     fi
  od
}

/* ---- buffer: caller holds the lock ---- */
inline buf_push(c, x) {
  assert(blen[c] < CAP(c));
  buf[(c) * BMAX + blen[c]] = x;
  blen[c]++
}

inline buf_pop(c, x) {
  x = buf[(c) * BMAX];
  i = 1;
  do
  :: i < blen[c] -> buf[(c) * BMAX + i - 1] = buf[(c) * BMAX + i]; i++
  :: else -> break
  od;
  blen[c]--;
  buf[(c) * BMAX + blen[c]] = 0;
  i = 0
}

/* ---- ghost checks ---- */
/* x leaves its channel (popped from the buffer, or handed to a waiting receiver): it must be
   the next value of its sender, since a sender stops at its first failed send. */
inline took(x) {
  assert(SEQ(x) == last_taken[SRC(x)] + 1);
  last_taken[SRC(x)] = SEQ(x)
}

/* a receiver reports v to its caller */
inline got(x) {
  assert(x >= 1 && x <= NV);
  assert(recvd[x] == 0);
  recvd[x] = 1
}

/* at most one of a channel's wait queues is non-empty (csp/chan.h invariant) */
#define QUEUES_OK(c) (qlen[QI(c, RQ)] == 0 || qlen[QI(c, SQ)] == 0)

/* ---- hand-over and wake ---- */
/* Completes waiter w as the partner of a send or receive: x is the value for a receiving
   waiter, 0 for a sending one whose value has already been taken. Caller holds c's lock. */
inline hand_over(c, w, x) {
  hw = w;
#ifdef WAKE_BEFORE_HANDOVER
  late_w = w; late_v = x; late_c = c; lk[c] = 1     /* BUG: the write happens after the wake */
#else
  if
  :: x != 0 -> w_slot[w] = x
  :: else -> skip
  fi;
  w_ok[w] = 1
#endif
}

/* WakeTarget::wake: makes goroutine g runnable; called only at the end of a section. */
inline wake(g) {
  wg = g;
  assert(woken[wg] == 0);                       /* one wake per park: never resumed twice */
  woken[wg] = 1;
  wg = 0
}

/* Runs at the end of every critical section: wakes the partner it completed. The code wakes
   after unlocking; the wake commutes with every step but the woken goroutine's own resume,
   so doing it at the unlock loses no behaviour. The mutant keeps the lock, wakes, and only
   then writes the value and unlocks, in a separate step. */
inline wake_partner() {
#ifdef WAKE_BEFORE_HANDOVER
  if
  :: hw != NONE -> wake(W_OWNER(hw))
  :: else -> skip
  fi;
  hw = NONE
#else
  if
  :: hw != NONE -> wake(W_OWNER(hw)); hw = NONE
  :: else -> skip
  fi
#endif
}

/* After the critical section: only the mutant has something left to do. */
inline after_unlock() {
#ifdef WAKE_BEFORE_HANDOVER
  if
  :: late_w != NONE ->
     d_step {
       if
       :: late_v != 0 -> w_slot[late_w] = late_v
       :: else -> skip
       fi;
       w_ok[late_w] = 1; lk[late_c] = 0;
       late_w = NONE; late_v = 0; late_c = 0
     }
  :: else -> skip
  fi
#else
  skip
#endif
}

/* ---- the channel operations, caller holds c's lock ---- */
/* ChanState<T>::send_locked. Tries to send x on c. ready: the operation completed (ok:
   delivered, or !ok: closed). */
inline try_send(c, x) {
  ready = 1;
  if
#ifdef SEND_CLOSED_WAITS
  :: closed[c] -> ready = 0                  /* BUG: waits on a channel nobody will close again */
#else
  :: closed[c] -> ok = 0
#endif
  :: else ->
     dequeue_claim(QI(c, RQ), w);
     if
     :: w != NONE -> assert(blen[c] == 0); took(x); hand_over(c, w, x); ok = 1
     :: else ->
        if
        :: blen[c] < CAP(c) -> buf_push(c, x); ok = 1
        :: else -> ready = 0
        fi
     fi
  fi
}

/* ChanState<T>::recv_locked. Tries to receive from c into v. ready: completed (ok: v is a
   value, !ok: closed and drained). */
inline try_recv(c) {
  ready = 1;
  dequeue_claim(QI(c, SQ), w);
  if
  :: w != NONE ->
     if
     :: CAP(c) == 0 -> v = w_slot[w]
     :: else ->
        assert(blen[c] == CAP(c));
#ifdef FIFO_SKIP_BUFFER
        v = w_slot[w]                                       /* BUG: jumps the buffered values */
#else
        buf_pop(c, v); buf_push(c, w_slot[w])               /* head out, sender's value in */
#endif
     fi;
     took(v); hand_over(c, w, 0); ok = 1
  :: else ->
     if
     :: blen[c] > 0 -> buf_pop(c, v); took(v); ok = 1
     :: else ->
        if
        :: closed[c] -> v = 0; ok = 0
        :: else -> ready = 0
        fi
     fi
  fi
}

/* ---- blocking operations of a plain goroutine g (waiter id g) ----
   The ghost records (sent_ok, got) are made in the step where the caller learns the result. */
inline chan_send(c, x, g) {
  d_step {
    lk[c] == 0 ->
    try_send(c, x);
    if
    :: ready && ok -> sent_ok[x] = 1
    :: ready && !ok -> skip
    :: else -> w_slot[g] = x; w_ok[g] = 0; q_push(QI(c, SQ), g); waiting_on[c]++
    fi;
    wake_partner();
    assert(QUEUES_OK(c))
  }
  after_unlock();
  if
  :: !ready ->
     d_step {
       woken[g] == 1 -> woken[g] = 0; waiting_on[c]--; ok = w_ok[g];
       if
       :: ok -> sent_ok[x] = 1
       :: else -> skip
       fi
     }
  :: else -> skip
  fi
}

inline chan_recv(c, g) {
  d_step {
    lk[c] == 0 ->
    try_recv(c);
    if
    :: ready && ok -> got(v)
    :: ready && !ok -> skip
    :: else -> w_slot[g] = 0; w_ok[g] = 0; q_push(QI(c, RQ), g); waiting_on[c]++
    fi;
    wake_partner();
    assert(QUEUES_OK(c))
  }
  after_unlock();
  if
  :: !ready ->
     d_step {
       woken[g] == 1 -> woken[g] = 0; waiting_on[c]--; ok = w_ok[g]; v = w_slot[g];
       if
       :: ok -> got(v)
       :: else -> skip
       fi
     }
  :: else -> skip
  fi
}

/* ChanCore::close: set closed, release every waiter of both queues as failed, and wake them
   (see wake_partner for why the wakes may sit at the end of the section). */
inline chan_close(c) {
  d_step {
    lk[c] == 0 ->
    assert(!closed[c]);
    closed[c] = 1;
    do
#ifdef CLOSE_SKIPS_SENDERS
    :: qlen[QI(c, RQ)] > 0 ->               /* BUG: the senders are left waiting */
#else
    :: qlen[QI(c, RQ)] > 0 || qlen[QI(c, SQ)] > 0 ->
#endif
       if
       :: qlen[QI(c, RQ)] > 0 -> qx = QI(c, RQ)
       :: else -> qx = QI(c, SQ)
       fi;
#ifdef CLOSE_NO_CLAIM
       q_pop(qx, w);                        /* BUG: a select's waiter taken without the CAS */
       if
       :: IS_SEL(w) -> sel_done[W_SEL(w)] = 1; sel_win[W_SEL(w)] = W_CASE(w)
       :: else -> skip
       fi;
#else
       dequeue_claim(qx, w);
#endif
       if
       :: w != NONE -> w_ok[w] = 0; wake(W_OWNER(w))
       :: else -> skip
       fi
    :: else -> break
    od;
    w = 0; qx = 0
  }
}

/* ---- plain goroutines ---- */
/* Sends first, first+1, ... (n values) on c, stopping at the first failure; then closes c if
   `closes`. */
proctype Sender(byte g; byte c; byte first; byte n; bit closes) {
  LOCALS;
  byte k = 0;
  do
  :: k < n ->
     chan_send(c, first + k, g);
     if
     :: ok -> k++
     :: else -> break
     fi
  :: else -> break
  od;
  if
  :: closes -> chan_close(c)
  :: else -> skip
  fi;
  ndone++
}

/* Receives from c until it is closed or `limit` values have come (0: no limit); then closes
   c if `closes`. */
proctype Receiver(byte g; byte c; byte limit; bit closes) {
  LOCALS;
  byte k = 0;
  do
  :: limit == 0 || k < limit ->
     chan_recv(c, g);
     if
     :: ok -> k++
     :: else -> break
     fi
  :: else -> break
  od;
  if
  :: closes -> chan_close(c)
  :: else -> skip
  fi;
  ndone++
}

proctype Canceller(byte c) {
  LOCALS;
  chan_close(c);
  ndone++
}

/* ---- select goroutines (csp/select.cc) ----
   Select s has the cases in the mask `cases`; case i is an operation on channel i, a send if
   bit i of `dirs` is set, else a receive. D is only ever received from (ctx.done()). */
#define CASE_Q(i) (dirs & (1 << (i)) -> QI(i, SQ) : QI(i, RQ))
#define LOCKS_FREE(en) ((!((en) & 1) || lk[0] == 0) && (!((en) & 2) || lk[1] == 0) && \
                        (!((en) & 4) || lk[2] == 0) && (!((en) & 8) || lk[3] == 0))

/* What the caller of select does with the case that won (win, ok, v). */
inline act_on_winner() {
  if
  :: win == CH_D -> en = en & ~dirs & 3          /* cancelled: stop sending, drain A and B */
  :: win == CH_T ->
     if
     :: ok -> got(v)
     :: else -> skip
     fi;
     en = en & ~4                                /* a one-shot timer */
  :: win < CH_T && (dirs & (1 << win)) ->
     if
     :: ok -> sent_ok[next_send] = 1; next_send++;
        if
        :: next_send > last_send -> en = en & ~(1 << win)
        :: else -> skip
        fi
     :: else -> en = en & ~(1 << win)            /* the channel is closed: the send failed */
     fi
  :: win < CH_T && !(dirs & (1 << win)) ->
     if
     :: ok -> got(v)
     :: else -> en = en & ~(1 << win)            /* closed and drained: stop receiving */
     fi
  fi;
  v = 0; ok = 0; win = 0
}

/* select_begin (poll_locked) and select_park_locked: passes 1 and 2 of select, every channel
   of the select locked.
   Pass 1 tries the cases in the poll order and completes the first ready one. The shuffled
   poll order is a rotation starting at `first`, which the caller chooses nondeterministically:
   any ready case can come first, so every possible winner is explored. (What is not explored
   is the order in which not-ready cases are tried; trying one at most drops stale waiters,
   which changes no outcome.)
   Pass 2, if nothing was ready: one waiter per case, all sharing the record sel_done[s]. */
inline select_pass12(first) {
  sel_done[s] = 0; sel_win[s] = NONE; ready = 0; tried = 0;
  do
  :: tried < NCH && !ready ->
     win = (first + tried) % NCH;
     if
     :: (en & (1 << win)) && (dirs & (1 << win)) -> try_send(win, next_send)
     :: (en & (1 << win)) && !(dirs & (1 << win)) -> try_recv(win)
     :: else -> skip
     fi;
     tried++
  :: else -> break
  od;
  tried = 0;
  if
  :: ready -> wake_partner(); act_on_winner()
  :: else ->
     win = 0;
     i = 0;
     do
     :: i < NCH ->
        if
        :: en & (1 << i) ->
           w_ok[SEL_W(s, i)] = 0;
           w_slot[SEL_W(s, i)] = (dirs & (1 << i) -> next_send : 0);
           qx = CASE_Q(i);                      /* spin takes no ?: inside inline arguments */
           q_push(qx, SEL_W(s, i));
           waiting_on[i]++;
           assert(QUEUES_OK(i))
        :: else -> skip
        fi;
        i++
     :: else -> break
     od;
     i = 0; qx = 0
  fi
}

/* sort_lock_order + lock_all: takes the locks of every enabled case one at a time, in address
   order (here: channel index), as csp/select.cc does; the LOCK_IN_POLL_ORDER mutant takes them in poll order.
   Only scenario 5 models lock acquisition step by step (LOCK_STEPS); elsewhere a section is
   one step guarded by LOCKS_FREE. */
inline lock_all(first) {
  held = en;
  li = 0;
  do
  :: li < NCH ->
#ifdef LOCK_IN_POLL_ORDER
     lc = (first + li) % NCH;                    /* BUG: two selects can lock in opposite orders */
#else
     lc = li;
#endif
     if
     :: held & (1 << lc) -> atomic { lk[lc] == 0 -> lk[lc] = 1 }
     :: else -> skip
     fi;
     li++
  :: else -> break
  od;
  li = 0; lc = 0
}

inline unlock_all() {
  li = 0;
  do
  :: li < NCH ->
     if
     :: held & (1 << li) -> lk[li] = 0
     :: else -> skip
     fi;
     li++
  :: else -> break
  od;
  li = 0; held = 0
}

/* select_finish, every channel locked: withdraw the waiters that did not win and read the
   result the winner left. */
inline select_withdraw() {
#ifndef DONE_RESET_EARLY
  assert(sel_done[s] == 1);
  win = sel_win[s];                             /* written by the winner before it woke us */
#endif
  assert(win != NONE);                          /* woken by a winner, never by a stale claim */
  w = 0;
  do
  :: w < NCH ->
     if
     :: en & (1 << w) ->
        waiting_on[w]--;
        qx = CASE_Q(w);
        q_remove(qx, SEL_W(s, w))
     :: else -> skip
     fi;
     w++
  :: else -> break
  od;
  ok = w_ok[SEL_W(s, win)];
  v = w_slot[SEL_W(s, win)];
  w = 0; qx = 0;
  act_on_winner()
}

/* A select goroutine closes a channel it sends on once it is done sending (the producer
   closes), so that the other side's drain ends. */
inline close_finished_sends() {
  if
  :: (dirs & 1) && !(en & 1) -> chan_close(CH_A); dirs = dirs & ~1
  :: else -> skip
  fi;
  if
  :: (dirs & 2) && !(en & 2) -> chan_close(CH_B); dirs = dirs & ~2
  :: else -> skip
  fi
}

/* Pass 3 of select: if nothing was ready, park; once woken, lock every channel again and
   withdraw the waiters that did not win. Without LOCK_STEPS, resuming and relocking are one
   step, since the resume commutes with every other goroutine's step. */
inline select_finish() {
  after_unlock();
  if
  :: !ready ->
#if defined(LOCK_STEPS) || defined(DONE_RESET_EARLY)
     d_step {
       woken[G_SEL0 + s] == 1 -> woken[G_SEL0 + s] = 0;
#ifdef DONE_RESET_EARLY
       win = sel_win[s]; sel_done[s] = 0        /* BUG: record reusable, waiters still queued */
#else
       skip
#endif
     };
#ifdef LOCK_STEPS
     lock_all(0);
     d_step { select_withdraw(); unlock_all() }
#else
     d_step { LOCKS_FREE(en) -> select_withdraw() }
#endif
#else
     d_step {
       woken[G_SEL0 + s] == 1 && LOCKS_FREE(en) ->
       woken[G_SEL0 + s] = 0;
       select_withdraw()
     }
#endif
  :: else -> skip
  fi;
  close_finished_sends()
}

/* Select goroutine s: loops on select until every case is done with. Sends nsend values.
   When ctx.done() is closed it stops sending and drains its receive channels until they are
   closed. */
proctype Selector(byte s; byte cases; byte dirs; byte nsend) {
  LOCALS;
  byte en = cases;      /* enabled cases; a case is dropped once its channel is done with */
  byte tried, win;
  byte next_send = (s == 0 -> 9 : 17);
  byte last_send = next_send + nsend - 1;
#ifdef LOCK_STEPS
  byte held, li, lc, first;
  do
  :: en != 0 ->
     if                                          /* the shuffle: where the poll order starts */
     :: first = 0
     :: first = 1
     :: first = 2
     :: first = 3
     fi;
     lock_all(first);
     d_step { select_pass12(first); unlock_all(); first = 0 };
     select_finish()
  :: else -> break
  od;
#else
  do
  :: d_step { en != 0 && LOCKS_FREE(en) -> select_pass12(0) }; select_finish()
  :: d_step { en != 0 && LOCKS_FREE(en) -> select_pass12(1) }; select_finish()
  :: d_step { en != 0 && LOCKS_FREE(en) -> select_pass12(2) }; select_finish()
  :: d_step { en != 0 && LOCKS_FREE(en) -> select_pass12(3) }; select_finish()
  :: en == 0 -> break
  od;
#endif
  ndone++
}

init {
  byte c, x, i;
  atomic {
#if SCENARIO == 1
    run Sender(G_SA, CH_A, 1, 2, 1);
    run Receiver(G_RA1, CH_A, 0, 0);
    run Receiver(G_RA2, CH_A, 0, 0);
    run Sender(G_SB, CH_B, 5, 3, 0);
    run Receiver(G_RB, CH_B, 1, 1)
#elif SCENARIO == 2
    run Selector(0, 15, 2, 2);                 /* recv A, send B (9, 10), recv T, recv D */
    run Sender(G_SA, CH_A, 1, 2, 1);
    run Receiver(G_RB, CH_B, 0, 0);
    run Sender(G_TM, CH_T, TICK, 1, 0);
    run Canceller(CH_D)
#elif SCENARIO == 3
    run Selector(0, 9, 0, 0);                  /* recv A, recv D */
    run Sender(G_SA, CH_A, 1, 2, 1);
    run Receiver(G_RA1, CH_A, 0, 0);
    run Canceller(CH_D)
#elif SCENARIO == 4
    run Selector(0, 9, 1, 2);                  /* send A (9, 10), recv D */
    run Selector(1, 11, 0, 0);                 /* recv A, recv B, recv D */
    run Sender(G_SB, CH_B, 5, 1, 1);
    run Canceller(CH_D)
#else
    run Selector(0, 11, 1, 1);                 /* send A (9), recv B, recv D */
    run Selector(1, 11, 2, 1);                 /* recv A, send B (17), recv D */
    run Canceller(CH_D)
#endif
  }
  ndone == NRUN;
  /* The end: whatever is still buffered counts as delivered to the channel. */
  d_step {
    c = 0;
    do
    :: c < NCH ->
       assert(qlen[QI(c, RQ)] == 0 && qlen[QI(c, SQ)] == 0 && waiting_on[c] == 0);
       do
       :: blen[c] > 0 -> buf_pop(c, x); took(x); assert(recvd[x] == 0); recvd[x] = 1
       :: else -> break
       od;
       c++
    :: else -> break
    od;
    x = 1;
    do
    :: x <= NV -> assert(recvd[x] == sent_ok[x]); x++
    :: else -> break
    od
  }
}
