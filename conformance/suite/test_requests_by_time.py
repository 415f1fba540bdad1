"""GetOpenMediaRequestsByTime (section ``by-time``): every cached request's events after a time.

This is the call a client polls with: everything that happened to any request after
RetrieveLaterThan (R12: exclusive), each request's events in the order they happened (R13), and
an empty list, not a fault, when nothing did. On a controllable target the suite resets it
first, so the answer must hold the test's requests and no other; on a vendor server other
clients may be at work, so only the test's own requests are judged there. Expired requests
being left out is ``test_data_cache``'s.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from conformance.checks import expect_equal
from conformance.checks.status import LONG_AGO, Answer, Stamp, show
from conformance.profile import Group
from conformance.suite_support.groups import group_with_agent, queue_group
from conformance.suite_support.requests import Env, add, cancel, precondition
from conformance.suite_support.status_queries import Since, by_time, mark
from conformance.verdicts import ConformanceFailure


def _groups(env: Env) -> tuple[Group, Group]:
    """Two open groups if the profile has them (else the same one twice)."""
    groups = env.profile.groups_with("open")
    first = queue_group(env.profile)
    other = next((g for g in groups if g.id != first.id), first)
    return first, other


def _expect_exactly(
    env: Env, answer: Answer, since: Stamp, expected: dict[int, list[str]], requirement: str
) -> None:
    """Our requests' events are ``expected``; nothing at or before ``since``; on a reset
    target, no other request's event."""
    got = {oid: answer.statuses(oid) for oid in expected}
    expect_equal(
        requirement, expected, got, f"events per request after {since.text}", answer.exchange
    )
    early = [r for r in answer.records if r.timestamp is not None and r.timestamp <= since.moment]
    expect_equal(
        requirement, [], show(early), f"records stamped at or before {since.text}", answer.exchange
    )
    if env.has("scenario"):
        foreign = sorted(i for i in answer.ids() if i not in expected)  # type: ignore[type-var]
        expect_equal(
            requirement, [], foreign, "IDs of requests the test did not add", answer.exchange
        )


@pytest.mark.requirement("TIM-ALL-REQUESTS")
def test_by_time_returns_every_request_after_the_mark(env):
    """A (group X), B (group Y) added, A cancelled, mark t, C added, B cancelled: since the
    first mark → A, B, C with all their events; since t → only C Queued and B Cancelled."""
    rid = "TIM-ALL-REQUESTS"
    first, other = _groups(env)
    start = mark(env.om)
    a = add(env.om, first).oid
    b = add(env.om, other).oid
    for oid in (a, b):
        precondition(env, oid, "Queued")
    cancel(env.om, a)
    middle = mark(env.om)
    c = add(env.om, first).oid
    precondition(env, c, "Queued")
    cancel(env.om, b)
    everything = {a: ["Queued", "Cancelled"], b: ["Queued", "Cancelled"], c: ["Queued"]}
    _expect_exactly(env, by_time(env.om, start, rid), start, everything, rid)
    later = {a: [], b: ["Cancelled"], c: ["Queued"]}
    _expect_exactly(env, by_time(env.om, middle, rid), middle, later, rid)


@pytest.mark.requirement("TIM-ORDER")
@pytest.mark.requires_control("agents")
def test_by_time_keeps_each_request_in_order(env):
    """A, B queued; agent logs on (A allocated), answers A; B cancelled; A completed: by-time
    → A [Queued, AllocatedToAgent, AgentProcessing, Complete], B [Queued, Cancelled], each
    request's records with non-decreasing TimeStamps."""
    rid = "TIM-ORDER"
    group, agent = group_with_agent(env.profile)
    start = mark(env.om)
    a = add(env.om, group).oid
    b = add(env.om, group).oid
    env.control.logon(agent.id)
    precondition(env, a, "AllocatedToAgent", agent.id)
    env.control.answer(a)
    cancel(env.om, b)
    env.control.complete(a)
    answer = by_time(env.om, start, rid)
    expected = {
        a: ["Queued", "AllocatedToAgent", "AgentProcessing", "Complete"],
        b: ["Queued", "Cancelled"],
    }
    got = {oid: answer.statuses(oid) for oid in expected}
    expect_equal(rid, expected, got, "events per request, in answer order", answer.exchange)
    for oid in expected:
        moments = [r.timestamp for r in answer.of(oid)]
        if any(x is None or y is None or y < x for x, y in pairwise(moments)):
            raise ConformanceFailure(
                rid,
                f"the records of request {oid} in the order their events happened",
                f"{show(answer.of(oid))}",
                exchange=answer.exchange,
            )


@pytest.mark.requirement("TIM-EMPTY")
@pytest.mark.parametrize("since", ["last-timestamp", "a-day-ahead"])
def test_by_time_with_nothing_after_is_empty(env, since):
    """A request added, then by-time since the latest TimeStamp (or a day past it) → an empty
    list with a TimeStamp, no fault.

    Since the latest TimeStamp, other clients may have been at work (another worker of a
    ``-n`` run, a vendor server's own traffic): unless the target was reset for the test, the
    answer may hold their new events, and only what they cannot change is judged: no record
    stamped at or before the TimeStamp, none of the test's request. A day ahead nothing can
    have happened anywhere, so that answer must be empty on any target."""
    rid = "TIM-EMPTY"
    oid = add(env.om, queue_group(env.profile)).oid
    latest = mark(env.om)
    asked: Since = latest if since == "last-timestamp" else latest.moment + timedelta(days=1)
    answer = by_time(env.om, asked, rid)
    judged, what = answer.records, "records after the latest TimeStamp"
    if since == "last-timestamp" and not env.has("scenario"):
        judged = [
            r for r in judged if r.id == oid or r.timestamp is None or r.timestamp <= latest.moment
        ]
        what = f"records of request {oid} or stamped by {latest.text}, after {latest.text}"
    expect_equal(rid, [], show(judged), what, answer.exchange)


@pytest.mark.requirement("TIM-EMPTY")
@pytest.mark.requires_control("scenario")
def test_by_time_on_an_empty_target_is_empty(env):
    """Right after a reset (no request at all), by-time since 2000-01-01 → an empty list with a
    TimeStamp, no fault."""
    answer = by_time(env.om, LONG_AGO, "TIM-EMPTY")
    expect_equal(
        "TIM-EMPTY", [], show(answer.records), "records of an empty target", answer.exchange
    )
