"""The events of a request as a client reads them: the checks and the polling client that
``test_status_requests`` applies to every life a request goes through.

A record is judged field by field (ID, group, agent fields, QueuePosition), its TimeStamps
against the clock around the life, and the event sequence against both views a client has of
it (history and by-time) so that a failure names the call that is wrong. ``Poller`` is the
client R12 describes: it feeds each answer's TimeStamp back as the next RetrieveLaterThan and
keeps what it was given, so a repeated or a lost event is caught where it happens. Kept out of
the test module so that module is the list of cases and what each sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conformance.checks import expect_equal
from conformance.suite_support.lives import Lived
from conformance.suite_support.request_steps import Env
from conformance.suite_support.status_queries import (
    WITH_AGENT,
    Answer,
    add,
    agent_tenant,
    by_time,
    cancel,
    mark,
    precondition,
    queue_group,
    show,
)
from conformance.verdicts import ConformanceFailure
from conformance.wire.values import OpenMediaRequest


# -- records of one request --------------------------------------------------------------------
def expect_record_fields(
    env: Env,
    lived: Lived,
    records: Sequence[OpenMediaRequest],
    exchange: Any,
    *,
    current: bool = False,
) -> None:
    """ID, ServiceGroupID, agent fields and QueuePosition of each record of ``lived``.

    A Queued record's position is the one AddRequest answered: at the time it was queued for
    history and by-time, and still the current one for status-by-ID (``current``), since the
    test's own request is the only one in its group.
    """
    tenant = agent_tenant(env.profile, lived.agent) if lived.agent else 0
    for index, record in enumerate(records):
        what = f"record {index + 1} ({record.status}) of request {lived.oid}"
        expect_equal("EVT-RECORD-ID", lived.oid, record.id, f"ID of {what}", exchange)
        expect_equal(
            "EVT-SERVICE-GROUP-ID",
            lived.group.id,
            record.service_group_id,
            f"ServiceGroupID of {what}",
            exchange,
        )
        fields = (record.agent_id, record.tenant_id, record.logon_id)
        if record.status in WITH_AGENT and lived.agent is not None:
            wanted = (lived.agent.id, tenant, lived.agent.logon_id)
            expect_equal(
                "EVT-AGENT-FIELDS",
                wanted,
                fields,
                f"(AgentID, TenantID, LogonID) of {what}",
                exchange,
            )
        elif record.status not in WITH_AGENT and (
            record.agent_id != 0 or record.tenant_id != 0 or record.logon_id not in ("", None)
        ):
            raise ConformanceFailure(
                "EVT-AGENT-FIELDS-NONE",
                f"(AgentID, TenantID, LogonID) of {what} = (0, 0, empty or nil)",
                f"{fields}",
                exchange=exchange,
            )
        if record.status == "Queued":
            expect_equal(
                "EVT-QUEUE-POSITION-CURRENT" if current else "EVT-QUEUE-POSITION-HISTORICAL",
                lived.added_position,
                record.queue_position,
                f"QueuePosition of {what} (AddRequest answered it)",
                exchange,
            )
        else:
            expect_equal(
                "EVT-QUEUE-POSITION-NOT-QUEUED",
                0,
                record.queue_position,
                f"QueuePosition of {what}",
                exchange,
            )


def expect_stamps(answer: Answer, oid: int, since: datetime, until: datetime | None) -> None:
    """Record stamps of ``oid``: UTC, after ``since``, in order, not after ``until`` (the
    target's clock after the events) nor after the answer's own TimeStamp."""
    previous = since
    for index, stamp in enumerate(answer.stamps_of(oid)):
        what = f"TimeStamp of record {index + 1} of request {oid}"
        if stamp is None or not stamp.is_utc:
            raise ConformanceFailure(
                "EVT-EVENT-TIMESTAMP",
                f"{what} in UTC (Z or +00:00)",
                stamp.text if stamp else "none",
                exchange=answer.exchange,
            )
        if stamp.moment < previous or (index == 0 and stamp.moment <= since):
            raise ConformanceFailure(
                "EVT-EVENT-TIMESTAMP",
                f"{what} after {since} (before the add) and not before the record ahead of it",
                f"{stamp.text} after {previous}",
                exchange=answer.exchange,
            )
        if until is not None and stamp.moment > until:
            raise ConformanceFailure(
                "EVT-EVENT-TIMESTAMP",
                f"{what} not after the target's clock ({until})",
                stamp.text,
                exchange=answer.exchange,
            )
        if stamp.moment > answer.stamp.moment:
            raise ConformanceFailure(
                "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
                f"response TimeStamp not earlier than {what} ({stamp.text})",
                f"response TimeStamp {answer.stamp.text}",
                exchange=answer.exchange,
            )
        previous = stamp.moment


def judge_events(expected: Sequence[str], recorded: Answer, timeline: Answer, oid: int) -> None:
    """One event per state, in order (R13), seen through history (``recorded``) and by-time.

    The two views are held against the expectation and against each other, so that a failure
    names the call that is wrong: both wrong → the events themselves (EVT-EVENT-PER-STATE); only
    the history → HIS-ALL-EVENTS; only by-time → TIM-ORDER when it holds the right events in
    another order, else TIM-ALL-REQUESTS.
    """
    want = list(expected)
    seen_h, seen_t = recorded.statuses(oid), timeline.statuses(oid)
    if seen_h == want and seen_t == want:
        return
    if seen_h != want and seen_t != want:
        requirement, answer, got = "EVT-EVENT-PER-STATE", recorded, seen_h
    elif seen_h != want:
        requirement, answer, got = "HIS-ALL-EVENTS", recorded, seen_h
    elif sorted(map(str, seen_t)) == sorted(want):
        requirement, answer, got = "TIM-ORDER", timeline, seen_t
    else:
        requirement, answer, got = "TIM-ALL-REQUESTS", timeline, seen_t
    raise ConformanceFailure(
        requirement,
        f"events of request {oid}: {want}",
        f"{got} (history {seen_h}, by-time {seen_t})",
        title="the events of the request are not one per state entered, in order",
        exchange=answer.exchange,
    )


# -- feeding the TimeStamp back (R12) ----------------------------------------------------------
class Poller:
    """A client that polls by-time with the previous TimeStamp and tracks what it was given."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.last = mark(env.om)
        self.expected: dict[int, list[str]] = {}
        self.seen: dict[int, list[str | None]] = {}
        self._events: set[tuple[int, str | None, datetime | None]] = set()

    def add(self) -> int:
        oid, _ = add(self.env, queue_group(self.env.profile))
        precondition(self.env, oid, "Queued")
        self.expected[oid] = ["Queued"]
        return oid

    def cancel(self, oid: int) -> None:
        if self.expected[oid][-1] != "Queued":
            return
        cancel(self.env, oid)
        self.expected[oid].append("Cancelled")

    def poll(self) -> None:
        rid = "EVT-TIMESTAMP-FEEDBACK"
        answer = by_time(self.env.om, self.last, rid)
        for record in answer.records:
            if record.id not in self.expected:
                continue
            key = (record.id, record.status, record.timestamp)
            if key in self._events or (
                record.timestamp is not None and record.timestamp <= self.last.moment
            ):
                raise ConformanceFailure(
                    rid,
                    f"no event already returned (RetrieveLaterThan {self.last.text})",
                    f"{show([record])} again",
                    title="an event was repeated",
                    exchange=answer.exchange,
                )
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
