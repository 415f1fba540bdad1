"""The lifecycle machine's judge: the target's answers held against ``LifecycleModel``.

Every rule of ``LifecycleMachine`` (``test_lifecycle.py``) sends one SOAP call or control-plane
action and asks the model what it must give: ``expect_outcome`` and ``expect_control`` compare
the two. After every step ``StatusViews`` asks the target for all-status, by-time since the last
TimeStamp, status by ID and history by ID (see ``test_lifecycle.py`` for which requests and why)
and compares each answer with the model. A difference raises a ``ConformanceFailure`` citing the
requirement of the transition that went wrong (the ``Outcome``'s or the ``Event``'s), so a
failure names the rule; this module holds no rule and sends nothing but status queries.

On a target the suite cannot reset (``SharedQueues``) the same comparisons are made of the
suite's own requests only, with QueuePositions relative to the others' requests queued ahead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from conformance.checks import expect_fault, expect_request_status, expect_result, expect_value
from conformance.contract.catalogue import req
from conformance.suite_support.lifecycle_model import LifecycleModel
from conformance.suite_support.lifecycle_values import (
    Event,
    Mismatch,
    Observed,
    Outcome,
    Status,
    match_events,
    record_mismatch,
    skips_a_state,
)
from conformance.verdicts import ConformanceFailure
from conformance.wire import ControlError, OpenMediaClient, Reply
from conformance.wire.values import GetOpenMediaResponse, OpenMediaRequest


def fail(requirement: str, expected: str, actual: str, reply: Reply | None = None) -> NoReturn:
    """Stop the example: the target differs from the model (``requirement`` from the catalogue)."""
    raise ConformanceFailure(
        req(requirement),
        expected,
        actual,
        title="the target left the lifecycle the model predicts",
        exchange=reply.exchange if reply is not None else None,
    )


def expect_fresh_id(reply: Reply, issued: set[int]) -> int:
    """The OpenMediaID of an AddRequest the model accepted: above 0 and never returned before in
    the whole test (``issued``, which it joins), else ADD-OPENMEDIAID-UNIQUE fails."""
    oid = getattr(reply.value, "open_media_id", None)
    if not isinstance(oid, int) or oid <= 0 or oid in issued:
        fail(
            "ADD-OPENMEDIAID-UNIQUE",
            "an OpenMediaID > 0 never returned before",
            f"OpenMediaID {oid}",
            reply,
        )
    issued.add(oid)
    return oid


def _describe(record: Event | OpenMediaRequest | None) -> str:
    if record is None:
        return "nothing"
    status = record.status.value if isinstance(record, Event) else record.status
    text = f"{status} in group {record.service_group_id}"
    if record.queue_position:
        text += f" at position {record.queue_position}"
    if record.agent_id or record.tenant_id or record.logon_id:
        text += f" with agent {record.agent_id} (tenant {record.tenant_id}, {record.logon_id!r})"
    return text


def _left_out(reason: str) -> str:
    """The requirement that keeps a removed request out of all-status and by-time."""
    return "CACHE-EXPIRED-LEFT-OUT" if reason == "CACHE-EXPIRED-BY-ID" else reason


def expect_outcome(reply: Reply, outcome: Outcome) -> None:
    """A SOAP answer: the fault, the boolean result or the RequestStatus the model predicts."""
    if outcome.faults:
        expect_fault(reply, outcome.requirement, *outcome.faults)
    elif isinstance(outcome.result, bool):
        expect_result(reply, outcome.requirement, outcome.result)
    elif isinstance(outcome.result, str):
        expect_request_status(reply, outcome.requirement, outcome.result)


def expect_control(call: Callable[[], None], outcome: Outcome, what: str) -> None:
    """A control call the model says is accepted (``result`` true) or refused with 409."""
    try:
        call()
        accepted = True
    except ControlError as exc:
        if exc.status != 409:
            raise
        accepted = False
    if accepted != outcome.result:
        shown = {True: "accepted", False: "refused with 409"}
        fail(
            outcome.requirement,
            f"{what}: {shown[bool(outcome.result)]}",
            f"{what}: {shown[accepted]}",
        )


@dataclass
class SharedQueues:
    """How ``StatusViews`` judges groups that other clients may use too (a target the suite
    cannot reset, groups the profile marks agentless).

    Only the suite's own requests are judged: others' records in all-status and by-time are
    left out. A Queued record of the suite's may stand up to ``ahead[group]`` places further
    back than the model (which knows the suite's requests alone) says: others' requests queued
    ahead of them. The machine learns ``ahead`` from its first AddRequest answer in each group;
    those requests may leave meanwhile, never join (the README's presumption that nobody else
    adds to or serves the profile's groups during the run), so the slack only shrinks what is
    accepted: every request of the suite's in one group stands the same number of places back
    in one all-status answer, and none more than ``ahead`` places. A wrong place cites the
    description's QueuePosition rules (ADD-QUEUE-POSITION-QUEUED, EVT-QUEUE-POSITION-CURRENT,
    EVT-QUEUE-POSITION-HISTORICAL), not the control plane's routing model, which binds only a
    target offering it.
    """

    ahead: dict[int, int] = field(default_factory=dict)


class StatusViews:
    """The target's status views of one example, compared with the model after every step.

    ``ids`` (handle -> OpenMediaID) is the machine's, which fills it as requests are added.
    Creating the views asks by-time from ``origin`` (the target's clock right after its reset)
    and expects nothing: that answer's TimeStamp is the first cursor.
    """

    def __init__(
        self,
        om: OpenMediaClient,
        model: LifecycleModel,
        ids: dict[int, int],
        origin: datetime,
        shared: SharedQueues | None = None,
    ) -> None:
        self.om, self.model, self.ids, self.origin = om, model, ids, origin
        self.shared = shared
        self.ahead: dict[int, int] = shared.ahead if shared is not None else {}
        self.seen: dict[int, list[OpenMediaRequest]] = {}  # handle -> its events from by-time
        self.checked: dict[int, int] = {}  # handle -> how many events its history had
        self.shown: dict[int, Event] = {}  # handle -> the record by-ID last answered
        self.reported_removed: set[int] = set()
        self.cursor, _, _ = self._by_time(origin, empty=True)

    def check(self) -> None:
        """Status by ID, all-status, by-time and history by ID all equal the model."""
        newly_removed = sorted(set(self.model.removed) - self.reported_removed)
        records = self._check_status_by_id(newly_removed)
        self._check_all_status()
        self._check_by_time()
        for handle, (record, reply) in records.items():
            stamp = self.seen[handle][-1].timestamp if self.seen.get(handle) else None
            if record.timestamp != stamp:
                fail(
                    "STA-LATEST",
                    f"TimeStamp {stamp} of the request's latest event",
                    f"TimeStamp {record.timestamp}",
                    reply,
                )
        self._check_history(newly_removed)
        if newly_removed:
            self._check_left_out(newly_removed)
        self.reported_removed.update(newly_removed)

    def _ours(self, records: Sequence[OpenMediaRequest]) -> tuple[OpenMediaRequest, ...]:
        """The records to judge: all on a queue that is the suite's alone, else its own."""
        if self.shared is None:
            return tuple(records)
        mine = set(self.ids.values())
        return tuple(r for r in records if r.id in mine)

    def _answering(self, requirement: str) -> str:
        """While the router is lost the status queries still answer, from the cache (R15)."""
        return requirement if self.model.router_connected else "ERR-ROUTER-STATUS-FROM-CACHE"

    def _check_status_by_id(
        self, newly_removed: list[int]
    ) -> dict[int, tuple[OpenMediaRequest, Reply]]:
        model, records = self.model, {}
        for handle in newly_removed:
            reply = self.om.get_status_by_id(self.ids[handle])
            expect_fault(reply, model.removed[handle], "InvalidOpenMediaIDFault")
        # Allocated requests first: their allocation names the routing rule that chose them.
        order = sorted(
            model.requests, key=lambda h: (model.requests[h].status != Status.ALLOCATED, h)
        )
        for handle in order:
            if self.shown.get(handle) == model.current(handle):
                continue  # unchanged since by-ID last showed it; all-status still covers it
            reply = self.om.get_status_by_id(self.ids[handle])
            terminal = model.requests[handle].status.terminal
            why = "STA-TERMINATED-CACHED" if terminal else "CACHE-ACTIVE-NEVER-EXPIRES"
            if not model.router_connected:
                why = "ERR-ROUTER-STATUS-FROM-CACHE"
            value = expect_value(reply, why)
            found = value.requests if isinstance(value, GetOpenMediaResponse) else ()
            if len(found) != 1:
                fail("STA-LATEST", "exactly one record", f"{len(found)} records", reply)
            self._compare_current(handle, found[0], reply)
            records[handle] = (found[0], reply)
            self.shown[handle] = model.current(handle)
        return records

    def _compare_current(self, handle: int, record: OpenMediaRequest, reply: Reply) -> None:
        """A current record: the latest event with the *current* QueuePosition."""
        want = self.model.current(handle)
        oid = self.ids[handle]
        where = f"request {oid}: "
        if record.id != oid:
            fail("EVT-RECORD-ID", f"ID {oid}", f"ID {record.id}", reply)
        if record.status != want.status.value:  # the MUST transition first: never only a warning
            latest = self.model.events[handle][-1]
            requirement = latest.because
            if latest.status is Status.QUEUED and record.status == Status.ALLOCATED.value:
                requirement = self.model.queued_requirement(handle)
            if skips_a_state(want.status, record.status):
                requirement = "LIFE-NO-SKIPPED-STATE"
            fail(requirement, where + _describe(want), where + _describe(record), reply)
        if record.status in ("Unknown", "Clerical"):
            fail("LIFE-NO-UNKNOWN", where + _describe(want), where + _describe(record), reply)
        problem = self._refine(record_mismatch(want, record, self.ahead), want, record)
        if problem == "EVT-QUEUE-POSITION-HISTORICAL":
            problem = (
                "EVT-QUEUE-POSITION-CURRENT"
                if self.shared is not None
                else self.model.order_requirement(handle)
            )
        if problem is not None:
            fail(problem, where + _describe(want), where + _describe(record), reply)

    def _refine(self, problem: str | None, want: Event, record: Observed) -> str | None:
        """An allocation to an agent who may not serve the group breaks item 1 (ROUTE-MEMBER),
        whatever rule chose the agent the model expected."""
        agent = record.agent_id or 0
        wrong = agent and agent != want.agent_id
        if problem and wrong and not self.model.may_serve(agent, want.service_group_id):
            return "ROUTE-MEMBER"
        return problem

    def _check_all_status(self) -> None:
        reply = self.om.get_all_status()
        value = expect_value(reply, self._answering("ALL-EVERY-REQUEST"))
        latest = {r.id: r for r in self._ours(getattr(value, "requests", ()))}
        handle_of = {oid: h for h, oid in self.ids.items()}
        for oid in sorted(set(latest) - {self.ids[h] for h in self.model.requests}, key=str):
            gone = self.model.removed.get(handle_of.get(oid or 0, -1))
            fail(
                _left_out(gone) if gone else "ALL-EVERY-REQUEST",
                "only the requests in the cache",
                f"also request {oid}",
                reply,
            )
        for handle in sorted(self.model.requests):
            record = latest.get(self.ids[handle])
            if record is None:
                fail(
                    "ALL-EVERY-REQUEST",
                    f"request {self.ids[handle]} (it is in the cache)",
                    "no record of it",
                    reply,
                )
            self._compare_current(handle, record, reply)
        if self.shared is not None:
            self._check_places(latest, reply)

    def _check_places(self, latest: dict[int | None, OpenMediaRequest], reply: Reply) -> None:
        """In one all-status answer the suite's queued requests of a group all stand the same
        number of places behind where the model (the suite's requests alone) puts them."""
        for group in self.model.world.groups:
            back = {
                (latest[self.ids[h]].queue_position or 0) - self.model.position(h): h
                for h in self.model.in_status(Status.QUEUED)
                if self.model.requests[h].group_id == group.id
            }
            if len(back) > 1:
                shown = {self.ids[h]: latest[self.ids[h]].queue_position for h in back.values()}
                fail(
                    "EVT-QUEUE-POSITION-CURRENT",
                    f"the suite's queued requests in group {group.id} one behind the other",
                    f"QueuePositions {shown}",
                    reply,
                )

    def _by_time(
        self, later_than: datetime, *, empty: bool = False
    ) -> tuple[datetime, Reply, tuple[OpenMediaRequest, ...]]:
        """By-time since ``later_than``, its stamps checked; the new cursor, reply, records."""
        reply = self.om.get_requests_by_time(later_than)
        value = expect_value(reply, self._answering("TIM-EMPTY" if empty else "TIM-ALL-REQUESTS"))
        stamp = getattr(value, "timestamp", None)
        if stamp is None:
            fail("EVT-RESPONSE-TIMESTAMP", "a TimeStamp", "none", reply)
        found = tuple(getattr(value, "requests", ()))
        for record in found:
            if record.timestamp is None or record.timestamp <= later_than:
                fail(
                    "EVT-RETRIEVE-LATER-THAN",
                    f"events stamped after {later_than}",
                    f"an event stamped {record.timestamp}",
                    reply,
                )
            if record.timestamp > stamp:
                fail(
                    "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
                    f"events stamped by {stamp}",
                    f"an event stamped {record.timestamp}",
                    reply,
                )
        found = self._ours(found)
        if empty and found:
            fail("TIM-EMPTY", "no event right after a reset", f"{len(found)} events", reply)
        return stamp, reply, found

    def _check_by_time(self) -> None:
        cursor, reply, found = self._by_time(self.cursor)
        handle_of = {oid: h for h, oid in self.ids.items()}
        actual: dict[int, list[OpenMediaRequest]] = {}
        for record in found:
            handle = handle_of.get(record.id or 0)
            if handle is None or handle not in self.model.requests:
                gone = self.model.removed.get(handle) if handle is not None else None
                fail(
                    _left_out(gone) if gone else "TIM-ALL-REQUESTS",
                    "events of requests in the cache only",
                    f"an event of request {record.id}",
                    reply,
                )
            actual.setdefault(handle, []).append(record)
        expected: dict[int, list[Event]] = {}
        for event in self.model.take_pending():
            expected.setdefault(event.handle, []).append(event)
        for handle in sorted(set(expected) | set(actual)):
            got = actual.get(handle, [])
            mismatch = match_events(expected.get(handle, []), got, self.ahead)
            if mismatch is not None:
                self._fail_events(
                    handle, mismatch, expected.get(handle, []), got, "EVT-TIMESTAMP-FEEDBACK", reply
                )
            before = self.seen.setdefault(handle, [])
            stamps = [r.timestamp for r in before[-1:] + got]
            if any(b is None or a is None or b < a for a, b in itertools.pairwise(stamps)):
                fail(
                    "EVT-EVENT-TIMESTAMP",
                    "the request's events in time order",
                    f"TimeStamps {stamps}",
                    reply,
                )
            before.extend(got)
        self.cursor = cursor
        if found:
            self._check_exclusive(min(r.timestamp for r in found if r.timestamp is not None))

    def _check_exclusive(self, moment: datetime) -> None:
        """R12 at an event's own TimeStamp: by-time from it returns exactly the later events
        (the feedback loop alone never asks at an event's stamp, so it cannot see this)."""
        reply = self.om.get_requests_by_time(moment)
        value = expect_value(reply, self._answering("EVT-RETRIEVE-LATER-THAN"))
        found = self._ours(getattr(value, "requests", ()))
        got = sorted((r.id or 0, r.status or "", str(r.timestamp)) for r in found)
        want = sorted(
            (self.ids[h], r.status or "", str(r.timestamp))
            for h in self.model.requests
            for r in self.seen.get(h, ())
            if r.timestamp is not None and r.timestamp > moment
        )
        if got != want:
            fail(
                "EVT-RETRIEVE-LATER-THAN",
                f"the {len(want)} event(s) stamped after {moment}",
                f"{len(got)} event(s): {got[:4]}",
                reply,
            )

    def _fail_events(
        self,
        handle: int,
        mismatch: Mismatch,
        expected: Sequence[Event],
        actual: Sequence[OpenMediaRequest],
        missing: str,
        reply: Reply,
    ) -> NoReturn:
        requirement = mismatch.requirement
        if mismatch.expected is not None and mismatch.actual is not None:
            requirement = self._refine(requirement, mismatch.expected, mismatch.actual) or ""
        before = actual[mismatch.index - 1].status if 0 < mismatch.index <= len(actual) else None
        known = next((s for s in Status if s.value == before), None)
        seen = mismatch.actual
        if mismatch.kind == "sequence" and seen is not None and skips_a_state(known, seen.status):
            requirement = "LIFE-NO-SKIPPED-STATE"
        if not requirement:
            if mismatch.expected is None and self.model.events[handle][-1].status.terminal:
                requirement = "LIFE-TERMINAL-FINAL"
            elif mismatch.expected is None or mismatch.actual is None:
                requirement = missing
            else:
                requirement = "EVT-EVENT-PER-STATE"
        oid = self.ids[handle]
        fail(
            requirement,
            f"events of request {oid}: " + "; ".join(_describe(e) for e in expected),
            f"events of request {oid}: "
            + "; ".join(_describe(r) for r in actual)
            + f" (first difference at event {mismatch.index + 1})",
            reply,
        )

    def _check_history(self, newly_removed: list[int]) -> None:
        for handle in newly_removed:
            reply = self.om.get_history_by_id(self.ids[handle], self.origin)
            expect_fault(reply, self.model.removed[handle], "InvalidOpenMediaIDFault")
        for handle in sorted(self.model.requests):
            events = self.model.events[handle]
            if self.checked.get(handle) == len(events):
                continue  # unchanged since its history was last compared
            oid = self.ids[handle]
            reply = self.om.get_history_by_id(oid, self.origin)
            value = expect_value(reply, self._answering("HIS-ALL-EVENTS"))
            found = tuple(getattr(value, "requests", ()))
            if any(r.id != oid for r in found):
                fail(
                    "HIS-ONLY-THIS-REQUEST",
                    f"records of request {oid} only",
                    f"IDs {[r.id for r in found]}",
                    reply,
                )
            mismatch = match_events(events, found, self.ahead)
            if mismatch is not None:
                self._fail_events(handle, mismatch, events, found, "HIS-ALL-EVENTS", reply)
            seen = [r.timestamp for r in self.seen.get(handle, [])]
            if [r.timestamp for r in found] != seen:
                fail(
                    "HIS-ALL-EVENTS",
                    f"the TimeStamps by-time returned: {seen}",
                    f"{[r.timestamp for r in found]}",
                    reply,
                )
            self.checked[handle] = len(events)

    def _check_left_out(self, newly_removed: list[int]) -> None:
        reply = self.om.get_requests_by_time(self.origin)
        value = expect_value(reply, self._answering("TIM-ALL-REQUESTS"))
        present = {r.id for r in getattr(value, "requests", ())}
        for handle in newly_removed:
            if self.ids[handle] in present:
                fail(
                    _left_out(self.model.removed[handle]),
                    f"no event of request {self.ids[handle]} (it left the cache)",
                    "its events are still returned",
                    reply,
                )
