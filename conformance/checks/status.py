"""Judgements the status-request tests share: answers read with their TimeStamps as written,
records judged field by field, TimeStamps against the clock, events against the life.

A GetOpenMediaResponse is read into an ``Answer`` whose stamps keep the text the target wrote
(``Stamp.text``): a .NET target writes seven fraction digits, a Python ``datetime`` holds six,
and a truncated TimeStamp fed back as RetrieveLaterThan would make a conforming target seem to
repeat an event (R12). A record is judged field by field (ID, group, agent fields,
QueuePosition), its TimeStamps against the clock around its life, and its event sequence against
both views a client has of it (history and by-time), so that a failure names the call that is
wrong. Everything here is pure: the caller fetched the answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lxml import etree

from conformance.checks.expect import expect_equal, expect_value, summary
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import body_child
from conformance.wire.exchange import Exchange
from conformance.wire.values import OpenMediaRequest, Reply

LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""A RetrieveLaterThan before any event a target under test can hold."""

UTC_SUFFIXES = ("Z", "+00:00")
"""How a UTC dateTime ends on the wire (R17)."""

WITH_AGENT = ("AllocatedToAgent", "AgentProcessing", "Complete")
"""The statuses whose records name the handling agent; every other has AgentID 0 (R20)."""


TOLERANCE_KEY = "[target] clock_tolerance_s"
"""The profile key that sets how far a server time may lie from the local clock."""


# -- "now" -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Now:
    """When "now" was, as a window, and what it was read from (said in a failure).

    On a target with the control plane's clock, the clock's readings before and after the call;
    elsewhere the local clock's send/receive times of the exchange, widened by the profile's
    tolerance: an honest stand-in, as long as both hosts keep time (NTP) within it.
    """

    earliest: datetime
    latest: datetime
    source: str

    def holds(self, moment: datetime) -> bool:
        return self.earliest <= moment <= self.latest

    def describe(self) -> str:
        return f"between {_utc(self.earliest)} and {_utc(self.latest)} ({self.source})"


def target_clock(before: datetime, after: datetime, slack: timedelta) -> Now:
    """The target's "now": its control plane's clock read around the call, ``slack`` either
    side."""
    return Now(
        before - slack,
        after + slack,
        f"the target's clock read before and after the call, {_seconds(slack)} either side",
    )


def local_clock(first: Exchange, tolerance_s: float, last: Exchange | None = None) -> Now:
    """The "now" of exchanges ``first`` … ``last`` by the local clock: from ``first`` sent to
    ``last`` (default ``first``) answered, ``tolerance_s`` either side."""
    end = last or first
    if first.sent_at is None or end.received_at is None:
        raise ValueError("an exchange without send/receive times has no local 'now'")
    slack = timedelta(seconds=tolerance_s)
    return Now(
        first.sent_at - slack,
        end.received_at + slack,
        f"the local clock: the exchange's send/receive window {_utc(first.sent_at)} … "
        f"{_utc(end.received_at)}, widened by a tolerance of {_seconds(slack)} either side, "
        f"which the profile's {TOLERANCE_KEY} sets; this target has no control-plane clock",
    )


