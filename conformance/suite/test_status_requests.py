"""Status requests in general (section ``status-requests``): events, records, TimeStamps.

A client of the Open Media Service follows its requests by polling: GetOpenMediaRequestsByTime
with the previous answer's TimeStamp, or the history of one request. That only works when each
state a request enters is one event, in order (R13), each record names the right request, group
and agent, the QueuePosition means what the description says (current in status-by-ID and
all-status, as queued in history and by-time), and the TimeStamps let a client poll without
losing or repeating an event (R12, UTC per R17). The lives a request goes through come from
``suite_support.lives``; a life that needs agents, the router or the clock is *not applicable* on a
target whose control plane lacks them.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import expect_equal, expect_result
from conformance.checks.status import (
    LONG_AGO,
    Answer,
    Now,
    Stamp,
    expect_now,
    expect_record_fields,
    expect_stamps,
    judge_events,
    local_clock,
    only_record,
    show,
    target_clock,
)
from conformance.suite_support.groups import agent_tenant, group_with_agent, queue_group
from conformance.suite_support.lives import TERMINAL, life_params, live
from conformance.suite_support.polling import Poller
from conformance.suite_support.requests import add, precondition
from conformance.suite_support.status_queries import (
    CLOCK_SLACK,
    all_status,
    by_time,
    history,
    mark,
    mark_answer,
    status,
)
from conformance.verdicts import ConformanceFailure

_QUIET = settings(
    max_examples=15,
    deadline=None,
    report_multiple_bugs=False,  # one ConformanceFailure (a verdict), never an ExceptionGroup
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# -- one event per state entered, in every life ------------------------------------------------
_LIVES = (
    "queued",
    "allocated",
    "processing",
    "complete",
    "cancelled-queued",
    "cancelled-allocated",
    "cancelled-processing",
    "failed-router",
    "failed-router-processing",
    "failed-preferred-timeout",
)


@pytest.mark.requirement(
    "EVT-EVENT-PER-STATE",
    "EVT-RECORD-ID",
    "EVT-SERVICE-GROUP-ID",
    "EVT-AGENT-FIELDS",
    "EVT-AGENT-FIELDS-NONE",
    "EVT-QUEUE-POSITION-HISTORICAL",
    "EVT-QUEUE-POSITION-CURRENT",
    "EVT-QUEUE-POSITION-NOT-QUEUED",
    "EVT-EVENT-TIMESTAMP",
    "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
    "HIS-ALL-EVENTS",
    "TIM-ALL-REQUESTS",
    "TIM-ORDER",
    "LIFE-QUEUED",
    "LIFE-ALLOCATED",
    "LIFE-ANSWERED",
    "LIFE-COMPLETE",
    "LIFE-CANCELLED-FROM",
    "LIFE-FAILED-FROM",
)
@pytest.mark.parametrize("life", life_params(*_LIVES))
@pytest.mark.alone
def test_each_state_entered_is_one_event(env, life):
    """Put a request through a life (e.g. Queued → AllocatedToAgent → AgentProcessing →
    Complete); history and by-time (since 2000-01-01) hold one event per state, in order; every
    record (and the status-by-ID one) has the right ID, group, agent fields, QueuePosition and
    UTC TimeStamps within the target's clock around the life (without the control plane's
    clock: after the TimeStamp of a status answer before it, and not after the local clock at
    its end, plus the profile's ``[target] clock_tolerance_s``)."""
    begun = None if env.has("clock") else mark_answer(env.om)
    start = env.control.now() - CLOCK_SLACK if begun is None else begun.stamp.moment
    lived = live(env, life)
    until: datetime | Now | None = env.control.now() + CLOCK_SLACK if begun is None else None
    recorded = history(env.om, lived.oid, LONG_AGO, "HIS-ALL-EVENTS")
    if begun is not None:
        tolerance = env.profile.target.clock_tolerance_s
        until = local_clock(begun.exchange, tolerance, recorded.exchange)
    timeline = by_time(env.om, LONG_AGO, "TIM-ALL-REQUESTS")
    judge_events(lived.statuses, recorded, timeline, lived.oid)
    by_id = "STA-TERMINATED-CACHED" if lived.final in TERMINAL else "STA-LATEST"
    latest = status(env.om, lived.oid, by_id)
    expected = lived.expected(env.profile)
    expect_record_fields(expected, latest.records, latest.exchange, current=True)
    for answer in (recorded, timeline):
        expect_record_fields(expected, answer.of(lived.oid), answer.exchange)
        expect_stamps(answer, lived.oid, start, until)


