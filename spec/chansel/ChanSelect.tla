----------------------------- MODULE ChanSelect -----------------------------
(***************************************************************************)
(* Channels and select of the otlpd CSP runtime: csp/chan.h (ChanState,    *)
(* Waiter, send, recv, close) and csp/select.cc (select over N cases whose *)
(* waiters share one `done` flag).                                         *)
(*                                                                         *)
(* This is the TLA+ twin of spec/chansel/chansel.pml, which spin checks in *)
(* CI; docs/verification.md maps both to the code. As in the Promela model,*)
(* each action is one critical section of the code (all the locks it      *)
(* takes are held for the whole action), and waking a goroutine is part of *)
(* the action that completed its waiter.                                   *)
(*                                                                         *)
(* A goroutine runs a program: a sequence of operations                    *)
(*   [op |-> "send",  ch |-> c, val |-> v]   send v on c                   *)
(*   [op |-> "recv",  ch |-> c]              receive once                  *)
(*   [op |-> "drain", ch |-> c]              receive until c is closed     *)
(*   [op |-> "close", ch |-> c]                                            *)
(*   [op |-> "select", cases |-> S]          S a sequence of cases         *)
(*        [dir |-> "send", ch |-> c, val |-> v] or [dir |-> "recv", ch |-> c] *)
(* A timer is a goroutine that sends one tick into a buffered(1) channel;  *)
(* ctx.done() is a channel that is only ever closed.                       *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Chan,       \* channel ids
    Cap,        \* Cap[c]: buffer capacity of c; 0 = unbuffered (rendezvous)
    Proc,       \* goroutine ids
    Prog        \* Prog[p]: the program of goroutine p

NoVal == 0

Range(s) == {s[i] : i \in DOMAIN s}

(* The cases of an operation: a plain send or receive is a select of one case. *)
CasesOf(op) ==
    IF op.op = "select" THEN op.cases
    ELSE IF op.op = "send" THEN << [dir |-> "send", ch |-> op.ch, val |-> op.val] >>
    ELSE << [dir |-> "recv", ch |-> op.ch] >>

AllOps == UNION {{Prog[p][i] : i \in DOMAIN Prog[p]} : p \in Proc}

MaxCases ==
    LET n == {Len(CasesOf(op)) : op \in AllOps}
    IN  IF n = {} THEN 1 ELSE CHOOSE m \in n : \A k \in n : k <= m

(* Every case of every operation, as <<goroutine, position in its program, case>>, *)
(* and the send sites among them.                                                  *)
Sites ==
    UNION {UNION {{<<p, i, k>> : k \in DOMAIN CasesOf(Prog[p][i])} : i \in DOMAIN Prog[p]}
             : p \in Proc}
SendSites ==
    {s \in Sites : Prog[s[1]][s[2]].op \in {"send", "select"}
                   /\ CasesOf(Prog[s[1]][s[2]])[s[3]].dir = "send"}

SiteVal(s) == CasesOf(Prog[s[1]][s[2]])[s[3]].val
Vals == {SiteVal(s) : s \in SendSites}
SiteOf(v) == CHOOSE s \in SendSites : SiteVal(s) = v

ASSUME
    /\ \A c \in Chan : Cap[c] \in Nat
    /\ NoVal \notin Vals
    \* every value is sent from exactly one site
    /\ \A s, t \in SendSites : SiteVal(s) = SiteVal(t) => s = t
    \* a select has at most one case per channel
    /\ \A op \in AllOps : op.op = "select" =>
          \A j, k \in DOMAIN op.cases : op.cases[j].ch = op.cases[k].ch => j = k

Waiter == Proc \X (1..MaxCases)     \* <<goroutine, case>>; a plain operation uses case 1
OwnerOf(w) == w[1]
CaseOf(w) == w[2]

VARIABLES
    buf,        \* buf[c]: the values buffered in c, head first
    closed,     \* closed[c]
    recvq,      \* recvq[c]: waiting receivers, FIFO
    sendq,      \* sendq[c]: waiting senders, FIFO
    slot,       \* slot[w]: the value handed to waiter w, or offered by it
    okw,        \* okw[w]: completed by a partner (TRUE) or released by close (FALSE)
    done,       \* done[p]: p's select record has a winner (the atomic flag)
    win,        \* win[p]: the case that won p's select, 0 while none has
    pc,         \* pc[p]: position of p's current operation in Prog[p]
    st,         \* st[p]: "ready" to run pc[p], "parked", or "woken" (resumable)
    \* ghost state, observation only
    sentOk,     \* values whose send reported success
    got,        \* got[v]: times v was reported to a receiver
    taken,      \* taken[c]: values in the order they left channel c
    badWake     \* TRUE once a goroutine was woken that was not parked

vars == <<buf, closed, recvq, sendq, slot, okw, done, win, pc, st,
          sentOk, got, taken, badWake>>

Running(p) == pc[p] \in DOMAIN Prog[p]
Cur(p) == Prog[p][pc[p]]
InSelect(p) == Running(p) /\ Cur(p).op = "select"

(* A waiter may still be completed unless its select already has a winner;  *)
(* a waiter that may not is stale, and whoever meets it skips it.           *)
Live(w) == ~InSelect(OwnerOf(w)) \/ ~done[OwnerOf(w)]

(* The claiming dequeue: position of the first live waiter in q, 0 if none. *)
FirstLive(q) ==
    IF \E i \in 1..Len(q) : Live(q[i])
    THEN CHOOSE i \in 1..Len(q) : Live(q[i]) /\ \A j \in 1..(i - 1) : ~Live(q[j])
    ELSE 0

After(q, i) == SubSeq(q, i + 1, Len(q))     \* q without its first i waiters

TypeOK ==
    /\ buf \in [Chan -> Seq(Vals)]
    /\ closed \in [Chan -> BOOLEAN]
    /\ recvq \in [Chan -> Seq(Waiter)]
    /\ sendq \in [Chan -> Seq(Waiter)]
    /\ slot \in [Waiter -> Vals \cup {NoVal}]
    /\ okw \in [Waiter -> BOOLEAN]
    /\ done \in [Proc -> BOOLEAN]
    /\ win \in [Proc -> 0..MaxCases]
    /\ pc \in [Proc -> Nat]
    /\ st \in [Proc -> {"ready", "parked", "woken"}]
    /\ sentOk \subseteq Vals
    /\ got \in [Vals -> Nat]
    /\ taken \in [Chan -> Seq(Vals)]
    /\ badWake \in BOOLEAN

Init ==
    /\ buf = [c \in Chan |-> << >>]
    /\ closed = [c \in Chan |-> FALSE]
    /\ recvq = [c \in Chan |-> << >>]
    /\ sendq = [c \in Chan |-> << >>]
    /\ slot = [w \in Waiter |-> NoVal]
    /\ okw = [w \in Waiter |-> FALSE]
    /\ done = [p \in Proc |-> FALSE]
    /\ win = [p \in Proc |-> 0]
    /\ pc = [p \in Proc |-> 1]
    /\ st = [p \in Proc |-> "ready"]
    /\ sentOk = {}
    /\ got = [v \in Vals |-> 0]
    /\ taken = [c \in Chan |-> << >>]
    /\ badWake = FALSE

(***************************************************************************)
(* Completing an operation: the goroutine's view of the result.            *)
(* A drain stays on its operation until it sees the channel closed.        *)
(***************************************************************************)
Return(p, k, ok, v) ==
    LET cs == CasesOf(Cur(p))[k]
    IN  /\ pc' = [pc EXCEPT ![p] = IF Cur(p).op = "drain" /\ ok THEN @ ELSE @ + 1]
        /\ sentOk' = IF cs.dir = "send" /\ ok THEN sentOk \cup {cs.val} ELSE sentOk
        /\ got' = IF cs.dir = "recv" /\ ok THEN [got EXCEPT ![v] = @ + 1] ELSE got

(* A partner takes waiter w (it was live): if w belongs to a select, this   *)
(* wins the select's done flag, compare-and-swap FALSE -> TRUE, under the   *)
(* lock of w's channel.                                                     *)
Claim(w) ==
    IF InSelect(OwnerOf(w))
    THEN /\ done' = [done EXCEPT ![OwnerOf(w)] = TRUE]
         /\ win' = [win EXCEPT ![OwnerOf(w)] = CaseOf(w)]
    ELSE UNCHANGED <<done, win>>

(* Goroutine p wakes the owner of waiter w, whose hand-over is complete. *)
WakeOwner(w) ==
    /\ st' = [st EXCEPT ![OwnerOf(w)] = "woken"]
    /\ badWake' = (badWake \/ st[OwnerOf(w)] # "parked")

(***************************************************************************)
(* Readiness of a case (pass 1 of select; the fast path of send and recv). *)
(***************************************************************************)
SendReady(c) == closed[c] \/ FirstLive(recvq[c]) > 0 \/ Len(buf[c]) < Cap[c]
RecvReady(c) == FirstLive(sendq[c]) > 0 \/ Len(buf[c]) > 0 \/ closed[c]
Ready(cs) == IF cs.dir = "send" THEN SendReady(cs.ch) ELSE RecvReady(cs.ch)

(* p completes send case k, value v on channel c, without waiting. *)
SendNow(p, k, c, v) ==
    \/ /\ closed[c]                                  \* send on closed: fails
       /\ Return(p, k, FALSE, NoVal)
       /\ UNCHANGED <<buf, closed, recvq, sendq, slot, okw, done, win, st, taken, badWake>>
    \/ /\ ~closed[c]
       /\ FirstLive(recvq[c]) > 0                    \* hand v to a waiting receiver
       /\ LET i == FirstLive(recvq[c])
              w == recvq[c][i]
          IN  /\ recvq' = [recvq EXCEPT ![c] = After(@, i)]
              /\ slot' = [slot EXCEPT ![w] = v]
              /\ okw' = [okw EXCEPT ![w] = TRUE]
              /\ Claim(w)
              /\ WakeOwner(w)
       /\ taken' = [taken EXCEPT ![c] = Append(@, v)]
       /\ Return(p, k, TRUE, NoVal)
       /\ UNCHANGED <<buf, closed, sendq>>
    \/ /\ ~closed[c]
       /\ FirstLive(recvq[c]) = 0
       /\ Len(buf[c]) < Cap[c]                       \* room in the buffer
       /\ buf' = [buf EXCEPT ![c] = Append(@, v)]
       /\ recvq' = [recvq EXCEPT ![c] = << >>]       \* only stale waiters: dropped
       /\ Return(p, k, TRUE, NoVal)
       /\ UNCHANGED <<closed, sendq, slot, okw, done, win, st, taken, badWake>>

(* p completes receive case k on channel c without waiting. *)
RecvNow(p, k, c) ==
    \/ /\ FirstLive(sendq[c]) > 0                    \* a sender waits
       /\ LET i == FirstLive(sendq[c])
              w == sendq[c][i]
              v == IF Cap[c] = 0 THEN slot[w] ELSE Head(buf[c])
          IN  /\ sendq' = [sendq EXCEPT ![c] = After(@, i)]
              \* buffered and full: the head goes out, the sender's value goes in
              /\ buf' = IF Cap[c] = 0 THEN buf
                        ELSE [buf EXCEPT ![c] = Append(Tail(@), slot[w])]
              /\ okw' = [okw EXCEPT ![w] = TRUE]
              /\ Claim(w)
              /\ WakeOwner(w)
              /\ taken' = [taken EXCEPT ![c] = Append(@, v)]
              /\ Return(p, k, TRUE, v)
       /\ UNCHANGED <<closed, recvq, slot>>
    \/ /\ FirstLive(sendq[c]) = 0
       /\ Len(buf[c]) > 0                            \* take the buffer's head
       /\ buf' = [buf EXCEPT ![c] = Tail(@)]
       /\ sendq' = [sendq EXCEPT ![c] = << >>]
       /\ taken' = [taken EXCEPT ![c] = Append(@, Head(buf[c]))]
       /\ Return(p, k, TRUE, Head(buf[c]))
       /\ UNCHANGED <<closed, recvq, slot, okw, done, win, st, badWake>>
    \/ /\ FirstLive(sendq[c]) = 0
       /\ Len(buf[c]) = 0
       /\ closed[c]                                  \* closed and drained
       /\ sendq' = [sendq EXCEPT ![c] = << >>]
       /\ Return(p, k, FALSE, NoVal)
       /\ UNCHANGED <<buf, closed, recvq, slot, okw, done, win, st, taken, badWake>>

(***************************************************************************)
(* Starting an operation (send, recv, drain, select). Select: lock every   *)
(* channel; if some case is ready, complete one of them (the shuffled poll *)
(* order makes any ready case a possible winner); otherwise enqueue one    *)
(* waiter per case, all sharing the select record, unlock and park.        *)
(***************************************************************************)
Start(p) ==
    /\ st[p] = "ready"
    /\ Running(p)
    /\ Cur(p).op \in {"send", "recv", "drain", "select"}
    /\ LET cases == CasesOf(Cur(p))
       IN  \/ \E k \in DOMAIN cases :
                 /\ Ready(cases[k])
                 /\ IF cases[k].dir = "send"
                    THEN SendNow(p, k, cases[k].ch, cases[k].val)
                    ELSE RecvNow(p, k, cases[k].ch)
           \/ /\ \A k \in DOMAIN cases : ~Ready(cases[k])
              /\ LET RecvCh == {cases[k].ch : k \in {j \in DOMAIN cases : cases[j].dir = "recv"}}
                     SendCh == {cases[k].ch : k \in {j \in DOMAIN cases : cases[j].dir = "send"}}
                     CaseOn(c) == CHOOSE k \in DOMAIN cases : cases[k].ch = c
                 IN  \* pass 2; the claiming dequeues of pass 1 found only stale waiters
                     /\ recvq' = [c \in Chan |->
                                    IF c \in RecvCh THEN Append(recvq[c], <<p, CaseOn(c)>>)
                                    ELSE IF c \in SendCh THEN << >> ELSE recvq[c]]
                     /\ sendq' = [c \in Chan |->
                                    IF c \in SendCh THEN Append(sendq[c], <<p, CaseOn(c)>>)
                                    ELSE IF c \in RecvCh THEN << >> ELSE sendq[c]]
              /\ slot' = [w \in Waiter |->
                            IF OwnerOf(w) = p /\ CaseOf(w) \in DOMAIN cases
                            THEN IF cases[CaseOf(w)].dir = "send" THEN cases[CaseOf(w)].val
                                 ELSE NoVal
                            ELSE slot[w]]
              /\ okw' = [w \in Waiter |-> IF OwnerOf(w) = p THEN FALSE ELSE okw[w]]
              /\ done' = [done EXCEPT ![p] = FALSE]  \* a fresh select record
              /\ win' = [win EXCEPT ![p] = 0]
              /\ st' = [st EXCEPT ![p] = "parked"]
              /\ UNCHANGED <<buf, closed, pc, sentOk, got, taken, badWake>>

(***************************************************************************)
(* A woken goroutine resumes. A select locks every channel again, removes  *)
(* the waiters of the cases that did not win, and reports the winner; a   *)
(* plain operation reads its own waiter.                                   *)
(***************************************************************************)
Resume(p) ==
    /\ st[p] = "woken"
    /\ LET k == IF InSelect(p) THEN win[p] ELSE 1
           w == <<p, k>>
       IN  /\ k # 0
           /\ Return(p, k, okw[w], slot[w])
    /\ recvq' = [c \in Chan |-> SelectSeq(recvq[c], LAMBDA x : OwnerOf(x) # p)]
    /\ sendq' = [c \in Chan |-> SelectSeq(sendq[c], LAMBDA x : OwnerOf(x) # p)]
    /\ st' = [st EXCEPT ![p] = "ready"]
    /\ UNCHANGED <<buf, closed, slot, okw, done, win, taken, badWake>>

(***************************************************************************)
(* close: set closed, release every waiter of both queues as failed (a     *)
(* select's waiter only by winning its done flag: stale ones are dropped), *)
(* wake them all.                                                          *)
(***************************************************************************)
Close(p) ==
    /\ st[p] = "ready"
    /\ Running(p)
    /\ Cur(p).op = "close"
    /\ LET c == Cur(p).ch
           released == {w \in Range(recvq[c]) \cup Range(sendq[c]) : Live(w)}
           owners == {OwnerOf(w) : w \in released}
       IN  /\ ~closed[c]                              \* closing twice is misuse
           /\ closed' = [closed EXCEPT ![c] = TRUE]
           /\ recvq' = [recvq EXCEPT ![c] = << >>]
           /\ sendq' = [sendq EXCEPT ![c] = << >>]
           /\ okw' = [w \in Waiter |-> IF w \in released THEN FALSE ELSE okw[w]]
           /\ done' = [q \in Proc |-> IF q \in owners /\ InSelect(q) THEN TRUE ELSE done[q]]
           /\ win' = [q \in Proc |->
                        IF q \in owners /\ InSelect(q)
                        THEN CaseOf(CHOOSE w \in released : OwnerOf(w) = q)
                        ELSE win[q]]
           /\ st' = [q \in Proc |-> IF q \in owners THEN "woken" ELSE st[q]]
           /\ badWake' = (badWake \/ \E q \in owners : st[q] # "parked")
    /\ pc' = [pc EXCEPT ![p] = @ + 1]
    /\ UNCHANGED <<buf, slot, sentOk, got, taken>>

Step(p) == Start(p) \/ Resume(p) \/ Close(p)

Terminated == \A p \in Proc : ~Running(p)

Next == (\E p \in Proc : Step(p)) \/ (Terminated /\ UNCHANGED vars)

Spec == Init /\ [][Next]_vars /\ \A p \in Proc : WF_vars(Step(p))

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)
InBuffer(v) == \E c \in Chan : v \in Range(buf[c])

NoDuplicate == \A v \in Vals : got[v] <= 1

NoDoubleWake == ~badWake

OneQueueEmpty == \A c \in Chan : recvq[c] = << >> \/ sendq[c] = << >>

(* Values of one sender leave a channel in the order of its program. *)
FifoPerSender ==
    \A c \in Chan : \A i, j \in DOMAIN taken[c] :
        LET s == SiteOf(taken[c][i])
            t == SiteOf(taken[c][j])
        IN  (i < j /\ s[1] = t[1]) => s[2] < t[2]

(* At the end, every value whose send reported success was received exactly *)
(* once or is still buffered, and no other value was.                       *)
NoLoss ==
    Terminated =>
        \A v \in Vals :
            /\ (v \in sentOk) <=> (got[v] = 1 \/ InBuffer(v))
            /\ ~(got[v] = 1 /\ InBuffer(v))

Safety == TypeOK /\ NoDuplicate /\ NoDoubleWake /\ OneQueueEmpty /\ FifoPerSender /\ NoLoss

(* No deadlock when a partner exists: the instance gives every operation a  *)
(* partner or a close, so every goroutine finishes.                         *)
Terminates == <>Terminated

WaitsOn(p, c) == st[p] = "parked" /\ \E k \in DOMAIN CasesOf(Cur(p)) : CasesOf(Cur(p))[k].ch = c

(* A closed channel wakes every waiter. *)
CloseWakes == \A c \in Chan : closed[c] ~> (\A p \in Proc : ~WaitsOn(p, c))

=============================================================================
