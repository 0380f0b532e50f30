/*
 * pipeline.pml — model 2: the contract of the collector's data path.
 *
 *   client ─► receiver ─► [ch1] ─► batcher ─► [exporter queue] ─► senders ─► backend
 *
 * This is the design the engine must follow (DESIGN.md, "Data through the pipeline"); the
 * engine is written against it. Pipeline.tla is the TLA+ twin of this file, and
 * docs/verification.md says which code each part stands for. A change to the engine's
 * protocol changes this file in the same commit.
 *
 * How the design is abstracted
 *   - An item is one client request (one batch of one signal); items have ids 0..NITEMS-1 and
 *     sets of items are bit masks. A batch is the set of items it carries.
 *   - The receiver's handler runs in the client's request: it accepts the item into ch1 (then,
 *     and only then, the client gets its answer) or refuses it with a retryable error when
 *     ch1 is full (RESOURCE_EXHAUSTED + RetryInfo), or when the collector is stopping
 *     (UNAVAILABLE). A refused client retries later; at shutdown it gives the item up (it was
 *     never acknowledged, so it is the client's to send elsewhere).
 *   - ch1 holds K1 items and the exporter queue QCAP batches. Each is given one spare slot
 *     that a correct design never uses, so that overrunning a bound is visible (bounded).
 *   - The batcher takes items from ch1 into a batch of at most BMAX; it may flush whenever the
 *     batch is non-empty (size reached or flush timer fired: timers are nondeterministic), and
 *     blocks while the queue is full: that is the backpressure that fills ch1 and makes the
 *     receiver refuse.
 *   - A sender takes a batch from the queue and exports it until it succeeds. Each attempt
 *     finds the backend in any of four states, chosen freely: UP; DOWN (connection refused);
 *     THROTTLING (429 / RESOURCE_EXHAUSTED: nothing received, retry after the advised delay);
 *     SLOW (the request arrives but the answer does not come before the timeout: the backend
 *     has the data, the sender sees a failure and retries — the one legitimate source of
 *     duplicates). Backoff and jitter are time, which is not modelled: a retry is simply a
 *     later attempt.
 *   - Time only matters for the shutdown deadline. Its abstraction: the deadline runs out after
 *     FDEADLINE failed export attempts made once shutdown has begun (with a healthy backend
 *     the drain needs no retries, so a deadline sized for the drain never fires).
 *
 * Shutdown protocol (each step is a guard below; docs/verification.md gives the reasons)
 *   1. stopping: the receivers refuse new requests (UNAVAILABLE); ch1 is closed to senders.
 *   2. The batcher drains ch1, flushes its partial batch into the queue, then closes the queue.
 *   3. The senders drain the queue, retrying as usual.
 *   4. If the deadline runs out first, every component drops what it holds, counting it
 *      (otelcol_exporter_send_failed_*); a durable queue would keep it (a later model).
 *   5. The engine has terminated when the batcher and every sender have exited.
 *
 * Properties (ltl; safety ones are checked without acceptance cycles)
 *   noloss          every acknowledged item is delivered, or in ch1, in the batcher, in the
 *                   queue or in flight, or was dropped — and drops happen only after the
 *                   shutdown deadline ran out.
 *   bounded         ch1 ≤ K1 items, batch ≤ BMAX items, queue ≤ QCAP batches.
 *   nodup           an item reaches the backend twice only if its batch was retried.
 *   deliver         if the backend is eventually up for good, every acknowledged item is
 *                   eventually delivered, unless the shutdown deadline ran out (weak fairness).
 *   deliver_healthy if the backend is always up, every acknowledged item is delivered: a
 *                   shutdown loses nothing.
 *   terminates      the engine always terminates (shutdown is always requested, eventually);
 *                   even with a backend that never recovers.
 *
 * Mutants (-D<NAME>; spec/run expects spin to report a violation)
 *   ACK_BEFORE_QUEUED   the receiver answers the client OK, then offers the item to ch1
 *                       and drops it if ch1 is full.                             (noloss)
 *   DROP_ON_FULL        the batcher drops a full batch when the queue is full, instead of
 *                       blocking (the client would then be refused).            (noloss)
 *   RETRY_GIVES_UP      a sender drops a batch after GIVEUP failed attempts while running
 *                       (a max-elapsed-time policy).                             (noloss)
 *   SENDER_PEEKS        a sender exports the queue's head and removes it only on success,
 *                       so two senders export the same batch.                    (nodup)
 *   NO_DEADLINE         shutdown waits for the drain with no deadline.           (terminates)
 *
 * Witnesses (claims spec/run expects to be violated, so that the bounds are known to reach
 * the situations above): no_refusal, no_duplicate, no_drop.
 */

