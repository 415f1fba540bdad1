"""Judgements of what several clients saw when they called a target at the same moment.

The description's promises are the ones concurrency breaks: every OpenMediaID unique, every
state one event, queue positions counted from 1, a call that happens or not, a TimeStamp that
loses no event when fed back. Each function here judges one of them over answers already
fetched, and cites the requirement it is given: the Concurrency section's tests give their
CONC-* requirements, the soak (``conformance.soak``) the general ones it checks continuously.

The judgements both use are one implementation: a pure ``find_*`` returns a ``Breach`` (what a
failure would say) or ``None``, for the soak to count; the ``expect_*`` beside it raises that
breach as a ``ConformanceFailure``, for a test. They are: an OpenMediaID usable and never handed
out before (``find_id_not_new``), every request listed by GetAllOpenMediaRequestStatus with no
event twice (``find_not_listed``), a by-time event not given again (``find_repeat``) and none
owed left out (``find_not_given``), the HTTP answer (``find_http_answer``,
``find_undecodable``) and a declared fault (``find_undeclared_fault``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from conformance.checks.expect import matches_fault
from conformance.checks.status import Stamp, later
from conformance.checks.wire_rules import allowed_faults
from conformance.contract.catalogue import req
from conformance.contract.operations import OPERATION_NAMES, operation
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import DecodeError, decode_reply
from conformance.wire.exchange import Exchange
from conformance.wire.values import OpenMediaRequest, SoapFault

HTTP_OK = 200
HTTP_FAULT = 500
"""The only statuses of a SOAP 1.1 answer: the response, or a Fault (WS-I BP R1124, R1126)."""

QUEUED = "Queued"
CANCELLED = "Cancelled"


@dataclass(frozen=True)
class Breach:
    """One promise broken, as a failure would state it (requirement, Expected, Actual, title),
    without raising: the soak counts breaches, a test raises one (``failure``)."""

    requirement: str
    expected: str
    actual: str
    title: str

    def failure(self, exchange: Exchange | None = None) -> ConformanceFailure:
        return ConformanceFailure(
            self.requirement, self.expected, self.actual, title=self.title, exchange=exchange
        )


def _raise(breach: Breach | None, exchange: Exchange | None = None) -> None:
    if breach is not None:
        raise breach.failure(exchange)


@dataclass(frozen=True)
class Event:
    """One record of a request as a status answer lists it: an event (Status, ServiceGroupID,
    TimeStamp as written; the group ``None`` when the caller does not keep it)."""

    status: str | None
    group: int | None
    stamp: str | None

    @classmethod
    def of(cls, record: OpenMediaRequest, stamp: Stamp | None = None) -> Event:
        """The record's event; its TimeStamp as written when ``stamp`` is given."""
        if stamp is not None:
            return cls(record.status, record.service_group_id, stamp.text)
        moment = record.timestamp.isoformat() if record.timestamp is not None else None
        return cls(record.status, record.service_group_id, moment)


def _shown(values: Iterable[object], limit: int = 12) -> str:
    items = [str(v) for v in values]
    more = f" … ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# -- identity --------------------------------------------------------------------------------
def usable_id(oid: int | None) -> bool:
    """An OpenMediaID a client can use: present and positive."""
    return oid is not None and oid > 0


def find_id_not_new(
    oid: int | None, known_before: bool, requirement: str, unusable: str | None = None
) -> Breach | None:
    """An AddRequest that answered Success: its OpenMediaID is usable and not one the service
    handed out (or listed) before (``known_before``). ``unusable`` is the requirement a missing
    or non-positive ID breaks (default ``requirement``)."""
    if not usable_id(oid):
        return Breach(
            req(unusable or requirement),
            "an AddRequest Success with a usable OpenMediaID",
            f"AddRequest Success with OpenMediaID {oid!r}",
            title="an AddRequest Success carries no usable OpenMediaID",
        )
    if known_before:
        return Breach(
            req(requirement),
            "an OpenMediaID never handed out before",
            f"AddRequest Success returned OpenMediaID {oid}, which the service had returned "
            "or listed before",
            title="an OpenMediaID was handed out twice",
        )
    return None


