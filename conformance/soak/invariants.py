"""The soak's invariants as small pure judgements: each takes what the client-side model knows
and what one answer said, and returns a ``Finding`` (the requirement broken and why) or nothing.

They do no I/O, hold no state and know no clock: the model (``conformance.soak.model``) decides
*when* a judgement applies (an answer received before a call was sent is what the target knew
then; one received during it is not), these decide *what* is a violation. What the suite's
Concurrency section judges too (a new OpenMediaID, every request listed once, an event neither
repeated nor skipped by the by-time stream, the HTTP answer, a declared fault) is judged by
``conformance.checks.concurrency``'s ``find_*`` functions, one implementation for both: these
only name the invariant and the requirement.

Each cites the catalogue requirement it rests on (``req``: a typo fails at import), so that the
soak's summary names the same IDs a suite run does. The soak cites the general requirement
(ADD-OPENMEDIAID-UNIQUE, ALL-EVERY-REQUEST, EVT-TIMESTAMP-FEEDBACK, WIRE-HTTP-STATUS,
WIRE-FAULT-DECLARED), not the suite's CONC-* form: a CONC-* requirement is a scenario the suite
sets up (AddRequests released together, one poller while the others add and cancel, every
operation once), while the soak sees each promise broken in a random mix, with one client or
sixty-four; the levels are the same (MUST, and SHOULD for a fault not declared).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import pairwise

from conformance.checks.concurrency import (
    Breach,
    Event,
    find_http_answer,
    find_id_not_new,
    find_not_given,
    find_not_listed,
    find_repeat,
    find_undeclared_fault,
    find_undecodable,
)
from conformance.contract.catalogue import req
from conformance.suite_support.lifecycle_values import Status
from conformance.wire.values import SoapFault


class Invariant(str, Enum):
    """What the soak checks continuously (the closed set its summary and JSON count by)."""

    FRESH_ID = "every AddRequest Success carries an OpenMediaID never seen before"
    LISTED = "every request created is listed by GetAllOpenMediaRequestStatus while cached"
    FORWARD = "statuses move only forward through the lifecycle"
    ONE_EVENT = "each state entered is one event"
    NO_REPEAT = "polling by time with the TimeStamp fed back repeats no event"
    NO_SKIP = "polling by time with the TimeStamp fed back skips no event"
    DECLARED_FAULT = "no fault the operation does not declare"
    HTTP = "no HTTP error; every answer decodes as the operation's"
    ANSWER = "every request is answered (no transport error)"


@dataclass(frozen=True)
class Finding:
    """One broken invariant: the requirement it breaks (``None``: no catalogue requirement, the
    target did not answer at all) and what was seen, in a line."""

    invariant: Invariant
    requirement: str | None
    detail: str

    @classmethod
    def of(cls, invariant: Invariant, breach: Breach) -> Finding:
        """The shared judgement's breach, counted as ``invariant``."""
        return cls(invariant, breach.requirement, breach.actual)


ADD_SUCCESS = req("ADD-VALID-BY-GROUP-ID")
ADD_UNIQUE = req("ADD-OPENMEDIAID-UNIQUE")
ALL_EVERY = req("ALL-EVERY-REQUEST")
TERMINAL_FINAL = req("LIFE-TERMINAL-FINAL")
ONLY_DIVERT_REQUEUES = req("LIFE-DIVERT-REQUEUES")
ANSWERED = req("LIFE-ANSWERED")
EVENT_PER_STATE = req("EVT-EVENT-PER-STATE")
FEEDBACK = req("EVT-TIMESTAMP-FEEDBACK")
FAULT_DECLARED = req("WIRE-FAULT-DECLARED")
HTTP_STATUS = req("WIRE-HTTP-STATUS")
ENVELOPE = req("WIRE-ENVELOPE")

_RANK = {
    Status.QUEUED: 1,
    Status.ALLOCATED: 2,
    Status.PROCESSING: 3,
    Status.COMPLETE: 4,
    Status.FAILED: 4,
    Status.CANCELLED: 4,
}


def status_of(name: str | None) -> Status | None:
    """The lifecycle status a record names; ``None`` for Unknown, Clerical or anything else
    (no lifecycle judgement rests on those: LIFE-NO-UNKNOWN is the suite's, a SHOULD)."""
    try:
        return Status(name)
    except ValueError:
        return None


# -- AddRequest ----------------------------------------------------------------------------------
def judge_new_id(oid: int | None, known_before: bool) -> Finding | None:
    """An AddRequest that answered Success: its OpenMediaID must be usable (> 0) and one the
    service never returned before (``known_before``: this soak created it already, or an answer
    received before the AddRequest was sent listed it)."""
    breach = find_id_not_new(oid, known_before, ADD_UNIQUE, ADD_SUCCESS)
    return None if breach is None else Finding.of(Invariant.FRESH_ID, breach)