def expect_now(requirement: str, stamp: Stamp, now: Now, what: str, exchange: Exchange) -> None:
    """``stamp`` (``what``) lies in ``now``, else ``requirement`` fails, saying by how much."""
    if now.holds(stamp.moment):
        return
    off = stamp.moment - now.latest if stamp.moment > now.latest else now.earliest - stamp.moment
    side = "after" if stamp.moment > now.latest else "before"
    raise ConformanceFailure(
        requirement,
        f"{what} {now.describe()}",
        f"{stamp.text}, {_seconds(off)} {side} that window",
        title=f"{what} is not the time of the call",
        exchange=exchange,
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seconds(span: timedelta) -> str:
    return f"{span.total_seconds():g} s"


# -- answers and their TimeStamps ----------------------------------------------------------------
@dataclass(frozen=True)
class Stamp:
    """A dateTime as the target wrote it (``text``) and as read (``moment``, UTC)."""

    text: str
    moment: datetime

    @property
    def is_utc(self) -> bool:
        return self.text.endswith(UTC_SUFFIXES)


@dataclass(frozen=True)
class Answer:
    """One GetOpenMediaResponse: its records (document order), their stamps and its TimeStamp."""

    records: tuple[OpenMediaRequest, ...]
    record_stamps: tuple[Stamp | None, ...]
    stamp: Stamp
    reply: Reply

    def of(self, oid: int) -> tuple[OpenMediaRequest, ...]:
        return tuple(r for r in self.records if r.id == oid)

    def statuses(self, oid: int) -> list[str | None]:
        return [r.status for r in self.of(oid)]

    def stamps_of(self, oid: int) -> list[Stamp | None]:
        return [s for r, s in zip(self.records, self.record_stamps, strict=True) if r.id == oid]

    def ids(self) -> set[int | None]:
        return {r.id for r in self.records}

    @property
    def exchange(self) -> Exchange:
        return self.reply.exchange


def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def _kids(elem: etree._Element, local: str) -> list[etree._Element]:
    return [k for k in elem.iterchildren(tag=etree.Element) if _local(k) == local]


def _stamp_texts(reply: Reply) -> tuple[str | None, list[str | None]]:
    """The raw text of the response's TimeStamp and of each record's TimeStamp."""
    wrapper = body_child(reply.exchange.response_tree)
    result = next(wrapper.iterchildren(tag=etree.Element), None)
    if result is None:
        return None, []
    top = _kids(result, "TimeStamp")
    records = [
        item
        for holder in _kids(result, "OpenMediaRequests")
        for item in _kids(holder, "OpenMediaRequest")
    ]
    texts: list[str | None] = []
    for item in records:
        found = _kids(item, "TimeStamp")
        texts.append((found[0].text or "").strip() if found else None)
    return ((top[0].text or "").strip() if top else None), texts


def read_answer(reply: Reply, requirement: str) -> Answer:
    """The reply as an ``Answer``; a fault or a missing TimeStamp fails ``requirement``."""
    value = expect_value(reply, requirement)
    requests: tuple[OpenMediaRequest, ...] = getattr(value, "requests", ())
    moment: datetime | None = getattr(value, "timestamp", None)
    top, texts = _stamp_texts(reply)
    if moment is None or not top:
        raise ConformanceFailure(
            requirement,
            "a GetOpenMediaResponse with a TimeStamp",
            summary(value),
            title="the response carries no TimeStamp",
            exchange=reply.exchange,
        )
    if len(texts) != len(requests):  # the decoder and the raw walk disagree: no stamps text
        texts = [None] * len(requests)
    stamps = tuple(
        Stamp(text, r.timestamp) if text and r.timestamp is not None else None
        for text, r in zip(texts, requests, strict=True)
    )
    return Answer(requests, stamps, Stamp(top, moment), reply)


# -- records and events ----------------------------------------------------------------------
def only_record(answer: Answer, oid: int, requirement: str) -> OpenMediaRequest:
    """The one record of a by-ID status answer; fails unless there is exactly one.

    Its ID is not judged here: that is EVT-RECORD-ID's check, made where it is cited.
    """
    if len(answer.records) != 1:
        raise ConformanceFailure(
            requirement,
            f"exactly one status record, for request {oid}",
            f"{len(answer.records)} record(s), IDs {[r.id for r in answer.records]}",
            title="the answer does not hold exactly one record of the request",
            exchange=answer.exchange,
        )
    return answer.records[0]


def latest_by_id(answer: Answer) -> dict[int, OpenMediaRequest]:
    """Per ID the latest record (greatest TimeStamp; the later in document order on a tie)."""
    latest: dict[int, OpenMediaRequest] = {}
    for record in answer.records:
        if record.id is None:
            continue
        held = latest.get(record.id)
        if held is None or _moment(record) >= _moment(held):
            latest[record.id] = record
    return latest


def _moment(record: OpenMediaRequest) -> datetime:
    return record.timestamp or LONG_AGO


def show(records: Sequence[OpenMediaRequest]) -> list[str]:
    """``["7 Queued pos 1 @10:00:00.000001", ...]``: records for an Actual line."""
    return [
        f"{r.id} {r.status} pos {r.queue_position} agent {r.agent_id}"
        f" @{r.timestamp.time() if r.timestamp else None}"
        for r in records
    ]


@dataclass(frozen=True)
class Expected:
    """What every record of one request must say: its ID and group, the (AgentID, TenantID,
    LogonID) of the agent handling it (``None``: none ever did), and the QueuePosition
    AddRequest answered for it."""

    oid: int
    group_id: int
    agent: tuple[int, int, str] | None
    added_position: int | None


def expect_record_fields(
    expected: Expected,
    records: Sequence[OpenMediaRequest],
    exchange: Exchange,
    *,
    current: bool = False,
) -> None:
    """ID, ServiceGroupID, agent fields and QueuePosition of each record of one request.

    A Queued record's position is the one AddRequest answered: at the time it was queued for
    history and by-time, and still the current one for status-by-ID (``current``), since the
    test's own request is the only one in its group.
    """
    for index, record in enumerate(records):
        what = f"record {index + 1} ({record.status}) of request {expected.oid}"
        expect_equal("EVT-RECORD-ID", expected.oid, record.id, f"ID of {what}", exchange)
        expect_equal(
            "EVT-SERVICE-GROUP-ID",
            expected.group_id,
            record.service_group_id,
            f"ServiceGroupID of {what}",
            exchange,
        )
        fields = (record.agent_id, record.tenant_id, record.logon_id)
        if record.status in WITH_AGENT and expected.agent is not None:
            expect_equal(
                "EVT-AGENT-FIELDS",
                expected.agent,
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
                expected.added_position,
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


def expect_stamps(answer: Answer, oid: int, since: datetime, until: datetime | Now | None) -> None:
    """Record stamps of ``oid``: UTC, after ``since``, in order, not after ``until`` (the
    target's clock after the events, or a ``Now`` saying where its end comes from) nor after
    the answer's own TimeStamp."""
    limit = until.latest if isinstance(until, Now) else until
    told = (
        f"{_utc(until.latest)}, the end of {until.source}"
        if isinstance(until, Now)
        else f"the target's clock ({until})"
    )
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
        if limit is not None and stamp.moment > limit:
            raise ConformanceFailure(
                "EVT-EVENT-TIMESTAMP",
                f"{what} not after {told}",
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


def _fraction(text: str) -> str:
    """The fraction digits of a dateTime's text (``""`` when it has none)."""
    found = re.search(r"\.(\d+)", text)
    return found.group(1) if found else ""


def later(stamp: Stamp, last: Stamp) -> bool:
    """``stamp`` is after ``last`` (R12: RetrieveLaterThan is exclusive). A .NET target writes
    seven fraction digits, a ``datetime`` holds six: on the same microsecond the digits as
    written decide, so an event one tick after the TimeStamp fed back is not taken for a repeat.
    The one comparison of TimeStamps as written (the suite's pollers and the soak's stream)."""
    if stamp.moment != last.moment:
        return stamp.moment > last.moment
    mine, theirs = _fraction(stamp.text), _fraction(last.text)
    width = max(len(mine), len(theirs))
    return mine.ljust(width, "0") > theirs.ljust(width, "0")


def expect_new_event(
    record: OpenMediaRequest,
    given_before: bool,
    last: Stamp,
    exchange: Exchange,
    stamp: Stamp | None = None,
) -> None:
    """R12 for a client that feeds each TimeStamp back: an event it was already given
    (``given_before``), or one stamped no later than its RetrieveLaterThan ``last``, is a
    repeat. ``stamp`` is the record's TimeStamp as written: without it only the microseconds
    are known, and an event on the same microsecond as ``last`` may be ticks after it (a .NET
    target), so only a strictly earlier one is a repeat."""
    if stamp is not None:
        not_after = not later(stamp, last)
    else:
        not_after = record.timestamp is not None and record.timestamp < last.moment
    if given_before or not_after:
        raise ConformanceFailure(
            "EVT-TIMESTAMP-FEEDBACK",
            f"no event already returned (RetrieveLaterThan {last.text})",
            f"{show([record])} again" + (f" (stamped {stamp.text})" if stamp is not None else ""),
            title="an event was repeated",
            exchange=exchange,
        )


_ENTERED_BY = {"Failed": "LIFE-FAILED-FROM", "Cancelled": "LIFE-CANCELLED-FROM"}
"""The requirement that says how a terminal state may be entered (lifecycle section)."""


def expect_entered(oid: int, wanted: str, actual: str | None) -> None:
    """The state a life's last step must reach: reaching another one is the target's fault.

    Unlike a precondition this is a verdict: a router loss that completes a request, or a
    preferred-agent timeout that cancels one, breaks the rule of how that state is entered.
    """
    if actual == wanted:
        return
    wrongly_entered = _ENTERED_BY.get(actual or "")
    requirement = wrongly_entered or _ENTERED_BY.get(wanted, "LIFE-COMPLETE")
    raise ConformanceFailure(
        requirement,
        f"request {oid} {wanted}",
        f"request {oid} {actual}",
        title=f"the last step of the life should leave the request {wanted}",
    )
