------------------------------ MODULE Durable ------------------------------
(***************************************************************************)
(* The durable sending queue and the failover connector: the TLA+ twin of *)
(* spec/durable/durable.pml, which spin checks in CI; docs/verification.md *)
(* says what each action stands for and why each rule is there.           *)
(*                                                                         *)
(*   client -> receiver -> [append-only log, group commit] -> senders      *)
(*          -> failover -> primary (level 0) | backup (level 1)           *)
(*                                                                         *)
(* A receiver appends each client batch to a log as one record (written,  *)
(* not yet on disk); a group commit (fdatasync) makes the records written  *)
(* before it started durable, and only then are their clients answered.    *)
(* Senders take durable records in sequence order, export them through the *)
(* failover connector and acknowledge them in memory, in any order; the    *)
(* cursor (first record not acknowledged) advances over a contiguous       *)
(* prefix and is persisted by writing a temp file, syncing it, renaming it *)
(* over the cursor file and syncing the directory. An attempt meets its    *)
(* backend up, down, or slow (received, but answered after the timeout);   *)
(* request and answer are separate steps. A record whose delivery to a     *)
(* level that is not the last definitely failed (refused, not a timeout)   *)
(* moves one level down, and                                               *)
(* marks that level failed; a prober makes the primary active again. After *)
(* K failed attempts a record goes to the dead-letter file. A crash can    *)
(* happen at any step: a prefix of the unsynced records survives, the      *)
(* cursor is the synced one or the renamed one, everything volatile is    *)
(* lost, and recovery reads the log again from the persisted cursor.      *)
(*                                                                         *)
(* Records are numbered from 1 (the Promela model numbers slots from 0); a *)
(* cursor value c means that records 1..c are done.                        *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    NItems,         \* client batches, one record each
    MaxCrash,       \* crashes (kill -9 or power loss)
    K,              \* attempts before a record is dead-lettered
    NSenders        \* records in flight at once

ASSUME
    /\ {NItems, K, NSenders} \subseteq Nat \ {0}
    /\ MaxCrash \in Nat

Items == 1..NItems
Slots == 1..NItems              \* sequence numbers: each item is appended once at most
Levels == {0, 1}                \* 0 primary, 1 backup
Phases == {"idle", "ready", "wait", "dlq"}
Outcomes == {"ack", "err", "timeout"}   \* backend up, down, slow

VARIABLES
    \* durable: survives a crash
    log,            \* the records written (at least to the OS), by sequence number
    dur,            \* records synced: log[1..dur]
    cur,            \* the cursor file as synced
    curNew,         \* the cursor file as renamed (= cur when no rename is pending)
    dead,           \* items in the dead-letter file
    \* volatile: lost in a crash
    nrecv,          \* items sent by clients so far (items 1..nrecv)
    syncTo,         \* the running group commit covers log[1..syncTo]; = dur when none runs
    waiting,        \* items whose clients wait for their answer
    next,           \* records handed to senders: the next one is next + 1
    mack,           \* records acknowledged in memory beyond mcur
    mcur,           \* in-memory cursor: records 1..mcur are done
    active,         \* the failover connector's active level
    phase,          \* phase[r]: where the delivery of record r is
    level,          \* level[r]: the level of its current attempt
    fails,          \* fails[r]: its failed attempts
    outcome,        \* outcome[r]: the answer its pending attempt will get
    crashes,
    \* ghost state, observation only
    acked,          \* items whose clients were answered OK
    dlv,            \* items some backend has received
    recvAt,         \* recvAt[l]: items the backend of level l has received
    dup,            \* items received more than once, over both levels
    slowhit,        \* items with an attempt received but answered too late
    crashhit,       \* items received before a crash that left them to be delivered again
    failed0,        \* items whose delivery to the primary definitely failed
    bad             \* bad[l]: the backend of level l has answered other than up

durable == <<log, dur, cur, curNew, dead>>
volatile == <<nrecv, syncTo, waiting, next, mack, mcur, active, phase, level, fails,
              outcome, crashes>>
ghost == <<acked, dlv, recvAt, dup, slowhit, crashhit, failed0, bad>>
vars == <<durable, volatile, ghost>>

InFlight == {r \in Slots : phase[r] # "idle"}
Received == 1..nrecv
Recoverable == {log[i] : i \in (curNew + 1)..dur}   \* what a crash now would leave to deliver

TypeOK ==
    /\ log \in Seq(Items) /\ Len(log) <= NItems
    /\ {dur, cur, curNew, syncTo, next, mcur} \subseteq 0..NItems
    /\ nrecv \in 0..NItems
    /\ mack \subseteq Slots
    /\ active \in Levels
    /\ phase \in [Slots -> Phases]
    /\ level \in [Slots -> Levels]
    /\ fails \in [Slots -> 0..K]
    /\ outcome \in [Slots -> Outcomes]
    /\ crashes \in 0..MaxCrash
    /\ {dead, waiting, acked, dlv, dup, slowhit, crashhit, failed0} \subseteq SUBSET Items
    /\ recvAt \in [Levels -> SUBSET Items]
    /\ bad \in [Levels -> BOOLEAN]

Init ==
    /\ log = << >>
    /\ dur = 0 /\ cur = 0 /\ curNew = 0 /\ dead = {}
    /\ nrecv = 0 /\ syncTo = 0 /\ waiting = {} /\ next = 0
    /\ mack = {} /\ mcur = 0 /\ active = 0
    /\ phase = [r \in Slots |-> "idle"]
    /\ level = [r \in Slots |-> 0]
    /\ fails = [r \in Slots |-> 0]
    /\ outcome = [r \in Slots |-> "ack"]
    /\ crashes = 0
    /\ acked = {} /\ dlv = {} /\ recvAt = [l \in Levels |-> {}]
    /\ dup = {} /\ slowhit = {} /\ crashhit = {} /\ failed0 = {}
    /\ bad = [l \in Levels |-> FALSE]

(***************************************************************************)
(* Receiver and group commit                                               *)
(***************************************************************************)
(* A client's batch is appended: written to the OS, not synced. *)
Write ==
    /\ nrecv < NItems
    /\ log' = Append(log, nrecv + 1)
    /\ waiting' = waiting \cup {nrecv + 1}
    /\ nrecv' = nrecv + 1
    /\ UNCHANGED <<dur, cur, curNew, dead, syncTo, next, mack, mcur, active, phase, level,
                   fails, outcome, crashes, ghost>>

(* A group commit starts: its fdatasync covers every record written so far. *)
SyncStart ==
    /\ syncTo = dur
    /\ Len(log) > dur
    /\ syncTo' = Len(log)
    /\ UNCHANGED <<durable, nrecv, waiting, next, mack, mcur, active, phase, level, fails,
                   outcome, crashes, ghost>>

(* The fdatasync returned: the records it covers are durable, and only now are *)
(* their clients answered OK.                                                   *)
SyncEnd ==
    /\ syncTo > dur
    /\ LET covered == waiting \cap {log[i] : i \in 1..syncTo}
       IN  /\ acked' = acked \cup covered
           /\ waiting' = waiting \ covered
    /\ dur' = syncTo
    /\ UNCHANGED <<log, cur, curNew, dead, nrecv, syncTo, next, mack, mcur, active, phase,
                   level, fails, outcome, crashes, dlv, recvAt, dup, slowhit, crashhit,
                   failed0, bad>>

Receiver == Write \/ SyncStart \/ SyncEnd

(***************************************************************************)
(* Senders and the failover connector                                      *)
(***************************************************************************)
(* The in-memory cursor after record r is acknowledged: it moves over the   *)
(* contiguous prefix of acknowledged records only.                          *)
RECURSIVE Advance(_, _)
Advance(c, acks) == IF c + 1 \in acks THEN Advance(c + 1, acks) ELSE c

AckRecord(r) ==
    LET acks == mack \cup {r}
        c == Advance(mcur, acks)
    IN  /\ mcur' = c
        /\ mack' = {x \in acks : x > c}

Release(r) ==
    /\ phase' = [phase EXCEPT ![r] = "idle"]
    /\ level' = [level EXCEPT ![r] = 0]
    /\ fails' = [fails EXCEPT ![r] = 0]
    /\ outcome' = [outcome EXCEPT ![r] = "ack"]

(* A sender takes the next record, once it is durable. *)
Pick(r) ==
    /\ phase[r] = "idle"
    /\ next = r - 1
    /\ r <= dur
    /\ Cardinality(InFlight) < NSenders
    /\ next' = r
    /\ phase' = [phase EXCEPT ![r] = "ready"]
    /\ level' = [level EXCEPT ![r] = active]
    /\ UNCHANGED <<durable, nrecv, syncTo, waiting, mack, mcur, active, fails, outcome,
                   crashes, ghost>>

(* An attempt is sent to level level[r]; its backend is up (o = "ack"), down   *)
(* ("err": not received) or slow ("timeout": received, answered too late).     *)
Send(r, o) ==
    LET it == log[r]
        l == level[r]
        got == o # "err"
    IN  /\ phase[r] = "ready"
        /\ outcome' = [outcome EXCEPT ![r] = o]
        /\ phase' = [phase EXCEPT ![r] = "wait"]
        /\ dlv' = IF got THEN dlv \cup {it} ELSE dlv
        /\ recvAt' = IF got THEN [recvAt EXCEPT ![l] = @ \cup {it}] ELSE recvAt
        /\ dup' = IF got /\ it \in dlv THEN dup \cup {it} ELSE dup
        /\ bad' = IF o # "ack" THEN [bad EXCEPT ![l] = TRUE] ELSE bad
        /\ UNCHANGED <<durable, nrecv, syncTo, waiting, next, mack, mcur, active, level,
                       fails, crashes, acked, slowhit, crashhit, failed0>>

(* The answer comes, or the timeout. A refusal ("err") at a level that is not *)
(* the last is a definite failure there: the level is judged failed (by this   *)
(* outcome, never by the synchronous hand-off) and the record moves one level  *)
(* down. A timeout is an unknown outcome (the backend may have the item): the  *)
(* record is retried at its level, as at the last level; after K failures it   *)
(* is dead-lettered.                                                           *)
Answer(r) ==
    LET it == log[r]
        l == level[r]
        n == fails[r] + 1
    IN  /\ phase[r] = "wait"
        /\ IF outcome[r] = "ack"
           THEN /\ AckRecord(r)
                /\ Release(r)
                /\ UNCHANGED <<active, slowhit, failed0>>
           ELSE /\ slowhit' = IF outcome[r] = "timeout" THEN slowhit \cup {it} ELSE slowhit
                /\ fails' = [fails EXCEPT ![r] = n]
                /\ outcome' = [outcome EXCEPT ![r] = "ack"]
                /\ UNCHANGED <<mack, mcur>>
                /\ IF n >= K
                   THEN /\ phase' = [phase EXCEPT ![r] = "dlq"]
                        /\ UNCHANGED <<level, active, failed0>>
                   ELSE IF l = 0 /\ outcome[r] = "err"
                   THEN /\ failed0' = failed0 \cup {it}
                        /\ active' = IF active = 0 THEN 1 ELSE active
                        /\ level' = [level EXCEPT ![r] = 1]
                        /\ phase' = [phase EXCEPT ![r] = "ready"]
                   ELSE /\ phase' = [phase EXCEPT ![r] = "ready"]
                        /\ UNCHANGED <<level, active, failed0>>
        /\ UNCHANGED <<durable, nrecv, syncTo, waiting, next, crashes, acked, dlv, recvAt,
                       dup, crashhit, bad>>

(* K attempts failed: the record is appended to the dead-letter file (synced) *)
(* and counted, and only then acknowledged.                                   *)
DeadLetter(r) ==
    /\ phase[r] = "dlq"
    /\ dead' = dead \cup {log[r]}
    /\ AckRecord(r)
    /\ Release(r)
    /\ UNCHANGED <<log, dur, cur, curNew, nrecv, syncTo, waiting, next, active, crashes,
                   ghost>>

Delivery(r) ==
    \/ Pick(r)
    \/ \E o \in Outcomes : Send(r, o)
    \/ Answer(r)
    \/ DeadLetter(r)

(***************************************************************************)
(* Cursor writer and prober                                                *)
(***************************************************************************)
(* Temp file written and synced, then renamed over the cursor file. *)
WriteCursor ==
    /\ mcur > curNew
    /\ curNew' = mcur
    /\ UNCHANGED <<log, dur, cur, dead, volatile, ghost>>

(* The directory is synced: the rename is durable. *)
SyncDir ==
    /\ curNew # cur
    /\ cur' = curNew
    /\ UNCHANGED <<log, dur, curNew, dead, volatile, ghost>>

CursorWriter == WriteCursor \/ SyncDir

(* Try the primary again; the outcome of the next record there decides. *)
Probe ==
    /\ active # 0
    /\ active' = 0
    /\ UNCHANGED <<durable, nrecv, syncTo, waiting, next, mack, mcur, phase, level, fails,
                   outcome, crashes, ghost>>

(***************************************************************************)
(* Crash and recovery                                                      *)
(***************************************************************************)
(* kill -9 or power loss: the first `keep` records survive (all synced ones and *)
(* a prefix of the others: recovery truncates at the first bad checksum); the  *)
(* cursor file is the renamed one if `renamed` (the rename reached the disk),  *)
(* else the synced one. Everything volatile is lost; recovery reads the log    *)
(* again from the cursor.                                                      *)
Crash(keep, renamed) ==
    LET c == IF renamed THEN curNew ELSE cur
    IN  /\ crashes < MaxCrash
        /\ keep \in dur..Len(log)
        /\ crashes' = crashes + 1
        /\ log' = SubSeq(log, 1, keep)
        /\ cur' = c
        /\ curNew' = c
        /\ syncTo' = dur
        /\ waiting' = {}
        /\ next' = c
        /\ mcur' = c
        /\ mack' = {}
        /\ active' = 0
        /\ phase' = [r \in Slots |-> "idle"]
        /\ level' = [r \in Slots |-> 0]
        /\ fails' = [r \in Slots |-> 0]
        /\ outcome' = [r \in Slots |-> "ack"]
        /\ crashhit' = crashhit \cup (dlv \cap {log[i] : i \in (c + 1)..keep})
        /\ UNCHANGED <<dur, dead, nrecv, acked, dlv, recvAt, dup, slowhit, failed0, bad>>

(* Nothing left to do: every record is synced, delivered or dead-lettered, and *)
(* the cursor is persisted. Only then may the system stutter for ever.        *)
Quiet ==
    /\ nrecv = NItems
    /\ dur = Len(log) /\ syncTo = dur
    /\ next = dur /\ InFlight = {}
    /\ cur = mcur /\ curNew = mcur
    /\ active = 0
    /\ UNCHANGED vars

Next ==
    \/ Receiver
    \/ \E r \in Slots : Delivery(r)
    \/ CursorWriter
    \/ Probe
    \/ \E keep \in 0..NItems, renamed \in BOOLEAN : Crash(keep, renamed)
    \/ Quiet

(* Crashes are never forced to happen; every other component is weakly fair. *)
Spec ==
    /\ Init
    /\ [][Next]_vars
    /\ WF_vars(Receiver)
    /\ \A r \in Slots : WF_vars(Delivery(r))
    /\ WF_vars(CursorWriter)
    /\ WF_vars(Probe)

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)
(* Every acknowledged item is delivered, dead-lettered, or in the synced log   *)
(* at or after the cursor a crash could leave: no crash, at any moment, loses  *)
(* an acknowledged item.                                                        *)
NoLoss == acked \subseteq (dlv \cup dead \cup Recoverable)

(* Only what clients sent reaches a backend or the dead-letter file. *)
NoInvent == (dlv \cup dead) \subseteq Received

(* An item reaches the backends twice only if a crash left it to be delivered *)
(* again, or an attempt of it was received but answered after the timeout.   *)
NoDupWithoutCause == dup \subseteq (slowhit \cup crashhit)

(* An item reaches both levels only if its delivery to the primary definitely *)
(* failed first, or a crash left it to be delivered again.                    *)
CrossLevel == (recvAt[0] \cap recvAt[1]) \subseteq (failed0 \cup crashhit)

(* Every acknowledged item is eventually delivered or dead-lettered. *)
Deliver == <>[](acked \subseteq (dlv \cup dead))

(* If the primary always answers, every acknowledged item is delivered and none *)
(* is dead-lettered, crashes or not.                                            *)
DeliverHealthy == ([](~bad[0])) => <>[](acked \subseteq dlv /\ dead = {})

(* If the backup always answers, every acknowledged item is delivered. *)
FailoverDelivers == ([](~bad[1])) => <>[](acked \subseteq dlv)

(* The primary is eventually active for good. *)
Failback == <>[](active = 0)

=============================================================================
