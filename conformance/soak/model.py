"""The soak's client-side model: every request it created, what each answer told of it, and
the by-time stream; it applies the pure judgements of ``conformance.soak.invariants`` at the
moment each applies, and keeps every violation with its first example exchange.

Time is what makes a concurrent judgement sound. Every observation carries when its call was
sent and when its answer arrived (``time.monotonic``): an answer received *before* another call
was sent is what the target held then, so the later call must not contradict it; two calls that
overlap may be served in either order, and nothing is concluded from them. So a status goes
"backwards" only when the backward answer's call left after the forward answer came in, and a
request must be listed (or streamed) only when it was created before the listing call left.

One lock guards the whole model: each update is a few dictionary operations, far cheaper than
the exchange around it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.contract.catalogue import CATALOGUE
from conformance.soak.invariants import (
    Finding,
    Invariant,
    judge_events,
    judge_listed,
    judge_new_id,
    judge_repeat,
    judge_skipped,
    judge_step,
    status_of,
)
from conformance.suite_support.lifecycle_values import Status
from conformance.wire import Exchange

EXPIRY_GUARD_S = 60.0
"""A request is expected in the cache (listed, streamed) only while it is this much younger
than DataExpiration: a terminated request may leave the cache after it (R14)."""
EARLY_S = 30.0
"""How long a streamed event of an unknown ID waits for an AddRequest's answer to claim it."""
STREAM = "GetOpenMediaRequestsByTime"
SHOWN_BYTES = 4096
"""How much of a body the first example of a violation keeps."""


@dataclass
class Tracked:
    """One request this soak created."""

    oid: int
    group_id: int
    created_at: float
    seen: dict[Status, float] = field(default_factory=dict)
    """Per status, when the first answer showing it arrived."""
    diverted: bool = False
    """A DivertRequest was sent for it: it may go back to Queued (LIFE-DIVERT-REQUEUES)."""
    terminal: bool = False
    streamed: list[tuple[Status, int | None]] = field(default_factory=list)
    """Its events as the by-time stream gave them, in order."""


@dataclass
class Awaited:
    """An event the by-time stream owes: due once a poll sent after ``due_after`` is answered."""

    oid: int
    what: str
    status: Status | None
    """The status the event must carry (``None``: any event of the request)."""
    due_after: float


@dataclass(frozen=True)
class _Streamed:
    """One event of a by-time answer, as the stream gave it."""

    status: str | None
    group: int | None
    stamp: str | None
    after_feedback: bool
    at: float
    exchange: Exchange
    poll: int
    """Which answer of the stream gave it (the count of answers so far)."""


@dataclass
class Violation:
    """Every finding of one invariant and requirement: how many, and the first in full."""

    invariant: Invariant
    requirement: str | None
    level: str
    count: int
    detail: str
    operation: str
    example: dict[str, Any] | None
    at_s: float
    """Seconds into the soak of the first one."""

    @property
    def fails(self) -> bool:
        """A MUST (or no answer at all); SHOULD and OPEN are warnings unless strict."""
        return self.level == "MUST"

    def as_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant.name,
            "description": self.invariant.value,
            "requirement": self.requirement,
            "level": self.level,
            "count": self.count,
            "first": {
                "detail": self.detail,
                "operation": self.operation,
                "at_s": round(self.at_s, 3),
                "exchange": self.example,
            },
        }


def example(exchange: Exchange | None) -> dict[str, Any] | None:
    """An exchange as a violation's first example shows it: passwords masked, bodies cut."""
    if exchange is None:
        return None

    def cut(data: bytes) -> str:
        text = data[:SHOWN_BYTES].decode("utf-8", errors="replace")
        return text + (f" … ({len(data)} bytes)" if len(data) > SHOWN_BYTES else "")

    return {
        "operation": exchange.operation,
        "url": exchange.url,
        "status": exchange.status,
        "request": cut(exchange.redacted_request_body()),
        "response": exchange.redact_text(cut(exchange.response_body)),
        "elapsed_ms": round(exchange.elapsed_s * 1000, 3),
        "curl": exchange.curl(),
    }