def find_ids_not_unique(ids: Sequence[int | None], requirement: str) -> Breach | None:
    """Every OpenMediaID given (one per successful AddRequest) is usable and none is one an
    earlier answer of the batch carried (``find_id_not_new`` of each, in order)."""
    missing = 0
    repeated: set[int] = set()
    for number, oid in enumerate(ids):
        breach = find_id_not_new(oid, oid in ids[:number], requirement)
        if breach is None:
            continue
        if usable_id(oid):
            repeated.add(oid or 0)
        else:
            missing += 1
    if not missing and not repeated:
        return None
    actual = []
    if repeated:
        actual.append(f"OpenMediaID(s) handed out more than once: {_shown(sorted(repeated))}")
    if missing:
        actual.append(f"{missing} answer(s) without an OpenMediaID")
    return Breach(
        req(requirement),
        f"{len(ids)} distinct OpenMediaIDs, one per AddRequest",
        "; ".join(actual) + f" (IDs answered: {_shown(ids, 16)})",
        title="requests added together do not have distinct OpenMediaIDs",
    )


def expect_ids_unique(
    ids: Sequence[int | None], requirement: str, exchange: Exchange | None = None
) -> None:
    """``find_ids_not_unique``, raised."""
    _raise(find_ids_not_unique(ids, requirement), exchange)


# -- GetAllOpenMediaRequestStatus ------------------------------------------------------------------
def find_not_listed(
    wanted: Iterable[int],
    listed: Mapping[int, Sequence[Event]],
    requirement: str,
    diverted: Collection[int] = (),
) -> Breach | None:
    """Each of ``wanted`` is listed (``listed``: the events a GetAllOpenMediaRequestStatus
    answer lists per ID, for the IDs the caller judges), and no request is listed twice.

    The description says the call "Retrieves all status update events for all items in the
    cache" and also counts it among the calls "looking at the current status": a target may
    list one record per request (its current status) or every event of it, and both pass
    (ALL-EVERY-REQUEST judges the latest record). So several records of one ID are no
    duplicate; under either reading these are: the same event (Status, group, TimeStamp) twice,
    or a request never moved from Queued in one group (one event, R13) in more than one record.
    A request in ``diverted`` (a DivertRequest was sent for it) is judged for presence only: a
    divert re-queues it, in the same group when there is no other, and a coarse clock may stamp
    both of its Queued events alike."""
    wanted = list(dict.fromkeys(wanted))
    missing = [oid for oid in wanted if oid not in listed]
    twice = {
        oid: len(events)
        for oid, events in listed.items()
        if oid not in diverted and _listed_twice(events)
    }
    if not missing and not twice:
        return None
    actual = []
    if missing:
        actual.append(f"not listed: {_shown(missing)}")
    if twice:
        actual.append(f"listed twice, an event or a queued request more than once: {twice}")
    return Breach(
        req(requirement),
        f"each of the {len(wanted)} requests listed, no event twice, a queued one exactly once",
        "; ".join(actual),
        title="requests are not each listed once by GetAllOpenMediaRequestStatus",
    )


def _listed_twice(events: Sequence[Event]) -> bool:
    if len(set(events)) < len(events):
        return True
    places = {(event.status, event.group) for event in events}
    return len(events) > 1 and len(places) == 1 and next(iter(places))[0] == QUEUED


def expect_listed_once(
    ids: Iterable[int],
    records: Sequence[OpenMediaRequest],
    requirement: str,
    exchange: Exchange | None = None,
) -> None:
    """``find_not_listed`` of ``ids`` among ``records`` (a GetAllOpenMediaRequestStatus
    answer), raised."""
    ids = list(ids)
    listed: dict[int, list[Event]] = {}
    for record in records:
        if record.id is not None and record.id in ids:
            listed.setdefault(record.id, []).append(Event.of(record))
    _raise(find_not_listed(ids, listed, requirement), exchange)