@pytest.mark.requirement("EVT-EVENT-PER-STATE", "LIFE-IMMEDIATE-ALLOCATION", "EVT-AGENT-FIELDS")
@pytest.mark.requires_control("agents")
def test_allocation_at_once_records_queued_then_allocated(env):
    """Agent logged on and free, AddRequest → events Queued, AllocatedToAgent (R13); an
    AllocatedToAgent alone is accepted with a warning (LIFE-IMMEDIATE-ALLOCATION, OPEN)."""
    group, agent = group_with_agent(env.profile)
    start = mark(env.om)
    env.control.logon(agent.id)
    oid = add(env.om, group).oid
    precondition(env, oid, "AllocatedToAgent", agent.id)
    answer = history(env.om, oid, start, "EVT-EVENT-PER-STATE")
    statuses = answer.statuses(oid)
    if statuses not in (["Queued", "AllocatedToAgent"], ["AllocatedToAgent"]):
        raise ConformanceFailure(
            "EVT-EVENT-PER-STATE",
            "events [Queued, AllocatedToAgent] (or AllocatedToAgent alone)",
            f"events {statuses}",
            exchange=answer.exchange,
        )
    allocated = answer.of(oid)[-1]
    expect_equal(
        "EVT-AGENT-FIELDS",
        (agent.id, agent_tenant(env.profile, agent), agent.logon_id),
        (allocated.agent_id, allocated.tenant_id, allocated.logon_id),
        f"(AgentID, TenantID, LogonID) of the AllocatedToAgent record of {oid}",
        answer.exchange,
    )
    if statuses == ["AllocatedToAgent"]:
        raise ConformanceFailure(
            "LIFE-IMMEDIATE-ALLOCATION",
            "events [Queued, AllocatedToAgent] (R13's reading)",
            "AllocatedToAgent alone (accepted: R13 leaves it open)",
            exchange=answer.exchange,
        )


# -- QueuePosition: current vs at the time of queueing -----------------------------------------
@pytest.mark.requirement("EVT-QUEUE-POSITION-CURRENT", "EVT-QUEUE-POSITION-HISTORICAL")
@pytest.mark.parametrize(
    "ahead_leaves",
    [
        pytest.param("cancelled", id="ahead-cancelled"),
        pytest.param(
            "allocated", marks=pytest.mark.requires_control("agents"), id="ahead-allocated"
        ),
    ],
)
@pytest.mark.alone
def test_queue_position_current_and_as_queued(env, ahead_leaves):
    """A, B, C queued (positions p, p+1, p+2); A leaves (cancelled / to an agent) → status-by-ID
    and all-status say B p, C p+1; history and by-time still say B p+1, C p+2 in Queued."""
    if ahead_leaves == "allocated":
        group, agent = group_with_agent(env.profile)
    else:
        group, agent = queue_group(env.profile), None
    start = mark(env.om)
    ids = [add(env.om, group).oid for _ in range(3)]
    for oid in ids:
        precondition(env, oid, "Queued")
    rid = "EVT-QUEUE-POSITION-CURRENT"
    before = [only_record(status(env.om, oid, rid), oid, rid).queue_position for oid in ids]
    first = before[0] or 0
    expect_equal(rid, [first, first + 1, first + 2], before, "QueuePosition of A, B, C")
    if agent is None:
        expect_result(
            env.om.cancel_request(OpenMediaID=ids[0], CancelIfAllocated=False, DoNotReport=False),
            rid,
            True,
        )
    else:
        env.control.logon(agent.id)
        precondition(env, ids[0], "AllocatedToAgent", agent.id)
    now = [only_record(status(env.om, oid, rid), oid, rid).queue_position for oid in ids[1:]]
    expect_equal(rid, [first, first + 1], now, "status-by-ID QueuePosition of B, C after A left")
    everything = all_status(env.om, rid)
    listed = [[r.queue_position for r in everything.of(oid)][-1:] for oid in ids[1:]]
    expect_equal(
        rid,
        [[first], [first + 1]],
        listed,
        "all-status QueuePosition of B, C after A left",
        everything.exchange,
    )
    rid = "EVT-QUEUE-POSITION-HISTORICAL"
    past = history(env.om, ids[1], start, rid)
    expect_equal(
        rid,
        [first + 1],
        [r.queue_position for r in past.of(ids[1]) if r.status == "Queued"],
        "history QueuePosition of B's Queued event",
        past.exchange,
    )
    timeline = by_time(env.om, start, rid)
    queued = [
        [r.queue_position for r in timeline.of(oid) if r.status == "Queued"] for oid in ids[1:]
    ]
    expect_equal(
        rid,
        [[first + 1], [first + 2]],
        queued,
        "by-time QueuePosition of B's, C's Queued event",
        timeline.exchange,
    )


