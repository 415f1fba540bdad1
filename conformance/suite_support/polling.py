"""The polling client R12 describes, which ``test_status_requests`` runs against a target.

``Poller`` feeds each by-time answer's TimeStamp back as the next RetrieveLaterThan and keeps
what it was given, so a repeated event is caught in the answer that repeats it
(``conformance.checks.status.expect_new_event``) and a lost one when the requests' events are
compared at the end.
"""

from __future__ import annotations

from datetime import datetime

from conformance.checks import expect_equal
from conformance.checks.status import expect_new_event
from conformance.suite_support.groups import queue_group
from conformance.suite_support.requests import Env, add, cancel, precondition
from conformance.suite_support.status_queries import by_time, mark


class Poller:
    """A client that polls by-time with the previous TimeStamp and tracks what it was given."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.last = mark(env.om)
        self.expected: dict[int, list[str]] = {}
        self.seen: dict[int, list[str | None]] = {}
        self._events: set[tuple[int, str | None, datetime | None]] = set()

    def add(self) -> int:
        oid = add(self.env.om, queue_group(self.env.profile)).oid
        precondition(self.env, oid, "Queued")
        self.expected[oid] = ["Queued"]
        return oid

    def cancel(self, oid: int) -> None:
        if self.expected[oid][-1] != "Queued":
            return
        cancel(self.env.om, oid)
        self.expected[oid].append("Cancelled")

    def poll(self) -> None:
        rid = "EVT-TIMESTAMP-FEEDBACK"
        answer = by_time(self.env.om, self.last, rid)
        for record, stamp in zip(answer.records, answer.record_stamps, strict=True):
            if record.id not in self.expected:
                continue
            key = (record.id, record.status, record.timestamp)
            expect_new_event(record, key in self._events, self.last, answer.exchange, stamp)
            self._events.add(key)
            self.seen.setdefault(record.id, []).append(record.status)
        self.last = answer.stamp

    def expect_all_seen(self) -> None:
        self.poll()
        seen = {oid: self.seen.get(oid, []) for oid in self.expected}
        expect_equal(
            "EVT-TIMESTAMP-FEEDBACK",
            self.expected,
            seen,
            "events per request collected by polling with each TimeStamp",
        )
