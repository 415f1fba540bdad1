"""CancelRequest (section ``cancel``): from every state a request can be in, with its statistics.

R9 decides what a conforming target does: a queued request is cancelled whatever
CancelIfAllocated says; an allocated or answered one only with CancelIfAllocated true (false:
the call returns false and nothing changes); a terminated one raises
OpenMediaRequestTerminatedFault (R4); an ID never issued or aged out raises
InvalidOpenMediaIDFault. The description's report rules (Abandoned / Completed for the group,
Offered / Answered for the agent, DoNotReport only before allocation) are read from the control
plane's ``/statistics`` as differences against a snapshot taken before the request was added,
so a target may count at any moment of a request's life.

Group and agent IDs come from the profile; states that need agents, the router, the licence, the
clock or statistics are *not applicable* on a target whose control plane lacks them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from conformance.checks import expect_equal, expect_fault, expect_result, matches_fault
from conformance.checks.requests import expect_counts, expect_unchanged
from conformance.suite_support.outages import licence_lost, router_lost
from conformance.suite_support.requests import (
    NEVER_ISSUED,
    Env,
    Placed,
    add,
    events_since,
    place,
    record,
    snapshot,
    snapshot_after,
)
from conformance.verdicts import Blocked, SuiteError
from conformance.wire import Reply

_INVALID_ID = "InvalidOpenMediaIDFault"

_ALLOCATED = ("AllocatedToAgent", "AgentProcessing")


# -- statistics --------------------------------------------------------------------------------
def counters(env: Env) -> dict[str, Any]:
    return env.control.statistics()


def _cancel(env: Env, oid: int, *, if_allocated: bool, do_not_report: bool = False) -> Reply:
    return env.om.cancel_request(
        OpenMediaID=oid, CancelIfAllocated=if_allocated, DoNotReport=do_not_report
    )


def _expect_cancelled(env: Env, oid: int, mark: datetime, requirement: str) -> None:
    after, _ = record(env.om, oid, requirement)
    expect_equal(requirement, "Cancelled", after.status, f"Status of request {oid}")
    expect_equal(
        requirement,
        ["Cancelled"],
        events_since(env.om, oid, mark, requirement),
        f"events of request {oid} after the cancel",
    )


def _expect_agent_free(env: Env, placed: Placed, requirement: str) -> None:
    """The agent takes a new request of its group at once: the cancelled one left it."""
    assert placed.agent is not None
    oid = add(env.om, placed.group).oid
    now, _ = record(env.om, oid, requirement)
    expect_equal(
        requirement,
        ("AllocatedToAgent", placed.agent.id),
        (now.status, now.agent_id),
        f"(Status, AgentID) of a new request {oid} while agent {placed.agent.id} is free",
    )


# -- queued ------------------------------------------------------------------------------------
@pytest.mark.requirement("CAN-QUEUED-CANCELS")
@pytest.mark.parametrize("if_allocated", [True, False], ids=["if-allocated", "not-if-allocated"])
@pytest.mark.alone
def test_cancel_queued_request(env, if_allocated):
    """CancelRequest on a queued request → true, one Cancelled event, the next one moves up."""
    placed = place(env, "Queued")
    behind = add(env.om, placed.group).oid
    queued_behind, _ = record(env.om, behind, "CAN-QUEUED-CANCELS")
    _, mark = record(env.om, placed.oid, "CAN-QUEUED-CANCELS")
    expect_result(_cancel(env, placed.oid, if_allocated=if_allocated), "CAN-QUEUED-CANCELS", True)
    _expect_cancelled(env, placed.oid, mark, "CAN-QUEUED-CANCELS")
    moved, _ = record(env.om, behind, "CAN-QUEUED-CANCELS")
    expect_equal(
        "CAN-QUEUED-CANCELS",
        (queued_behind.queue_position or 0) - 1,
        moved.queue_position,
        f"QueuePosition of request {behind} queued behind it",
    )


@pytest.mark.requirement("CAN-QUEUED-STATISTICS")
@pytest.mark.requires_control("statistics")
@pytest.mark.alone
def test_cancel_queued_is_abandoned_for_the_group(env):
    """Add, CancelRequest while queued → the group's Abandoned +1, Completed +0."""
    before = counters(env)
    placed = place(env, "Queued")
    expect_result(_cancel(env, placed.oid, if_allocated=False), "CAN-QUEUED-STATISTICS", True)
    expect_counts(
        "CAN-QUEUED-STATISTICS",
        before,
        counters(env),
        "service_groups",
        placed.group.id,
        {"abandoned": 1, "completed": 0},
    )