#ifndef NCLIENTS
#define NCLIENTS 2
#endif
#ifndef PER
#define PER 2                     /* items per client */
#endif
#define NITEMS (NCLIENTS * PER)
#ifndef K1
#define K1 1                      /* ch1 capacity, items */
#endif
#ifndef BMAX
#define BMAX 2                    /* batch size limit, items */
#endif
#ifndef QCAP
#define QCAP 1                    /* exporter queue capacity, batches */
#endif
#define NSENDERS 2
#ifndef FDEADLINE
#define FDEADLINE 2               /* failed attempts after shutdown that exhaust the deadline */
#endif
#define GIVEUP 2                  /* RETRY_GIVES_UP only */

#define UP         0
#define DOWN       1
#define THROTTLING 2
#define SLOW       3

#define BIT(i) (1 << (i))

chan ch1 = [K1 + 1] of { byte };  /* item ids; the last slot is the spare (see bounded) */
chan queue = [QCAP + 1] of { byte };  /* batches (item masks) */
bit  stopping;                    /* shutdown step 1 done: receivers refuse, ch1 closed */
bit  queue_closed;                /* shutdown step 2 done */
bit  deadline;                    /* the shutdown deadline ran out */
byte fails_after_stop;            /* failed export attempts since shutdown began */
byte backend = UP;
byte exited;                      /* batcher and senders that have exited */
byte batch_n;                     /* items in the batcher's batch */

/* ---- ghost state (item masks): observation only ---- */
byte acked;                       /* answered OK to the client */
byte in_ch1, in_batch, in_queue;
byte in_flight[NSENDERS];
byte delivered;                   /* the backend has received it at least once */
byte dup;                         /* the backend has received it more than once */
byte retried;                     /* in a batch whose export was attempted again */
byte dropped;                     /* dropped by the engine */
#ifdef TRACK_REFUSAL
bit  refused;                     /* some client was refused because ch1 was full */
#define NOTE_REFUSAL refused = 1
#else
#define NOTE_REFUSAL skip         /* a ghost bit doubles the state space: only for no_refusal */
#endif

#define IN_FLIGHT (in_flight[0] | in_flight[1])
#define TERMINATED (exited == NSENDERS + 1)

ltl noloss { [] (((acked & ~(delivered | in_ch1 | in_batch | in_queue | IN_FLIGHT | dropped)) == 0) && (dropped == 0 || deadline)) }
ltl bounded { [] (len(ch1) <= K1 && batch_n <= BMAX && len(queue) <= QCAP) }
ltl nodup { [] ((dup & ~retried) == 0) }
ltl deliver { (<> [] (backend == UP)) -> <> [] ((acked & ~delivered) == 0 || deadline) }
ltl deliver_healthy { ([] (backend == UP)) -> <> [] ((acked & ~delivered) == 0) }
ltl terminates { <> TERMINATED }

/* Witnesses: claims that must be violated, showing that the bounds reach the situations the
   properties are about (spec/run's `witness` runs): backpressure refuses a client (built with
   -DTRACK_REFUSAL), a retry after a timeout duplicates, and the shutdown deadline drops data. */
#ifdef TRACK_REFUSAL
ltl no_refusal { [] !refused }
#endif
ltl no_duplicate { [] (dup == 0) }
ltl no_drop { [] (dropped == 0) }

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

/* ---- client and receiver ---- */
/* A client sends items first .. first+PER-1, one request each, retrying refused ones. */
proctype Client(byte first) {
  byte k = 0;
  do
  :: k < PER ->
#ifdef ACK_BEFORE_QUEUED
     atomic {
       if
       :: stopping -> k++
       :: !stopping ->
          acked = acked | BIT(first + k);   /* BUG: the client is answered OK first, */
          if                                /* then the item is offered to ch1 */
          :: len(ch1) < K1 -> ch1 ! first + k; in_ch1 = in_ch1 | BIT(first + k)
          :: else -> skip                   /* full: nobody can be told any more — lost */
          fi;
          k++
       fi
     }
#else
     atomic {
       if
       :: stopping -> k++                 /* UNAVAILABLE: never acknowledged, client's to keep */
       :: !stopping && len(ch1) < K1 ->
          ch1 ! first + k;                /* accepted: only now is the client answered */
          in_ch1 = in_ch1 | BIT(first + k);
          acked = acked | BIT(first + k);
          k++
       :: !stopping && len(ch1) >= K1 ->        /* RESOURCE_EXHAUSTED: the client retries */
          NOTE_REFUSAL
       fi
     }
#endif
  :: k == PER -> break
  od
}

