"""Judgements of what several clients saw when they called a target at the same moment.

The description's promises are the ones concurrency breaks: every OpenMediaID unique, every
state one event, queue positions counted from 1, a call that happens or not, a TimeStamp that
loses no event when fed back. Each function here judges one of them over answers already
fetched (the Concurrency section's tests, and any client that drives a target with many clients
at once, fetch them); each is pure and raises ``ConformanceFailure`` citing the requirement it is
given, so the same judgement can serve a test and a long-running load.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from conformance.checks.expect import matches_fault
from conformance.checks.wire_rules import allowed_faults
from conformance.contract.catalogue import req
from conformance.contract.operations import OPERATION_NAMES, operation
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import DecodeError, decode_reply
from conformance.wire.exchange import Exchange
from conformance.wire.values import OpenMediaRequest

HTTP_OK = 200
HTTP_FAULT = 500
"""The only statuses of a SOAP 1.1 answer: the response, or a Fault (WS-I BP R1124, R1126)."""

QUEUED = "Queued"
CANCELLED = "Cancelled"


def _shown(values: Iterable[object], limit: int = 12) -> str:
    items = [str(v) for v in values]
    more = f" … ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# -- identity --------------------------------------------------------------------------------
def expect_ids_unique(
    ids: Sequence[int | None], requirement: str, exchange: Exchange | None = None
) -> None:
    """Every OpenMediaID given (one per successful AddRequest) is present and no two are equal."""
    requirement = req(requirement)
    missing = sum(1 for oid in ids if not oid)
    repeated = sorted(oid for oid, n in Counter(oid for oid in ids if oid).items() if n > 1)
    if missing or repeated:
        actual = []
        if repeated:
            actual.append(f"OpenMediaID(s) handed out more than once: {_shown(repeated)}")
        if missing:
            actual.append(f"{missing} answer(s) without an OpenMediaID")
        raise ConformanceFailure(
            requirement,
            f"{len(ids)} distinct OpenMediaIDs, one per AddRequest",
            "; ".join(actual) + f" (IDs answered: {_shown(ids, 16)})",
            title="requests added together do not have distinct OpenMediaIDs",
            exchange=exchange,
        )


def expect_listed_once(
    ids: Iterable[int],
    records: Sequence[OpenMediaRequest],
    requirement: str,
    exchange: Exchange | None = None,
) -> None:
    """Each of ``ids`` is listed among ``records`` (a GetAllOpenMediaRequestStatus answer), and
    none twice: no record repeated (same Status and TimeStamp), and a request only ever queued
    in one group (a single event, R13) in one record. Several records of one ID are otherwise
    the description's "all status update events" of a request that moved on."""
    requirement = req(requirement)
    by_id: dict[int, list[OpenMediaRequest]] = {}
    for record in records:
        if record.id is not None:
            by_id.setdefault(record.id, []).append(record)
    wanted = list(dict.fromkeys(ids))
    missing = [oid for oid in wanted if oid not in by_id]
    twice = [oid for oid in wanted if oid in by_id and _listed_twice(by_id[oid])]
    if missing or twice:
        actual = []
        if missing:
            actual.append(f"not listed: {_shown(missing)}")
        if twice:
            shown = {oid: len(by_id[oid]) for oid in twice}
            actual.append(f"queued request(s) listed more than once (ID: times): {shown}")
        raise ConformanceFailure(
            requirement,
            f"each of the {len(wanted)} requests listed, a queued one exactly once",
            "; ".join(actual),
            title="requests added together are not each listed once",
            exchange=exchange,
        )


def _events(records: Sequence[OpenMediaRequest]) -> list[tuple[str | None, object]]:
    """A request's records as events: (Status, TimeStamp)."""
    return [(r.status, r.timestamp) for r in records]