@pytest.mark.requirement("CAN-DO-NOT-REPORT")
@pytest.mark.requires_control("statistics")
@pytest.mark.alone
def test_do_not_report_suppresses_group_statistics_while_queued(env):
    """Add, CancelRequest DoNotReport=true while queued → Cancelled, no group counter moves."""
    before = counters(env)
    placed = place(env, "Queued")
    _, mark = record(env.om, placed.oid, "CAN-DO-NOT-REPORT")
    reply = _cancel(env, placed.oid, if_allocated=False, do_not_report=True)
    expect_result(reply, "CAN-DO-NOT-REPORT", True)
    _expect_cancelled(env, placed.oid, mark, "CAN-DO-NOT-REPORT")
    silent = dict.fromkeys(before.get("service_groups", {}).get(str(placed.group.id), {}), 0)
    expect_counts(
        "CAN-DO-NOT-REPORT",
        before,
        counters(env),
        "service_groups",
        placed.group.id,
        silent or {"offered": 0, "abandoned": 0, "completed": 0},
    )


# -- allocated / answered ----------------------------------------------------------------------
_CANCELS = {"AllocatedToAgent": "CAN-ALLOCATED-CANCELS", "AgentProcessing": "CAN-ANSWERED-CANCELS"}
_REFUSED = {"AllocatedToAgent": "CAN-ALLOCATED-REFUSED", "AgentProcessing": "CAN-ANSWERED-REFUSED"}
_STATISTICS = {
    "AllocatedToAgent": ("CAN-ALLOCATED-STATISTICS", {"abandoned": 1, "completed": 0}, 0),
    "AgentProcessing": ("CAN-ANSWERED-STATISTICS", {"abandoned": 0, "completed": 1}, 1),
}


def _by_state(table: dict[str, Any], *marks: Any) -> list[Any]:
    return [
        pytest.param(
            state,
            marks=[
                pytest.mark.requirement(
                    table[state] if isinstance(table[state], str) else table[state][0]
                ),
                *marks,
            ],
            id=state,
        )
        for state in _ALLOCATED
    ]


@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("state", _by_state(_CANCELS))
def test_cancel_if_allocated_removes_it_from_the_agent(env, state):
    """CancelIfAllocated=true on an allocated/answered request → true, Cancelled, agent free."""
    requirement = _CANCELS[state]
    placed = place(env, state)
    _, mark = record(env.om, placed.oid, requirement)
    expect_result(_cancel(env, placed.oid, if_allocated=True), requirement, True)
    _expect_cancelled(env, placed.oid, mark, requirement)
    _expect_agent_free(env, placed, requirement)


@pytest.mark.requires_control("agents", "statistics")
@pytest.mark.parametrize("state", _by_state(_STATISTICS))
@pytest.mark.alone
def test_cancel_if_allocated_statistics(env, state):
    """Cancel an allocated (answered) request → group Abandoned (Completed) +1; agent Offered
    +1, Answered +0 (+1)."""
    requirement, group_change, answered = _STATISTICS[state]
    before = counters(env)
    placed = place(env, state)
    assert placed.agent is not None
    expect_result(_cancel(env, placed.oid, if_allocated=True), requirement, True)
    after = counters(env)
    expect_counts(requirement, before, after, "service_groups", placed.group.id, group_change)
    expect_counts(
        requirement, before, after, "agents", placed.agent.id, {"offered": 1, "answered": answered}
    )