class SoakModel:
    """What the soak knows of the target, and every violation found so far."""

    def __init__(self, data_expiration_s: float, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.keep_s = max(0.0, data_expiration_s - EXPIRY_GUARD_S)
        self.requests: dict[int, Tracked] = {}
        self.listed_at: dict[int, float] = {}
        """Every ID some answer listed, and when that answer first arrived."""
        self.live: list[int] = []
        self._live_at: dict[int, int] = {}
        self.violations: dict[tuple[Invariant, str | None], Violation] = {}
        self._given: dict[tuple[int, str | None, int | None, str | None], int] = {}
        """Each event the stream gave, (ID, Status, group, TimeStamp text), and the poll that
        first gave it: one given again by a *later* poll is a repeat; twice in one answer, two
        events on one clock tick (a divert), or one state recorded twice (``judge_events``)."""
        self._polls = 0
        self._awaited: list[Awaited] = []
        self._early: dict[int, list[_Streamed]] = {}
        """Streamed events of IDs not (yet) known: an AddRequest's answer may reach its client
        after the poll that streams the request's first event reaches another."""
        self._lock = threading.Lock()

    # -- violations ------------------------------------------------------------------------
    def violation(self, finding: Finding, operation: str, exchange: Exchange | None) -> None:
        with self._lock:
            self._violation(finding, operation, exchange)

    def _violation(self, finding: Finding, operation: str, exchange: Exchange | None) -> None:
        key = (finding.invariant, finding.requirement)
        held = self.violations.get(key)
        if held is not None:
            held.count += 1
            return
        level = "MUST"
        if finding.requirement is not None:
            level = CATALOGUE.requirement(finding.requirement).level
        self.violations[key] = Violation(
            finding.invariant,
            finding.requirement,
            level,
            1,
            finding.detail,
            operation,
            example(exchange),
            time.monotonic() - self.started,
        )

    def failing(self, strict: bool) -> int:
        """How many violations fail the soak (all of them when strict)."""
        with self._lock:
            return sum(v.count for v in self.violations.values() if strict or v.fails)

    def counted(self) -> int:
        with self._lock:
            return sum(v.count for v in self.violations.values())

    # -- the requests it made ------------------------------------------------------------------
    def pick(self, rng: random.Random) -> int | None:
        """A request this soak created and has not seen terminate, at random."""
        with self._lock:
            return self.live[rng.randrange(len(self.live))] if self.live else None

    def live_count(self) -> int:
        with self._lock:
            return len(self.live)

    def group_of(self, oid: int) -> int:
        with self._lock:
            return self.requests[oid].group_id

    def created(
        self, oid: int | None, group_id: int, sent_at: float, received_at: float, ex: Exchange
    ) -> None:
        """An AddRequest answered Success with ``oid``."""
        with self._lock:
            known = oid is not None and (
                oid in self.requests or self.listed_at.get(oid, received_at) < sent_at
            )
            finding = judge_new_id(oid, known)
            if finding is not None:
                self._violation(finding, "AddRequest", ex)
                return
            assert oid is not None
            self.requests[oid] = Tracked(oid, group_id, received_at)
            self._live_at[oid] = len(self.live)
            self.live.append(oid)
            self._awaited.append(Awaited(oid, "no event at all", None, received_at))
            for event in self._early.pop(oid, ()):
                self._stream_event(oid, event)

    def _drop_live(self, oid: int) -> None:
        at = self._live_at.pop(oid, None)
        if at is None:
            return
        last = self.live.pop()
        if last != oid:
            self.live[at] = last
            self._live_at[last] = at

    def diverting(self, oid: int) -> None:
        """A DivertRequest is about to be sent for ``oid``."""
        with self._lock:
            tracked = self.requests.get(oid)
            if tracked is not None:
                tracked.diverted = True

    def diverted(self, oid: int, group_id: int) -> None:
        with self._lock:
            tracked = self.requests.get(oid)
            if tracked is not None:
                tracked.group_id = group_id

    def cancelled(self, oid: int, sent_at: float, received_at: float, ex: Exchange) -> None:
        """CancelRequest answered true: the request is Cancelled (R9), and the stream owes its
        Cancelled event."""
        with self._lock:
            self._observed(oid, Status.CANCELLED, sent_at, received_at, "CancelRequest", ex)
            if oid in self.requests:
                self._awaited.append(
                    Awaited(oid, "no Cancelled event", Status.CANCELLED, received_at)
                )

    def gone(self, oid: int) -> None:
        """The target says the request terminated (or aged out): no more calls about it."""
        with self._lock:
            self._drop_live(oid)
            tracked = self.requests.get(oid)
            if tracked is not None:
                tracked.terminal = True

    # -- what answers showed -----------------------------------------------------------------
    def observed(
        self,
        oid: int | None,
        status: str | None,
        sent_at: float,
        received_at: float,
        operation: str,
        ex: Exchange,
    ) -> None:
        """An answer showed ``oid``'s current status."""
        with self._lock:
            found = status_of(status)
            if oid is not None and found is not None:
                self._observed(oid, found, sent_at, received_at, operation, ex)

    def _observed(
        self,
        oid: int,
        status: Status,
        sent_at: float,
        received_at: float,
        operation: str,
        ex: Exchange,
    ) -> None:
        tracked = self.requests.get(oid)
        if tracked is None:
            return
        for before, at in tracked.seen.items():
            if at < sent_at:
                finding = judge_step(before, status, tracked.diverted)
                if finding is not None:
                    self._violation(finding, operation, ex)
                    break
        if status not in tracked.seen or received_at < tracked.seen[status]:
            tracked.seen[status] = received_at
        if status.terminal:
            tracked.terminal = True
            self._drop_live(oid)

    def history(
        self, oid: int, events: Sequence[tuple[str | None, int | None]], ex: Exchange
    ) -> None:
        """GetOpenMediaRequestHistoryByID's events of ``oid``, in order."""
        with self._lock:
            tracked = self.requests.get(oid)
            if tracked is None:
                return
            steps = [(s, g) for name, g in events if (s := status_of(name)) is not None]
            for finding in judge_events(steps, tracked.diverted)[:1]:
                self._violation(finding, "GetOpenMediaRequestHistoryByID", ex)

    def listed(
        self,
        records: Sequence[tuple[int | None, str | None, str | None]],
        latest: Mapping[int, str | None],
        sent_at: float,
        received_at: float,
        ex: Exchange,
    ) -> None:
        """GetAllOpenMediaRequestStatus listed ``records`` (ID, Status, TimeStamp text);
        ``latest`` is each ID's latest record's Status, its current one (ALL-EVERY-REQUEST)."""
        with self._lock:
            mine: dict[int, list[tuple[str | None, str | None]]] = {}
            for oid, status, stamp in records:
                if oid is None:
                    continue
                self.listed_at.setdefault(oid, received_at)
                if oid in self.requests:
                    mine.setdefault(oid, []).append((status, stamp))
            expected = [
                t.oid
                for t in self.requests.values()
                if t.created_at < sent_at and received_at - t.created_at < self.keep_s
            ]
            diverted = {oid for oid in mine if self.requests[oid].diverted}
            for finding in judge_listed(expected, mine, diverted):
                self._violation(finding, "GetAllOpenMediaRequestStatus", ex)
            for oid in mine:
                found = status_of(latest.get(oid))
                if found is not None:
                    name = "GetAllOpenMediaRequestStatus"
                    self._observed(oid, found, sent_at, received_at, name, ex)

    def _stream_event(self, oid: int, event: _Streamed) -> None:
        tracked = self.requests[oid]
        key = (oid, event.status, event.group, event.stamp)
        shown = f"{oid} {event.status} @{event.stamp}"
        given_in = self._given.setdefault(key, event.poll)
        finding = judge_repeat(given_in != event.poll, event.after_feedback, shown)
        if finding is not None:
            self._violation(finding, STREAM, event.exchange)
            return
        found = status_of(event.status)
        if found is None:
            return
        tracked.streamed.append((found, event.group))
        for step in judge_events(tracked.streamed[-2:], tracked.diverted)[:1]:
            self._violation(step, STREAM, event.exchange)

    def streamed(
        self,
        records: Sequence[tuple[int | None, str | None, int | None, str | None, bool]],
        sent_at: float,
        received_at: float,
        ex: Exchange,
    ) -> None:
        """One by-time answer polled with the previous TimeStamp: each record as (ID, Status,
        ServiceGroupID, TimeStamp text, stamped after the RetrieveLaterThan sent)."""
        with self._lock:
            self._polls += 1
            for oid, status, group, stamp, after_feedback in records:
                if oid is None:
                    continue
                self.listed_at.setdefault(oid, received_at)
                event = _Streamed(
                    status, group, stamp, after_feedback, received_at, ex, self._polls
                )
                if oid in self.requests:
                    self._stream_event(oid, event)
                else:  # perhaps ours, its AddRequest's answer not yet handed to the model
                    self._early.setdefault(oid, []).append(event)
            for oid in [
                o for o, held in self._early.items() if held[-1].at < received_at - EARLY_S
            ]:
                del self._early[oid]
            owed: list[Awaited] = []
            overdue: list[tuple[int, str]] = []
            for awaited in self._awaited:
                tracked = self.requests[awaited.oid]
                got = any(awaited.status in (None, s) for s, _ in tracked.streamed)
                if got or received_at - awaited.due_after >= self.keep_s:
                    continue
                if awaited.due_after < sent_at:
                    overdue.append((awaited.oid, awaited.what))
                else:
                    owed.append(awaited)
            self._awaited = owed
            for finding in judge_skipped(overdue)[:1]:
                self._violation(finding, STREAM, ex)
                key = (finding.invariant, finding.requirement)
                self.violations[key].count += len(overdue) - 1
