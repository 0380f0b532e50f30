---------------------------- MODULE MCChanSelect ----------------------------
(***************************************************************************)
(* A small instance of ChanSelect for TLC, close to scenarios 2 and 3 of   *)
(* chansel.pml: a select over a receive, a send, a timer and ctx.done(),   *)
(* plain goroutines on the same channels (so stale select waiters are met),*)
(* and every operation given a partner or a close.                         *)
(***************************************************************************)
EXTENDS ChanSelect

MCChan == {"A", "B", "T", "D"}

MCCap == [c \in MCChan |-> IF c \in {"B", "T"} THEN 1 ELSE 0]

MCProc == {"SEL", "SA", "RA", "RB", "CB", "TM", "CX"}

MCProg ==
    [p \in MCProc |->
        CASE p = "SEL" ->
                << [op |-> "select",
                    cases |-> << [dir |-> "recv", ch |-> "A"],
                                 [dir |-> "send", ch |-> "B", val |-> 9],
                                 [dir |-> "recv", ch |-> "T"],
                                 [dir |-> "recv", ch |-> "D"] >>],
                   [op |-> "select",
                    cases |-> << [dir |-> "recv", ch |-> "A"],
                                 [dir |-> "recv", ch |-> "D"] >>] >>
          [] p = "SA" -> << [op |-> "send", ch |-> "A", val |-> 1],
                            [op |-> "send", ch |-> "A", val |-> 2],
                            [op |-> "close", ch |-> "A"] >>
          [] p = "RA" -> << [op |-> "drain", ch |-> "A"] >>
          [] p = "RB" -> << [op |-> "drain", ch |-> "B"] >>
          [] p = "CB" -> << [op |-> "close", ch |-> "B"] >>
          [] p = "TM" -> << [op |-> "send", ch |-> "T", val |-> 13] >>
          [] p = "CX" -> << [op |-> "close", ch |-> "D"] >>]

=============================================================================
