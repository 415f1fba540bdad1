"""The soak's invariants as small pure judgements: each takes what the client-side model knows
and what one answer said, and returns a ``Finding`` (the requirement broken and why) or nothing.

They do no I/O, hold no state and know no clock: the model (``conformance.soak.model``) decides
*when* a judgement applies (an answer received before a call was sent is what the target knew
then; one received during it is not), these decide *what* is a violation. Kept separate and
small so that they can be unified with the suite's concurrency judgements
(``conformance.checks.concurrency``) without touching the runner.

Each cites the catalogue requirement it rests on (``req``: a typo fails at import), so that the
soak's summary names the same IDs a suite run does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import pairwise

from conformance.contract.catalogue import req
from conformance.contract.operations import UNDECLARED_FAULTS, operation
from conformance.suite_support.lifecycle_values import Status


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

_UNDECLARED_NAMED = frozenset(fault.local for fault in UNDECLARED_FAULTS)
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
    if oid is None or oid <= 0:
        return Finding(
            Invariant.FRESH_ID, ADD_SUCCESS, f"AddRequest Success with OpenMediaID {oid!r}"
        )
    if known_before:
        return Finding(
            Invariant.FRESH_ID,
            ADD_UNIQUE,
            f"AddRequest Success returned OpenMediaID {oid}, which the service had returned "
            "or listed before",
        )
    return None


# -- GetAllOpenMediaRequestStatus ----------------------------------------------------------------
def judge_listed(
    expected: Iterable[int], records: Mapping[int, Sequence[tuple[str | None, str | None]]]
) -> list[Finding]:
    """Every ID in ``expected`` (created before the call was sent, not possibly aged out) is
    listed; no ID is listed twice with the same record (Status and TimeStamp). ``records`` maps
    each listed ID to its records' (Status, TimeStamp text). Several records of one ID are
    accepted: the description's "all status update events for all items in the cache" reads
    either way (``test_all_status``)."""
    found: list[Finding] = []
    missing = sorted(oid for oid in expected if oid not in records)
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        found.append(
            Finding(
                Invariant.LISTED,
                ALL_EVERY,
                f"{len(missing)} request(s) created and still cached not listed: {shown}",
            )
        )
    for oid, listed in sorted(records.items()):
        if len(set(listed)) != len(listed):
            found.append(
                Finding(
                    Invariant.LISTED,
                    ALL_EVERY,
                    f"request {oid} listed twice with the same record: {list(listed)}",
                )
            )
    return found


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
    if already_given or not stamped_after_feedback:
        why = "already given" if already_given else "stamped no later than the RetrieveLaterThan"
        return Finding(Invariant.NO_REPEAT, FEEDBACK, f"event {event} repeated ({why})")
    return None


def judge_skipped(overdue: Iterable[tuple[int, str]]) -> list[Finding]:
    """Events the stream must have given by now and did not: ``overdue`` holds (ID, what was
    expected), each for a request whose event happened before a poll that has been answered
    was sent (R12: feeding the TimeStamp back never skips an event)."""
    return [
        Finding(Invariant.NO_SKIP, FEEDBACK, f"request {oid}: {what} never given by the poll")
        for oid, what in overdue
    ]


# -- every answer --------------------------------------------------------------------------------
def judge_fault(operation_name: str, detail_local: str) -> Finding | None:
    """A fault the operation's WSDL does not declare (R4: OpenMediaRequestTerminatedFault, named
    by the description, is accepted wherever it applies)."""
    declared = {fault.local for fault in operation(operation_name).faults}
    if detail_local in declared or detail_local in _UNDECLARED_NAMED:
        return None
    return Finding(
        Invariant.DECLARED_FAULT,
        FAULT_DECLARED,
        f"{operation_name} raised {detail_local or 'a fault without typed detail'}, which it "
        f"does not declare ({', '.join(sorted(declared))})",
    )


def judge_http(status: int, is_fault: bool) -> Finding | None:
    """HTTP 200 for a response, 500 for a SOAP fault (WS-I BP R1124/R1126)."""
    wanted = 500 if is_fault else 200
    if status == wanted:
        return None
    what = "a SOAP fault" if is_fault else "a response"
    return Finding(Invariant.HTTP, HTTP_STATUS, f"HTTP {status} for {what} (expected {wanted})")


def judge_undecodable(status: int, what: str) -> Finding:
    """An answer that is not the operation's response nor a SOAP fault."""
    requirement = HTTP_STATUS if status not in (200, 500) else ENVELOPE
    return Finding(Invariant.HTTP, requirement, f"HTTP {status}, not the answer: {what}")


def judge_unanswered(reason: str) -> Finding:
    """No usable answer at all (refused, reset, timed out)."""
    return Finding(Invariant.ANSWER, None, f"no answer: {reason}")