@pytest.mark.requirement("CAN-DO-NOT-REPORT-AFTER-ALLOCATION")
@pytest.mark.requires_control("agents", "statistics")
@pytest.mark.parametrize("state", _ALLOCATED)
@pytest.mark.alone
def test_do_not_report_is_ignored_after_allocation(env, state):
    """DoNotReport=true, CancelIfAllocated=true on an allocated/answered request → reported
    as without DoNotReport (group Abandoned/Completed +1, agent Offered +1)."""
    requirement = "CAN-DO-NOT-REPORT-AFTER-ALLOCATION"
    _, group_change, answered = _STATISTICS[state]
    before = counters(env)
    placed = place(env, state)
    assert placed.agent is not None
    reply = _cancel(env, placed.oid, if_allocated=True, do_not_report=True)
    expect_result(reply, requirement, True)
    after = counters(env)
    expect_counts(requirement, before, after, "service_groups", placed.group.id, group_change)
    expect_counts(
        requirement, before, after, "agents", placed.agent.id, {"offered": 1, "answered": answered}
    )


@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("state", _by_state(_REFUSED))
@pytest.mark.parametrize("do_not_report", [False, True], ids=["report", "do-not-report"])
@pytest.mark.alone
def test_cancel_not_if_allocated_changes_nothing(env, state, do_not_report):
    """CancelIfAllocated=false on an allocated/answered request → false; same status and
    agent, no event, no statistic."""
    requirement = _REFUSED[state]
    placed = place(env, state)
    before = snapshot(env, placed.oid, requirement, counters=True)
    reply = _cancel(env, placed.oid, if_allocated=False, do_not_report=do_not_report)
    expect_result(reply, requirement, False)
    expect_unchanged(requirement, before, snapshot_after(env, before, requirement))


# -- terminated, unknown, aged out -------------------------------------------------------------
@pytest.mark.requirement("CAN-TERMINATED")
@pytest.mark.parametrize(
    "state",
    [
        pytest.param("Cancelled", id="Cancelled"),
        pytest.param("Complete", marks=pytest.mark.requires_control("agents"), id="Complete"),
        pytest.param("Failed", marks=pytest.mark.requires_control("router"), id="Failed"),
    ],
)
@pytest.mark.parametrize("if_allocated", [True, False], ids=["if-allocated", "not-if-allocated"])
def test_cancel_terminated_request_raises_terminated_fault(env, state, if_allocated):
    """CancelRequest on a Complete/Failed/Cancelled request → OpenMediaRequestTerminatedFault
    (R4), and the request stays as it was."""
    placed = place(env, state)
    before = snapshot(env, placed.oid, "CAN-TERMINATED")
    reply = _cancel(env, placed.oid, if_allocated=if_allocated)
    expect_fault(reply, "CAN-TERMINATED", "OpenMediaRequestTerminatedFault")
    expect_unchanged("CAN-TERMINATED", before, snapshot_after(env, before, "CAN-TERMINATED"))


@pytest.mark.requirement("LIFE-TERMINAL-FINAL")
@pytest.mark.parametrize(
    "state",
    [
        pytest.param("Cancelled", id="Cancelled"),
        pytest.param("Complete", marks=pytest.mark.requires_control("agents"), id="Complete"),
        pytest.param("Failed", marks=pytest.mark.requires_control("router"), id="Failed"),
    ],
)
def test_a_cancel_refused_on_a_final_state_records_no_event(env, state):
    """R13: Complete, Failed and Cancelled are final. A CancelRequest on such a request (the
    terminated fault is ``CAN-TERMINATED``'s business) leaves no later event and no new status:
    the deterministic check beside the lifecycle state machine, which finds this only when
    its random steps happen to cancel a terminated request."""
    placed = place(env, state)
    before, mark = record(env.om, placed.oid, "LIFE-TERMINAL-FINAL")
    _cancel(env, placed.oid, if_allocated=True)
    later = events_since(env.om, placed.oid, mark, "LIFE-TERMINAL-FINAL")
    expect_equal("LIFE-TERMINAL-FINAL", [], later, f"events of the {state} request since then")
    after, _ = record(env.om, placed.oid, "LIFE-TERMINAL-FINAL")
    expect_equal("LIFE-TERMINAL-FINAL", before.status, after.status, "its Status")