/* ---- batcher ---- */
proctype Batcher() {
  byte it, batch;
  do
  :: atomic {                            /* take an item from ch1 */
       batch_n < BMAX && nempty(ch1) && !deadline ->
       ch1 ? it;
       in_ch1 = in_ch1 & ~BIT(it);
       batch = batch | BIT(it); in_batch = in_batch | BIT(it); batch_n++;
       it = 0
     }
  :: atomic {                            /* flush (size reached or timer): blocks while full */
       batch_n > 0 && len(queue) < QCAP && !deadline ->
       queue ! batch;
       in_queue = in_queue | batch; in_batch = in_batch & ~batch;
       batch = 0; batch_n = 0
     }
#ifdef DROP_ON_FULL
  :: atomic {                            /* BUG: a full batch that does not fit is dropped */
       batch_n == BMAX && len(queue) >= QCAP && !deadline ->
       dropped = dropped | batch; in_batch = in_batch & ~batch;
       batch = 0; batch_n = 0
     }
#endif
  :: atomic {                            /* shutdown step 2: drained and flushed */
       stopping && empty(ch1) && batch_n == 0 -> queue_closed = 1; break
     }
  :: atomic {                            /* shutdown step 4: drop what is held, then leave */
       deadline ->
       do
       :: nempty(ch1) -> ch1 ? it; in_ch1 = in_ch1 & ~BIT(it); dropped = dropped | BIT(it)
       :: empty(ch1) -> break
       od;
       dropped = dropped | batch; in_batch = in_batch & ~batch;
       batch = 0; batch_n = 0; it = 0;
       queue_closed = 1;
       break
     }
  od;
  exited++
}

/* ---- senders ---- */
/* One failed attempt on batch b: the batch will be retried; after shutdown the attempt also
   spends deadline. */
inline attempt_failed() {
  retried = retried | b;
#ifndef NO_DEADLINE
  if
  :: stopping && fails_after_stop < FDEADLINE ->
     fails_after_stop++;
     if
     :: fails_after_stop == FDEADLINE -> deadline = 1
     :: else -> skip
     fi
  :: else -> skip
  fi
#else
  skip
#endif
}

inline deliver_batch() {
  dup = dup | (delivered & b);
  delivered = delivered | b
}

proctype Sender(byte me) {
  byte b, fails;
  do
#ifdef SENDER_PEEKS
  :: atomic {                            /* BUG: export the head, remove it only on success */
       nempty(queue) && b == 0 -> queue ? <b>; in_flight[me] = b
     }
#else
  :: atomic {                            /* take a batch */
       nempty(queue) && b == 0 -> queue ? b; in_queue = in_queue & ~b; in_flight[me] = b
     }
#endif
  :: atomic {                            /* one export attempt, with the per-attempt timeout */
       b != 0 && !deadline ->
       if                                /* the backend's state as this attempt finds it */
       :: backend = UP
       :: backend = DOWN
       :: backend = THROTTLING
       :: backend = SLOW
       fi;
       if
       :: backend == UP ->
          deliver_batch();
#ifdef SENDER_PEEKS
          if
          :: queue ?? [eval(b)] -> queue ?? eval(b); in_queue = in_queue & ~b
          :: else -> skip
          fi;
#endif
          in_flight[me] = 0; b = 0; fails = 0
       :: backend == SLOW ->             /* received, but the answer came too late */
          deliver_batch(); attempt_failed()
       :: backend == DOWN || backend == THROTTLING ->
          attempt_failed()
       fi;
#ifdef RETRY_GIVES_UP
       if
       :: b != 0 -> fails++
       :: else -> skip
       fi;
       if
       :: b != 0 && fails >= GIVEUP ->    /* BUG: gives up on a batch while running */
          dropped = dropped | b; in_flight[me] = 0; b = 0; fails = 0
       :: else -> skip
       fi;
#endif
       skip
     }
  :: atomic {                            /* shutdown step 4: the deadline ran out */
       b != 0 && deadline ->
       dropped = dropped | b; in_flight[me] = 0; b = 0; fails = 0
     }
  :: atomic {                            /* shutdown step 4: what is still queued is dropped */
       b == 0 && deadline && nempty(queue) ->
       queue ? b; in_queue = in_queue & ~b; dropped = dropped | b; b = 0
     }
  :: atomic {                            /* shutdown step 3 done: queue drained and closed */
       b == 0 && empty(queue) && queue_closed -> break
     }
  od;
  exited++
}

init {
  byte c;
  atomic {
    c = 0;
    do
    :: c < NCLIENTS -> run Client(c * PER); c++
    :: else -> break
    od;
    run Batcher();
    run Sender(0);
    run Sender(1);
    c = 0
  }
  stopping = 1                           /* shutdown step 1, at any moment */
}