def _events(records: Sequence[OpenMediaRequest]) -> list[tuple[str | None, object]]:
    """A request's records as events: (Status, TimeStamp)."""
    return [(r.status, r.timestamp) for r in records]


# -- queue positions -------------------------------------------------------------------------
def expect_positions_one_to_n(
    positions: Sequence[int | None],
    requirement: str,
    what: str,
    exchange: Exchange | None = None,
) -> None:
    """The positions, in any order, are exactly 1..N (N = how many): no gap, no repeat."""
    requirement = req(requirement)
    wanted = list(range(1, len(positions) + 1))
    got = sorted(positions, key=lambda p: (p is None, p or 0))
    if got != wanted:
        repeated = sorted(p for p, n in Counter(positions).items() if n > 1 and p is not None)
        gaps = sorted(set(wanted) - {p for p in positions if p is not None})
        detail = []
        if repeated:
            detail.append(f"repeated {_shown(repeated)}")
        if gaps:
            detail.append(f"missing {_shown(gaps)}")
        raise ConformanceFailure(
            requirement,
            f"{what}: 1 to {len(positions)}, each once",
            f"{what}: {_shown(got, 16)} ({'; '.join(detail) or 'not 1..N'})",
            title="queue positions of requests added together do not count 1..N",
            exchange=exchange,
        )


# -- events seen by a polling client -------------------------------------------------------------
def stamped_after(stamp: Stamp | None, fed_back: Stamp) -> bool:
    """An event of a by-time answer is stamped after the RetrieveLaterThan fed back (R12: it is
    exclusive), judged on the TimeStamps as written (``checks.status.later``); an event whose
    TimeStamp could not be read is given the benefit of the doubt."""
    return stamp is None or later(stamp, fed_back)


def find_repeat(
    event: str, already_given: bool, after_feedback: bool, requirement: str, where: str = ""
) -> Breach | None:
    """An event of a by-time answer polled with the previous answer's TimeStamp: one already
    given in an earlier answer, or one not stamped after the RetrieveLaterThan sent
    (``stamped_after``), is a repeat (R12)."""
    if not already_given and after_feedback:
        return None
    why = "already given" if already_given else "stamped no later than the RetrieveLaterThan"
    return Breach(
        req(requirement),
        "each event given once across the polls (R12)",
        f"{event} given again{where} ({why})",
        title="a polling client was given an event twice",
    )


def find_not_given(
    owed: Sequence[tuple[int, str]], requirement: str, context: str = ""
) -> Breach | None:
    """Events a polling client was owed and not given: ``owed`` holds (ID, what is missing),
    each for a request whose event happened before a poll that was answered (R12: feeding the
    TimeStamp back never skips an event)."""
    if not owed:
        return None
    shown = "; ".join(f"request {oid}: {what}" for oid, what in owed[:6])
    return Breach(
        req(requirement),
        "every event of each request given once, in order, by the polls",
        f"{context}{shown}{' …' if len(owed) > 6 else ''}",
        title="a polling client missed events that happened while it polled",
    )


def expect_poll_stream(
    polls: Sequence[Sequence[OpenMediaRequest]],
    history: Mapping[int, Sequence[OpenMediaRequest]],
    requirement: str,
    exchange: Exchange | None = None,
) -> None:
    """Across ``polls`` (the records of successive by-time answers, each asked with the previous
    answer's TimeStamp) every event of each request of ``history`` (its events, in order, as the
    target records them) was given exactly once, in order: none repeated (``find_repeat``),
    none skipped or out of order (``find_not_given``)."""
    given: dict[int, list[OpenMediaRequest]] = {oid: [] for oid in history}
    seen: set[tuple[int, Event]] = set()
    for number, records in enumerate(polls, start=1):
        for record in records:
            if record.id not in given:
                continue
            key = (record.id, Event.of(record))
            shown = f"request {record.id}: {record.status} at {record.timestamp}"
            breach = find_repeat(shown, key in seen, True, requirement, f" in poll {number}")
            _raise(breach, exchange)
            seen.add(key)
            given[record.id].append(record)
    differing = [
        (oid, f"history {[r.status for r in events]}, given {[r.status for r in given[oid]]}")
        for oid, events in history.items()
        if _events(given[oid]) != _events(events)
    ]
    context = f"{len(differing)} of {len(history)} requests differ after {len(polls)} polls: "
    _raise(find_not_given(differing, requirement, context), exchange)