@pytest.mark.requirement("CAN-UNKNOWN-ID")
@pytest.mark.parametrize("if_allocated", [True, False], ids=["if-allocated", "not-if-allocated"])
def test_cancel_never_issued_id(env, if_allocated):
    """CancelRequest OpenMediaID=<never issued> → InvalidOpenMediaIDFault."""
    reply = _cancel(env, NEVER_ISSUED, if_allocated=if_allocated)
    expect_fault(reply, "CAN-UNKNOWN-ID", "InvalidOpenMediaIDFault")


@pytest.mark.requirement("CAN-EXPIRED-ID")
def test_cancel_aged_out_id(env, real_time_cache):
    """Cancel, then advance the clock past DataExpiration → CancelRequest raises
    InvalidOpenMediaIDFault (R14), no longer the terminated fault.

    In real time (``--om-real-time``, no clock to drive): the real-time tier's cancelled request,
    cancelled once more after its "gone" observation (DataExpiration + margin after the first
    CancelRequest). Were status by ID still answering for it then, the cache kept it too long
    (the cache tests' failure): this test is blocked, not failed."""
    if real_time_cache is not None:
        _, gone = real_time_cache.observations()
        _expect_expired_cancel(gone.cancel_again, gone.terminated.by_id)
        return
    placed = place(env, "Cancelled")
    env.control.advance(env.profile.data_expiration_minutes * 60 + 1)
    reply = _cancel(env, placed.oid, if_allocated=True)
    expect_fault(reply, "CAN-EXPIRED-ID", "InvalidOpenMediaIDFault")


def _expect_expired_cancel(cancelled: Reply | None, by_id: Reply) -> None:
    """The second CancelRequest raised InvalidOpenMediaIDFault; blocked when status by ID, asked
    just before it, still knew the request (it had not aged out: CACHE-TERMINATED-EXPIRES)."""
    if cancelled is None:
        raise SuiteError("the real-time tier made no CancelRequest after its 'gone' observation")
    answered = cancelled.fault is not None and matches_fault(cancelled.fault, _INVALID_ID)
    still_known = by_id.fault is None or not matches_fault(by_id.fault, _INVALID_ID)
    if not answered and still_known:
        raise Blocked(
            "CACHE-TERMINATED-EXPIRES",
            f"status by ID raising {_INVALID_ID} once the request aged out",
            "status by ID still answered" if by_id.fault is None else by_id.fault.describe(),
            step="the cancelled request leaving the cache",
            exchange=by_id.exchange,
        )
    expect_fault(cancelled, "CAN-EXPIRED-ID", _INVALID_ID)


# -- faults of the environment -----------------------------------------------------------------
@pytest.mark.requirement("CAN-FAULT-NO-LICENSE")
@pytest.mark.requires_control("license")
def test_cancel_without_licence(env):
    """Licence gone: CancelRequest → NoLicenseFault; with the licence back it is still Queued."""
    placed = place(env, "Queued")
    before = snapshot(env, placed.oid, "CAN-FAULT-NO-LICENSE")
    with licence_lost(env.control):
        reply = _cancel(env, placed.oid, if_allocated=True)
    expect_fault(reply, "CAN-FAULT-NO-LICENSE", "NoLicenseFault")
    expect_unchanged(
        "CAN-FAULT-NO-LICENSE", before, snapshot_after(env, before, "CAN-FAULT-NO-LICENSE")
    )


@pytest.mark.requirement("CAN-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_cancel_without_router(env):
    """Router lost: CancelRequest on a request that was queued → RouterDisconnectedFault."""
    placed = place(env, "Queued")
    with router_lost(env.control):
        reply = _cancel(env, placed.oid, if_allocated=True)
    expect_fault(reply, "CAN-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")