# -- GetAllOpenMediaRequestStatus ----------------------------------------------------------------
def judge_listed(
    expected: Iterable[int],
    records: Mapping[int, Sequence[tuple[str | None, str | None]]],
    diverted: Collection[int] = (),
) -> list[Finding]:
    """Every ID in ``expected`` (created before the call was sent, not possibly aged out) is
    listed, and none of ``records`` (each listed ID of this soak's with its records' (Status,
    TimeStamp text)) twice: ``find_not_listed``, which accepts several records of one ID (the
    description's "all status update events for all items in the cache") and judges a request
    in ``diverted`` for presence only."""
    listed = {
        oid: [Event(status, None, stamp) for status, stamp in rows] for oid, rows in records.items()
    }
    breach = find_not_listed(expected, listed, ALL_EVERY, diverted)
    return [] if breach is None else [Finding.of(Invariant.LISTED, breach)]


# -- the lifecycle ------------------------------------------------------------------------------
def judge_step(before: Status, after: Status, diverted: bool) -> Finding | None:
    """A request seen in ``before`` and later (by an answer to a call sent after the first was
    received) in ``after``: terminal states are final, and nothing goes back but a divert (which
    re-queues). Skipping states is no finding here: a poller may miss the states in between."""
    if after is before:
        return None
    if before.terminal:
        return Finding(
            Invariant.FORWARD,
            TERMINAL_FINAL,
            f"seen {before.value}, then {after.value}: a terminal status is final",
        )
    if _RANK[after] >= _RANK[before] or diverted:
        return None
    requirement = ONLY_DIVERT_REQUEUES if after is Status.QUEUED else ANSWERED
    return Finding(
        Invariant.FORWARD,
        requirement,
        f"seen {before.value}, then {after.value}, and no DivertRequest was sent for it",
    )


def judge_events(events: Sequence[tuple[Status, int | None]], diverted: bool) -> list[Finding]:
    """One request's events in order (its history, or its events across a by-time stream), as
    (Status, ServiceGroupID): each step moves forward (``judge_step``), and the same state at the
    same group twice in a row is one state recorded twice, unless a divert may explain it."""
    found: list[Finding] = []
    for (before, group_before), (after, group_after) in pairwise(events):
        if after is before and group_after == group_before and not diverted:
            found.append(
                Finding(
                    Invariant.ONE_EVENT,
                    EVENT_PER_STATE,
                    f"two {after.value} events in a row at group {group_after}",
                )
            )
            continue
        step = judge_step(before, after, diverted)
        if step is not None:
            found.append(step)
    return found


# -- the by-time stream (R12) ----------------------------------------------------------------
def judge_repeat(already_given: bool, stamped_after_feedback: bool, event: str) -> Finding | None:
    """An event of a by-time answer polled with the previous answer's TimeStamp: one already
    given, or one not stamped after the RetrieveLaterThan sent, is a repeat (R12)."""
    breach = find_repeat(f"event {event}", already_given, stamped_after_feedback, FEEDBACK)
    return None if breach is None else Finding.of(Invariant.NO_REPEAT, breach)


def judge_skipped(overdue: Iterable[tuple[int, str]]) -> list[Finding]:
    """Events the stream must have given by now and did not: ``overdue`` holds (ID, what was
    expected), each for a request whose event happened before a poll that has been answered
    was sent (R12: feeding the TimeStamp back never skips an event). One finding each."""
    found = []
    for oid, what in overdue:
        breach = find_not_given([(oid, f"{what} never given by the poll")], FEEDBACK)
        if breach is not None:
            found.append(Finding.of(Invariant.NO_SKIP, breach))
    return found


# -- every answer --------------------------------------------------------------------------------
def judge_fault(operation_name: str, fault: SoapFault) -> Finding | None:
    """A fault the operation does not declare (R4's OpenMediaRequestTerminatedFault and R3's
    InvalidDataException of ModifyRequest aside): ``find_undeclared_fault``."""
    breach = find_undeclared_fault(operation_name, fault, FAULT_DECLARED)
    return None if breach is None else Finding.of(Invariant.DECLARED_FAULT, breach)


def judge_http(
    status: int, is_fault: bool, operation_name: str = "", reason: str = ""
) -> Finding | None:
    """HTTP 200 for a response, 500 for a SOAP fault (WS-I BP R1124/R1126)."""
    breach = find_http_answer(operation_name, status, reason, is_fault, HTTP_STATUS)
    return None if breach is None else Finding.of(Invariant.HTTP, breach)


def judge_undecodable(
    status: int, what: str, operation_name: str = "", reason: str = ""
) -> Finding:
    """An answer that is not the operation's response nor a SOAP fault: an HTTP status that is
    neither 200 nor 500 breaks WIRE-HTTP-STATUS, a 200 or 500 body that is no answer of the
    operation WIRE-ENVELOPE."""
    requirement = HTTP_STATUS if status not in (200, 500) else ENVELOPE
    breach = find_undecodable(operation_name, status, reason, what, requirement)
    return Finding.of(Invariant.HTTP, breach)


def judge_unanswered(reason: str) -> Finding:
    """No usable answer at all (refused, reset, timed out)."""
    return Finding(Invariant.ANSWER, None, f"no answer: {reason}")