# -- cancel and divert at the same moment --------------------------------------------------------
@dataclass(frozen=True)
class RaceOutcome:
    """What CancelRequest and DivertRequest sent together on one queued request came to."""

    oid: int
    origin: int
    """The group the request was queued at."""
    destination: int
    """The group DivertRequest named."""
    cancelled: bool | str | None
    """CancelRequest's result (``True`` on a queued request), or its fault described."""
    diverted: str | None
    """DivertRequest's RequestStatus, or ``None`` when it raised a fault."""
    history: tuple[OpenMediaRequest, ...]
    """The request's events, from before it was added."""
    current: OpenMediaRequest | None
    """Its current status record."""
    queued_in: tuple[int, ...]
    """The groups whose queue (by GetAllOpenMediaRequestStatus) holds it as Queued now."""


def expect_one_outcome(
    outcome: RaceOutcome, requirement: str, exchange: Exchange | None = None
) -> None:
    """The outcome is that of the two calls done one after the other (R9): CancelRequest true,
    the request Cancelled with that as its last event and in no queue; a divert that answered
    Success is a move to the destination before the Cancelled event, a refused one left no
    event. Anything else is a call half applied, or a cancel undone."""
    requirement = req(requirement)
    statuses = [(r.status, r.service_group_id) for r in outcome.history]
    problems = []
    if outcome.cancelled is not True:
        problems.append(f"CancelRequest answered {outcome.cancelled} (on a queued request: true)")
    if outcome.current is None or outcome.current.status != CANCELLED:
        shown = outcome.current.status if outcome.current is not None else "no record"
        problems.append(f"current status {shown}, not Cancelled")
    if not statuses or statuses[-1][0] != CANCELLED:
        problems.append("the last event is not Cancelled")
    if sum(1 for status, _ in statuses if status == CANCELLED) != 1:
        problems.append("not exactly one Cancelled event")
    if outcome.queued_in:
        problems.append(f"still queued in group(s) {list(outcome.queued_in)}")
    moved = any(status != CANCELLED and group == outcome.destination for status, group in statuses)
    if outcome.diverted == "Success" and not moved:
        problems.append(
            f"DivertRequest answered Success but no event shows it at group {outcome.destination}"
        )
    if outcome.diverted != "Success" and moved:
        refusal = outcome.diverted or "a fault"
        problems.append(
            f"DivertRequest answered {refusal} but the request went to group {outcome.destination}"
        )
    if problems:
        raise ConformanceFailure(
            requirement,
            "one of the two orders: CancelRequest true, the request Cancelled (last event, in no "
            "queue); a successful divert before it in the history, a refused one leaving no event",
            f"request {outcome.oid} (group {outcome.origin} → {outcome.destination}): "
            f"{'; '.join(problems)}; DivertRequest {outcome.diverted or 'fault'}; "
            f"history {statuses}",
            title="CancelRequest and DivertRequest at the same moment left no single outcome",
            exchange=exchange,
        )


