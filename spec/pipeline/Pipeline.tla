------------------------------ MODULE Pipeline ------------------------------
(***************************************************************************)
(* The contract of the collector's data path (DESIGN.md, "Data through the *)
(* pipeline"):                                                             *)
(*                                                                         *)
(*   client -> receiver -> [ch1] -> batcher -> [exporter queue] -> senders *)
(*          -> backend                                                     *)
(*                                                                         *)
(* The TLA+ twin of spec/pipeline/pipeline.pml, which spin checks in CI;   *)
(* docs/verification.md says which code each action stands for. An item is *)
(* one client request; sets of items stand for batches. The receiver       *)
(* answers a client only once its item is in ch1, and refuses it with a    *)
(* retryable error while ch1 is full (the client retries: a stutter here)  *)
(* or once the collector is stopping. The batcher blocks while the queue   *)
(* is full: that backpressure is what fills ch1. A sender retries a batch  *)
(* until it is delivered; each attempt finds the backend up, down,         *)
(* throttling, or slow (the backend gets the data but the answer times     *)
(* out, so the retry duplicates it).                                       *)
(*                                                                         *)
(* Shutdown: (1) stop accepting; (2) the batcher drains ch1, flushes its   *)
(* batch and closes the queue; (3) the senders drain the queue; (4) if the *)
(* deadline runs out first, everything still held is dropped and counted. *)
(* Time is not modelled: the deadline runs out after FDeadline failed      *)
(* attempts made once shutdown has begun.                                  *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    NClients,       \* clients
    PerClient,      \* items each client sends, one request each
    K1,             \* capacity of ch1, in items
    BMax,           \* batch size limit, in items
    QCap,           \* capacity of the exporter queue, in batches
    NSenders,       \* senders draining the queue
    FDeadline       \* failed attempts after shutdown that exhaust the deadline

ASSUME
    /\ {NClients, PerClient, K1, BMax, QCap, NSenders, FDeadline} \subseteq Nat \ {0}

Clients == 1..NClients
Senders == 1..NSenders
Items == 1..(NClients * PerClient)
ItemOf(c, k) == (c - 1) * PerClient + k           \* the k-th item of client c
Outcomes == {"up", "down", "throttling", "slow"}   \* what an export attempt meets

Range(s) == {s[i] : i \in DOMAIN s}

VARIABLES
    sent,           \* sent[c]: items of client c answered (OK or UNAVAILABLE) so far
    ch1,            \* items accepted by the receiver, FIFO
    batch,          \* the batcher's batch
    queue,          \* the exporter queue: batches, FIFO
    flight,         \* flight[s]: the batch sender s is exporting, {} when idle
    stopping,       \* shutdown step 1 done
    queueClosed,    \* shutdown step 2 done
    deadline,       \* the shutdown deadline ran out
    failsAfterStop, \* failed attempts since shutdown began
    backend,        \* what the last export attempt met
    exited,         \* components that have exited: "batcher" and sender ids
    \* ghost state, observation only
    acked,          \* items answered OK
    delivered,      \* items the backend has received
    dup,            \* items the backend has received more than once
    retried,        \* items whose batch was attempted again
    dropped         \* items dropped by the engine

vars == <<sent, ch1, batch, queue, flight, stopping, queueClosed, deadline,
          failsAfterStop, backend, exited, acked, delivered, dup, retried, dropped>>

InQueue == UNION Range(queue)
InFlight == UNION {flight[s] : s \in Senders}
Components == {"batcher"} \cup Senders
Terminated == exited = Components

TypeOK ==
    /\ sent \in [Clients -> 0..PerClient]
    /\ ch1 \in Seq(Items)
    /\ batch \subseteq Items
    /\ queue \in Seq(SUBSET Items)
    /\ flight \in [Senders -> SUBSET Items]
    /\ {stopping, queueClosed, deadline} \subseteq BOOLEAN
    /\ failsAfterStop \in 0..FDeadline
    /\ backend \in Outcomes
    /\ exited \subseteq Components
    /\ {acked, delivered, dup, retried, dropped} \subseteq SUBSET Items

Init ==
    /\ sent = [c \in Clients |-> 0]
    /\ ch1 = << >>
    /\ batch = {}
    /\ queue = << >>
    /\ flight = [s \in Senders |-> {}]
    /\ stopping = FALSE
    /\ queueClosed = FALSE
    /\ deadline = FALSE
    /\ failsAfterStop = 0
    /\ backend = "up"
    /\ exited = {}
    /\ acked = {}
    /\ delivered = {}
    /\ dup = {}
    /\ retried = {}
    /\ dropped = {}

(***************************************************************************)
(* Client and receiver                                                     *)
(***************************************************************************)
(* Accepted into ch1; only now is the client answered OK. *)
Accept(c) ==
    /\ sent[c] < PerClient
    /\ ~stopping
    /\ Len(ch1) < K1
    /\ LET i == ItemOf(c, sent[c] + 1)
       IN  /\ ch1' = Append(ch1, i)
           /\ acked' = acked \cup {i}
    /\ sent' = [sent EXCEPT ![c] = @ + 1]
    /\ UNCHANGED <<batch, queue, flight, stopping, queueClosed, deadline, failsAfterStop,
                   backend, exited, delivered, dup, retried, dropped>>

(* Stopping: refused with UNAVAILABLE, never acknowledged; the client keeps it. *)
Unavailable(c) ==
    /\ sent[c] < PerClient
    /\ stopping
    /\ sent' = [sent EXCEPT ![c] = @ + 1]
    /\ UNCHANGED <<ch1, batch, queue, flight, stopping, queueClosed, deadline,
                   failsAfterStop, backend, exited, acked, delivered, dup, retried, dropped>>

(* While ch1 is full and the collector runs, the receiver refuses with         *)
(* RESOURCE_EXHAUSTED and the client retries later: that changes no variable.  *)

(***************************************************************************)
(* Batcher                                                                 *)
(***************************************************************************)
Take ==
    /\ ~deadline
    /\ ch1 # << >>
    /\ Cardinality(batch) < BMax
    /\ batch' = batch \cup {Head(ch1)}
    /\ ch1' = Tail(ch1)
    /\ UNCHANGED <<sent, queue, flight, stopping, queueClosed, deadline, failsAfterStop,
                   backend, exited, acked, delivered, dup, retried, dropped>>

(* Flush, because the batch is full or the flush timer fired; blocks while the  *)
(* queue is full.                                                             *)
Flush ==
    /\ ~deadline
    /\ batch # {}
    /\ Len(queue) < QCap
    /\ queue' = Append(queue, batch)
    /\ batch' = {}
    /\ UNCHANGED <<sent, ch1, flight, stopping, queueClosed, deadline, failsAfterStop,
                   backend, exited, acked, delivered, dup, retried, dropped>>

(* Shutdown step 2 done: ch1 drained, batch flushed; the queue is closed. *)
BatcherExit ==
    /\ "batcher" \notin exited
    /\ stopping
    /\ ch1 = << >>
    /\ batch = {}
    /\ queueClosed' = TRUE
    /\ exited' = exited \cup {"batcher"}
    /\ UNCHANGED <<sent, ch1, batch, queue, flight, stopping, deadline, failsAfterStop,
                   backend, acked, delivered, dup, retried, dropped>>

(* Shutdown step 4: the deadline ran out; drop what is held, and leave. *)
BatcherGiveUp ==
    /\ "batcher" \notin exited
    /\ deadline
    /\ dropped' = dropped \cup Range(ch1) \cup batch
    /\ ch1' = << >>
    /\ batch' = {}
    /\ queueClosed' = TRUE
    /\ exited' = exited \cup {"batcher"}
    /\ UNCHANGED <<sent, queue, flight, stopping, deadline, failsAfterStop, backend,
                   acked, delivered, dup, retried>>

Batcher == Take \/ Flush \/ BatcherExit \/ BatcherGiveUp

(***************************************************************************)
(* Senders                                                                 *)
(***************************************************************************)
Pick(s) ==
    /\ s \notin exited
    /\ flight[s] = {}
    /\ queue # << >>
    /\ flight' = [flight EXCEPT ![s] = Head(queue)]
    /\ queue' = Tail(queue)
    /\ UNCHANGED <<sent, ch1, batch, stopping, queueClosed, deadline, failsAfterStop,
                   backend, exited, acked, delivered, dup, retried, dropped>>

(* One export attempt, with its timeout, meeting the backend in state r. *)
Attempt(s, r) ==
    LET b == flight[s]
        failed == r # "up"
        reached == r \in {"up", "slow"}             \* the backend received the batch
        spend == failed /\ stopping /\ failsAfterStop < FDeadline
    IN  /\ b # {}
        /\ ~deadline
        /\ backend' = r
        /\ delivered' = IF reached THEN delivered \cup b ELSE delivered
        /\ dup' = IF reached THEN dup \cup (delivered \cap b) ELSE dup
        /\ flight' = IF failed THEN flight ELSE [flight EXCEPT ![s] = {}]
        /\ retried' = IF failed THEN retried \cup b ELSE retried
        /\ failsAfterStop' = IF spend THEN failsAfterStop + 1 ELSE failsAfterStop
        /\ deadline' = (deadline \/ (spend /\ failsAfterStop + 1 = FDeadline))
        /\ UNCHANGED <<sent, ch1, batch, queue, stopping, queueClosed, exited, acked,
                       dropped>>

(* Shutdown step 4: the deadline ran out; the batch in flight and the queued  *)
(* ones are dropped and counted.                                              *)
SenderGiveUp(s) ==
    /\ s \notin exited
    /\ deadline
    /\ \/ /\ flight[s] # {}
          /\ dropped' = dropped \cup flight[s]
          /\ flight' = [flight EXCEPT ![s] = {}]
          /\ UNCHANGED queue
       \/ /\ flight[s] = {}
          /\ queue # << >>
          /\ dropped' = dropped \cup Head(queue)
          /\ queue' = Tail(queue)
          /\ UNCHANGED flight
    /\ UNCHANGED <<sent, ch1, batch, stopping, queueClosed, deadline, failsAfterStop,
                   backend, exited, acked, delivered, dup, retried>>

(* Shutdown step 3 done: the queue is closed and drained. *)
SenderExit(s) ==
    /\ s \notin exited
    /\ flight[s] = {}
    /\ queue = << >>
    /\ queueClosed
    /\ exited' = exited \cup {s}
    /\ UNCHANGED <<sent, ch1, batch, queue, flight, stopping, queueClosed, deadline,
                   failsAfterStop, backend, acked, delivered, dup, retried, dropped>>

Sender(s) == Pick(s) \/ (\E r \in Outcomes : Attempt(s, r)) \/ SenderGiveUp(s) \/ SenderExit(s)

(* Shutdown step 1, at any moment. *)
Stop ==
    /\ ~stopping
    /\ stopping' = TRUE
    /\ UNCHANGED <<sent, ch1, batch, queue, flight, queueClosed, deadline, failsAfterStop,
                   backend, exited, acked, delivered, dup, retried, dropped>>

Client(c) == Accept(c) \/ Unavailable(c)

Next ==
    \/ \E c \in Clients : Client(c)
    \/ Batcher
    \/ \E s \in Senders : Sender(s)
    \/ Stop
    \/ (Terminated /\ UNCHANGED vars)

Spec ==
    /\ Init
    /\ [][Next]_vars
    /\ \A c \in Clients : WF_vars(Client(c))
    /\ WF_vars(Batcher)
    /\ \A s \in Senders : WF_vars(Sender(s))
    /\ WF_vars(Stop)

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)
(* Every acknowledged item is delivered, or in ch1, the batch, the queue or in *)
(* flight, or was dropped; and drops happen only once the deadline ran out.    *)
NoLoss ==
    /\ acked \subseteq (delivered \cup Range(ch1) \cup batch \cup InQueue \cup InFlight \cup dropped)
    /\ dropped # {} => deadline

Bounded == Len(ch1) <= K1 /\ Cardinality(batch) <= BMax /\ Len(queue) <= QCap

NoDupWithoutRetry == dup \subseteq retried

(* If the backend is up from some point on, every acknowledged item is        *)
(* delivered, unless the shutdown deadline ran out first.                     *)
Deliver == (<>[](backend = "up")) => <>[](acked \subseteq delivered \/ deadline)

(* If the backend is always up, nothing acknowledged is lost, shutdown included. *)
DeliverHealthy == ([](backend = "up")) => <>[](acked \subseteq delivered)

(* The engine always terminates, even when the backend never recovers. *)
Terminates == <>Terminated

=============================================================================