# -- RetrieveLaterThan and TimeStamps ----------------------------------------------------------
@pytest.mark.requirement("EVT-RETRIEVE-LATER-THAN")
@pytest.mark.parametrize("view", ["history", "by-time"])
def test_retrieve_later_than_is_exclusive(env, view):
    """Add A (Queued at t1), cancel A (Cancelled at t2): RetrieveLaterThan=t1 → [Cancelled]
    only; RetrieveLaterThan just before the add → both."""
    rid = "EVT-RETRIEVE-LATER-THAN"
    start = mark(env.om)
    oid = add(env.om, queue_group(env.profile)).oid
    precondition(env, oid, "Queued")
    expect_result(
        env.om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False),
        rid,
        True,
    )

    def ask(since: Stamp) -> Answer:
        if view == "history":
            return history(env.om, oid, since, rid)
        return by_time(env.om, since, rid)

    full = ask(start)
    expect_equal(
        rid,
        ["Queued", "Cancelled"],
        full.statuses(oid),
        f"events of {oid} after the mark",
        full.exchange,
    )
    queued = full.stamps_of(oid)[0]
    assert queued is not None, "precondition: the Queued record has a TimeStamp"
    later = ask(queued)
    expect_equal(
        rid,
        ["Cancelled"],
        later.statuses(oid),
        f"events of {oid} after RetrieveLaterThan = its Queued TimeStamp {queued.text}",
        later.exchange,
    )


@pytest.mark.requirement("EVT-RESPONSE-TIMESTAMP", "EVT-TIMESTAMP-NOT-BEFORE-EVENTS")
@pytest.mark.parametrize("operation", ["status-by-id", "history", "by-time", "all-status"])
def test_response_timestamp_is_now_in_utc(env, operation):
    """Each status call → a UTC TimeStamp (Z or +00:00), not earlier than any record returned
    and between the control plane's clock readings around the call or, on a target without that
    clock, within the exchange's send/receive window by the local clock, widened by the profile's
    ``[target] clock_tolerance_s``."""
    rid = "EVT-RESPONSE-TIMESTAMP"
    oid = add(env.om, queue_group(env.profile)).oid
    clock = env.control if env.has("clock") else None
    before = clock.now() if clock else None
    if operation == "status-by-id":
        answer = status(env.om, oid, rid)
    elif operation == "history":
        answer = history(env.om, oid, LONG_AGO, rid)
    elif operation == "by-time":
        answer = by_time(env.om, LONG_AGO, rid)
    else:
        answer = all_status(env.om, rid)
    after = clock.now() if clock else None
    stamp = answer.stamp
    if not stamp.is_utc:
        raise ConformanceFailure(
            rid, "a TimeStamp in UTC (Z or +00:00)", stamp.text, exchange=answer.exchange
        )
    if before is not None and after is not None:
        now = target_clock(before, after, CLOCK_SLACK)
    else:
        now = local_clock(answer.exchange, env.profile.target.clock_tolerance_s)
    expect_now(rid, stamp, now, "the response TimeStamp", answer.exchange)
    late = [r for r in answer.records if r.timestamp and r.timestamp > stamp.moment]
    expect_equal(
        "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
        [],
        show(late),
        f"records stamped after the response TimeStamp {stamp.text}",
        answer.exchange,
    )


# -- feeding the TimeStamp back (R12) ----------------------------------------------------------
@pytest.mark.requirement("EVT-TIMESTAMP-FEEDBACK")
def test_polling_with_the_timestamp_never_repeats_or_skips(env):
    """Add A, poll, add B, cancel A, poll, poll, add C, cancel B, cancel C, poll: each poll
    sends the previous TimeStamp; every event arrives exactly once."""
    poller = Poller(env)
    a = poller.add()
    poller.poll()
    b = poller.add()
    poller.cancel(a)
    poller.poll()
    poller.poll()
    c = poller.add()
    poller.cancel(b)
    poller.cancel(c)
    poller.expect_all_seen()


_STEP = st.one_of(
    st.just(("add", 0)), st.just(("poll", 0)), st.tuples(st.just("cancel"), st.integers(0, 7))
)


@pytest.mark.requirement("EVT-TIMESTAMP-FEEDBACK")
@_QUIET
@given(steps=st.lists(_STEP, min_size=1, max_size=10))
def test_polling_property_never_repeats_or_skips(env, steps):
    """Random interleavings of AddRequest, CancelRequest and by-time polls fed the previous
    TimeStamp: no event is returned twice, none is missing at the end."""
    poller = Poller(env)
    ids: list[int] = []
    for kind, pick in steps:
        if kind == "add":
            ids.append(poller.add())
        elif kind == "cancel" and ids:
            poller.cancel(ids[pick % len(ids)])
        elif kind == "poll":
            poller.poll()
    poller.expect_all_seen()