# -- IVR data after ModifyRequests at the same moment ----------------------------------------------
def expect_labels_kept(
    wanted: Mapping[str, str],
    carried: Sequence[tuple[str, str]],
    requirement: str,
    oid: int,
) -> None:
    """Every Label of ``wanted`` is carried with its Data (``carried``: the request's IVR items
    as (Label, Data), as an agent is handed them)."""
    requirement = req(requirement)
    have = dict(carried)
    lost = {label: data for label, data in wanted.items() if have.get(label) != data}
    if lost:
        raise ConformanceFailure(
            requirement,
            f"request {oid} carries every label: {dict(wanted)}",
            f"it carries {list(carried)}; lost {sorted(lost)}",
            title="labels of ModifyRequests sent together were lost",
        )


# -- the answers themselves ----------------------------------------------------------------------
def find_http_answer(
    operation_name: str, status: int, reason: str, is_fault: bool, requirement: str
) -> Breach | None:
    """An answer that decoded as its operation's: HTTP 200 with the response, HTTP 500 with a
    SOAP Fault (WS-I BP R1124, R1126)."""
    if status not in (HTTP_OK, HTTP_FAULT):
        problem = f"HTTP {status} {reason}".strip()
    elif is_fault != (status == HTTP_FAULT):
        wanted = HTTP_FAULT if is_fault else HTTP_OK
        problem = f"HTTP {status} carrying {'a Fault' if is_fault else 'a response'} "
        problem += f"(expected {wanted})"
    else:
        return None
    return _http_breach(operation_name, problem, requirement)


def find_undecodable(
    operation_name: str, status: int, reason: str, what: str, requirement: str
) -> Breach:
    """An answer that is neither the operation's response nor a SOAP Fault."""
    if status not in (HTTP_OK, HTTP_FAULT):
        problem = f"HTTP {status} {reason}".strip() + f", no answer of the operation: {what}"
    else:
        problem = f"HTTP {status} that is no answer of the operation: {what}"
    return _http_breach(operation_name, problem, requirement)


def _http_breach(operation_name: str, problem: str, requirement: str) -> Breach:
    return Breach(
        req(requirement),
        f"{operation_name}: HTTP 200 with its response or HTTP 500 with a SOAP Fault",
        problem,
        title="an answer under concurrent calls was an HTTP error",
    )


def expect_http_answers(exchanges: Iterable[Exchange], requirement: str) -> None:
    """Each exchange of an operation is HTTP 200 with its SOAP response or HTTP 500 with a SOAP
    Fault (WS-I BP R1124, R1126): never another status, never a body that is neither."""
    for exchange in exchanges:
        if exchange.operation not in OPERATION_NAMES:
            continue
        op, status, reason = exchange.operation, exchange.status, exchange.reason
        breach: Breach | None
        if status not in (HTTP_OK, HTTP_FAULT):
            breach = find_http_answer(op, status, reason, False, requirement)
        else:
            try:
                reply = decode_reply(exchange, op)
            except DecodeError as exc:
                breach = find_undecodable(op, status, reason, exc.what, requirement)
            else:
                breach = find_http_answer(op, status, reason, reply.fault is not None, requirement)
        _raise(breach, exchange)


def find_undeclared_fault(operation_name: str, fault: SoapFault, requirement: str) -> Breach | None:
    """A fault its operation does not declare (R4's undeclared fault and R3's
    InvalidDataException of ModifyRequest aside, as ``allowed_faults`` says)."""
    allowed = allowed_faults(operation(operation_name))
    if any(matches_fault(fault, name) for name in allowed):
        return None
    return Breach(
        req(requirement),
        f"{operation_name}: no fault, or one it declares ({', '.join(allowed)})",
        fault.describe(),
        title="a fault no operation declares under concurrent calls",
    )


def expect_declared_faults(exchanges: Iterable[Exchange], requirement: str) -> None:
    """Each fault answered is one its operation declares (``find_undeclared_fault``); an answer
    that is no fault, or cannot be read, is another check's business."""
    for exchange in exchanges:
        if exchange.operation not in OPERATION_NAMES:
            continue
        try:
            fault = decode_reply(exchange, exchange.operation).fault
        except DecodeError:
            continue
        if fault is not None:
            _raise(find_undeclared_fault(exchange.operation, fault, requirement), exchange)