def _listed_twice(records: Sequence[OpenMediaRequest]) -> bool:
    events = _events(records)
    if len(set(events)) < len(events):
        return True
    places = {(r.status, r.service_group_id) for r in records}
    return len(records) > 1 and len(places) == 1 and next(iter(places))[0] == QUEUED


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
def expect_poll_stream(
    polls: Sequence[Sequence[OpenMediaRequest]],
    history: Mapping[int, Sequence[OpenMediaRequest]],
    requirement: str,
    exchange: Exchange | None = None,
) -> None:
    """Across ``polls`` (the records of successive by-time answers, each asked with the previous
    answer's TimeStamp) every event of each request of ``history`` (its events, in order, as the
    target records them) was given exactly once, in order: none repeated, none skipped."""
    requirement = req(requirement)
    given: dict[int, list[OpenMediaRequest]] = {oid: [] for oid in history}
    seen: set[tuple[int, str | None, object]] = set()
    for number, records in enumerate(polls, start=1):
        for record in records:
            if record.id not in given:
                continue
            key = (record.id, record.status, record.timestamp)
            if key in seen:
                raise ConformanceFailure(
                    requirement,
                    "each event given once across the polls (R12)",
                    f"request {record.id}: {record.status} at {record.timestamp} given again "
                    f"in poll {number}",
                    title="a polling client was given an event twice",
                    exchange=exchange,
                )
            seen.add(key)
            given[record.id].append(record)
    differing = [oid for oid, events in history.items() if _events(given[oid]) != _events(events)]
    if differing:
        shown = "; ".join(
            f"{oid}: history {[r.status for r in history[oid]]}, "
            f"given {[r.status for r in given[oid]]}"
            for oid in differing[:6]
        )
        raise ConformanceFailure(
            requirement,
            "every event of each request given once, in order, as its history records it",
            f"{len(differing)} of {len(history)} requests differ after {len(polls)} polls: "
            f"{shown}{' …' if len(differing) > 6 else ''}",
            title="a polling client missed events that happened while it polled",
            exchange=exchange,
        )


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
def expect_http_answers(exchanges: Iterable[Exchange], requirement: str) -> None:
    """Each exchange of an operation is HTTP 200 with its SOAP response or HTTP 500 with a SOAP
    Fault (WS-I BP R1124, R1126): never another status, never a body that is neither."""
    requirement = req(requirement)
    for exchange in exchanges:
        if exchange.operation not in OPERATION_NAMES:
            continue
        problem = ""
        if exchange.status not in (HTTP_OK, HTTP_FAULT):
            problem = f"HTTP {exchange.status} {exchange.reason}".strip()
        else:
            try:
                reply = decode_reply(exchange, exchange.operation)
            except DecodeError as exc:
                problem = f"HTTP {exchange.status} that is no answer of the operation: {exc.what}"
            else:
                faulted = reply.fault is not None
                if faulted != (exchange.status == HTTP_FAULT):
                    what = "a Fault" if faulted else "a response"
                    problem = f"HTTP {exchange.status} carrying {what}"
        if problem:
            raise ConformanceFailure(
                requirement,
                f"{exchange.operation}: HTTP 200 with its response or HTTP 500 with a SOAP Fault",
                problem,
                title="an answer under concurrent calls was an HTTP error",
                exchange=exchange,
            )


def expect_declared_faults(exchanges: Iterable[Exchange], requirement: str) -> None:
    """Each fault answered is one its operation declares (R4's undeclared fault and R3's
    InvalidDataException of ModifyRequest aside, as ``allowed_faults`` says); an answer that is
    no fault, or cannot be read, is another check's business."""
    requirement = req(requirement)
    for exchange in exchanges:
        if exchange.operation not in OPERATION_NAMES:
            continue
        try:
            fault = decode_reply(exchange, exchange.operation).fault
        except DecodeError:
            continue
        if fault is None:
            continue
        allowed = allowed_faults(operation(exchange.operation))
        if not any(matches_fault(fault, name) for name in allowed):
            raise ConformanceFailure(
                requirement,
                f"{exchange.operation}: no fault, or one it declares ({', '.join(allowed)})",
                fault.describe(),
                title="a fault no operation declares under concurrent calls",
                exchange=exchange,
            )
