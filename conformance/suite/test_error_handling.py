"""Error handling (section ``error-handling``): router loss (R15), licence loss, restart.

The description: when the service loses the router, every request not yet terminated becomes
Failed and every request is removed from the system (queues and agents); when the service
restarts, the history is cleared and every request is removed, even one an agent is handling;
resubmitting Failed requests is up to the client. R15 adds what the WSDL implies: while
disconnected, the operations that declare RouterDisconnectedFault raise it and the status
queries answer from the cache. Likewise, without a licence the operations that declare
NoLicenseFault raise it and the others answer.

Which operation declares which fault is read from our WSDL (``conformance.contract.
operations``); a fault test cites the requirement of the operation's own section that expects
the fault (``ADD-FAULT-ROUTER-DISCONNECTED`` …). "Removed from the agents" is seen as the agent
taking the next request at once; "removed from the queues" as the next request getting
QueuePosition 1. Everything here disturbs the target: *not applicable* without the control
feature, or when the profile sets ``safe_mode``. The losses are ``suite_support.outages``, the
requests placed in a state and read back ``suite_support.requests``.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import (
    check_exchange,
    expect_equal,
    expect_fault,
    expect_request_status,
    expect_value,
)
from conformance.profile import Agent, Group
from conformance.suite_support.every_operation import (
    NEEDS_REQUEST,
    NO_LICENSE,
    ROUTER_DISCONNECTED,
    call,
    declaring,
    not_declaring,
    op_param,
    prepare,
    proceeds,
    sample_for,
    section_requirement,
)
from conformance.suite_support.outages import licence_lost, router_blip, router_lost
from conformance.suite_support.requests import (
    Env,
    Placed,
    add,
    events_since,
    place,
    record,
    send_add,
)
from conformance.verdicts import ConformanceFailure


def expect_next_request(env: Env, group: Group, requirement: str, agent: Agent | None) -> None:
    """A new request of ``group`` goes to ``agent`` at once (the loss removed the request the
    agent had), or with no agent is first in the queue (the loss emptied the queue)."""
    added = add(env.om, group)
    now, _ = record(env.om, added.oid, requirement)
    if agent is None:
        expect_equal(
            requirement,
            1,
            added.queue_position,
            f"QueuePosition of a new request in group {group.id}",
            added.reply.exchange,
        )
    else:
        expect_equal(
            requirement,
            ("AllocatedToAgent", agent.id),
            (now.status, now.agent_id),
            f"(Status, AgentID) of a new request {added.oid} of group {group.id}",
        )


_STATE = {
    "Queued": (),
    "AllocatedToAgent": (pytest.mark.requires_control("agents"),),
    "AgentProcessing": (pytest.mark.requires_control("agents"),),
    "Complete": (pytest.mark.requires_control("agents"),),
    "Cancelled": (),
    "Failed": (),
}


def _states(*names: str) -> list[Any]:
    return [pytest.param(name, id=name, marks=_STATE[name]) for name in names]


# -- router loss -------------------------------------------------------------------------------
@pytest.mark.requirement("ERR-ROUTER-LOST-FAILED")
@pytest.mark.requires_control("router")
@pytest.mark.parametrize("state", _states("Queued", "AllocatedToAgent", "AgentProcessing"))
def test_router_loss_fails_unterminated_request(env, state):
    """A queued / allocated / answered request, router lost → one Failed event, Status Failed."""
    placed = place(env, state)
    _, mark = record(env.om, placed.oid, "ERR-ROUTER-LOST-FAILED")
    router_blip(env.control)
    expect_equal(
        "ERR-ROUTER-LOST-FAILED",
        ["Failed"],
        events_since(env.om, placed.oid, mark, "ERR-ROUTER-LOST-FAILED"),
        f"events of request {placed.oid} ({state}) after the router was lost",
    )
    now, _ = record(env.om, placed.oid, "ERR-ROUTER-LOST-FAILED")
    expect_equal("ERR-ROUTER-LOST-FAILED", "Failed", now.status, "Status")


@pytest.mark.requirement("ERR-ROUTER-LOST-REMOVED")
@pytest.mark.requires_control("router")
def test_router_loss_empties_the_queue(env):
    """Two requests queued, router lost and back → a new request is first in the queue."""
    group = env.profile.group_with("open")
    place(env, "Queued", group=group)
    place(env, "Queued", group=group)
    router_blip(env.control)
    expect_next_request(env, group, "ERR-ROUTER-LOST-REMOVED", None)


@pytest.mark.requirement("ERR-ROUTER-LOST-REMOVED")
@pytest.mark.requires_control("router", "agents")
@pytest.mark.parametrize("state", ["AllocatedToAgent", "AgentProcessing"])
def test_router_loss_frees_the_agent(env, state):
    """An agent's only session (allocated / answered), router lost and back → the agent takes
    the next request of the group at once."""
    placed = place(env, state)
    router_blip(env.control)
    expect_next_request(env, placed.group, "ERR-ROUTER-LOST-REMOVED", placed.agent)


@pytest.mark.requirement("ERR-ROUTER-LOST-TERMINATED-KEPT")
@pytest.mark.requires_control("router")
@pytest.mark.parametrize("state", _states("Complete", "Cancelled", "Failed"))
def test_router_loss_keeps_terminated_request(env, state):
    """A Complete / Cancelled / Failed request, router lost → same Status, no new event."""
    placed = place(env, state)
    _, mark = record(env.om, placed.oid, "ERR-ROUTER-LOST-TERMINATED-KEPT")
    router_blip(env.control)
    now, _ = record(env.om, placed.oid, "ERR-ROUTER-LOST-TERMINATED-KEPT")
    expect_equal("ERR-ROUTER-LOST-TERMINATED-KEPT", state, now.status, "Status")
    expect_equal(
        "ERR-ROUTER-LOST-TERMINATED-KEPT",
        [],
        events_since(env.om, placed.oid, mark, "ERR-ROUTER-LOST-TERMINATED-KEPT"),
        f"events of request {placed.oid} ({state}) after the router was lost",
    )


@pytest.mark.requirement("ERR-ROUTER-STATUS-FROM-CACHE")
@pytest.mark.requires_control("router")
@pytest.mark.parametrize("op", [op_param(op) for op in not_declaring(ROUTER_DISCONNECTED)])
def test_status_queries_answer_while_disconnected(env, op):
    """Router lost: each operation that does not declare RouterDisconnectedFault answers from
    the cache, the request's Failed event included."""
    sample = prepare(env.om, env.profile, op)
    oid = sample.oid or place(env, "Queued", group=sample.group).oid
    with router_lost(env.control):
        reply = call(env.raw_om, sample)  # judged here first, then by the wire checks
    value = expect_value(reply, "ERR-ROUTER-STATUS-FROM-CACHE")
    seen = [r.status for r in getattr(value, "requests", ()) if r.id == oid]
    if "Failed" not in seen:
        raise ConformanceFailure(
            "ERR-ROUTER-STATUS-FROM-CACHE",
            f"request {oid} reported Failed by {op.name} while disconnected",
            f"its statuses in the answer: {seen or 'none'}",
            exchange=reply.exchange,
        )
    check_exchange(reply.exchange, op)


def _fault_params(fault: str, then: str) -> list[Any]:
    return [
        op_param(op, pytest.mark.requirement(section_requirement(op, fault), then))
        for op in declaring(fault)
    ]


@pytest.mark.requires_control("router")
@pytest.mark.parametrize("op", _fault_params(ROUTER_DISCONNECTED, "ERR-ROUTER-RECONNECT"))
def test_router_loss_and_reconnect(env, op):
    """Router lost: an operation that declares RouterDisconnectedFault raises it; reconnected,
    the same call (on a fresh request) is processed again."""
    sample = prepare(env.om, env.profile, op)
    with router_lost(env.control):
        reply = call(env.om, sample)
    expect_fault(reply, section_requirement(op, ROUTER_DISCONNECTED), ROUTER_DISCONNECTED)
    again = prepare(env.om, env.profile, op)
    proceeds(env.raw_om, again, "ERR-ROUTER-RECONNECT")


@pytest.mark.requirement("ERR-ROUTER-RECONNECT")
@pytest.mark.requires_control("router")
def test_failed_request_resubmitted(env):
    """Queued request failed by a router loss; reconnected, the client adds it again → Success
    with a new OpenMediaID, and the old one stays Failed."""
    placed = place(env, "Queued")
    router_blip(env.control)
    reply = send_add(env.om, ServiceGroupID=placed.group.id)
    value = expect_request_status(reply, "ERR-ROUTER-RECONNECT", "Success")
    new = getattr(value, "open_media_id", None)
    if new in (None, 0, placed.oid):
        raise ConformanceFailure(
            "ERR-ROUTER-RECONNECT",
            f"a new OpenMediaID (not {placed.oid})",
            f"OpenMediaID {new}",
            exchange=reply.exchange,
        )
    old, _ = record(env.om, placed.oid, "ERR-ROUTER-RECONNECT")
    expect_equal("ERR-ROUTER-RECONNECT", "Failed", old.status, "old Status")


# -- licence loss ------------------------------------------------------------------------------
@pytest.mark.requires_control("license")
@pytest.mark.parametrize("op", _fault_params(NO_LICENSE, "ERR-LICENSE-RESTORED"))
def test_licence_loss_and_return(env, op):
    """No licence: an operation that declares NoLicenseFault raises it; licence back, the same
    call is processed."""
    sample = prepare(env.om, env.profile, op)
    with licence_lost(env.control):
        reply = call(env.om, sample)
    expect_fault(reply, section_requirement(op, NO_LICENSE), NO_LICENSE)
    proceeds(env.raw_om, sample, "ERR-LICENSE-RESTORED")


@pytest.mark.requirement("ERR-LICENSE-QUERIES-UNAFFECTED")
@pytest.mark.requires_control("license")
@pytest.mark.parametrize("op", [op_param(op) for op in not_declaring(NO_LICENSE)])
def test_licence_loss_spares_other_operations(env, op):
    """No licence: an operation that does not declare NoLicenseFault is processed normally."""
    sample = prepare(env.om, env.profile, op)
    with licence_lost(env.control):
        proceeds(env.raw_om, sample, "ERR-LICENSE-QUERIES-UNAFFECTED")


# -- restart -----------------------------------------------------------------------------------
_CACHE_QUERIES = not_declaring(ROUTER_DISCONNECTED)
_BY_ID = [op_param(op) for op in _CACHE_QUERIES if op.name in NEEDS_REQUEST]
_LISTINGS = [op_param(op) for op in _CACHE_QUERIES if op.name not in NEEDS_REQUEST]


def _lives(env: Env) -> list[Placed]:
    states = ["AgentProcessing"] if env.has("agents") else []
    states += ["Queued", "Cancelled"]  # after the agent is busy: these stay queued
    return [place(env, state) for state in states]


@pytest.mark.requirement("ERR-RESTART-HISTORY-CLEARED")
@pytest.mark.requires_control("restart")
@pytest.mark.parametrize("op", _BY_ID)
def test_restart_forgets_issued_ids(env, op):
    """Requests queued / cancelled / answered, service restarted → by ID each raises
    InvalidOpenMediaIDFault."""
    placed = _lives(env)
    env.control.restart()
    for item in placed:
        reply = call(env.om, sample_for(env.profile, op, item.oid))
        expect_fault(reply, "ERR-RESTART-HISTORY-CLEARED", "InvalidOpenMediaIDFault")


@pytest.mark.requirement("ERR-RESTART-HISTORY-CLEARED")
@pytest.mark.requires_control("restart")
@pytest.mark.parametrize("op", _LISTINGS)
def test_restart_empties_the_listings(env, op):
    """Requests queued / cancelled / answered, service restarted → the all-status and by-time
    answers leave every one of them out."""
    old = sorted(item.oid for item in _lives(env))
    env.control.restart()
    sample = prepare(env.om, env.profile, op)
    reply = call(env.om, sample)
    value = expect_value(reply, "ERR-RESTART-HISTORY-CLEARED")
    kept = sorted({r.id for r in getattr(value, "requests", ()) if r.id in old})
    expect_equal(
        "ERR-RESTART-HISTORY-CLEARED",
        [],
        kept,
        f"requests of {old} listed after the restart",
        reply.exchange,
    )


@pytest.mark.requirement("ERR-RESTART-REMOVED")
@pytest.mark.requires_control("restart")
def test_restart_empties_the_queue(env):
    """Two requests queued, service restarted → a new request is first in the queue."""
    group = env.profile.group_with("open")
    place(env, "Queued", group=group)
    place(env, "Queued", group=group)
    env.control.restart()
    expect_next_request(env, group, "ERR-RESTART-REMOVED", None)


@pytest.mark.requirement("ERR-RESTART-REMOVED")
@pytest.mark.requires_control("restart", "agents")
@pytest.mark.parametrize("state", ["AllocatedToAgent", "AgentProcessing"])
def test_restart_frees_the_agent(env, state):
    """An agent handling a request (allocated / answered), service restarted → the request is
    gone from the agent's desktop and the agent takes the next request at once."""
    placed = place(env, state)
    env.control.restart()
    expect_equal(
        "ERR-RESTART-REMOVED",
        None,
        env.control.request(placed.oid),
        f"request {placed.oid} as its agent's desktop shows it after the restart",
    )
    expect_next_request(env, placed.group, "ERR-RESTART-REMOVED", placed.agent)


@pytest.mark.requirement("ADD-OPENMEDIAID-UNIQUE")
@pytest.mark.requires_control("restart")
def test_ids_not_reused_after_restart(env):
    """Three AddRequests, service restarted, three more → no OpenMediaID is issued twice."""
    group = env.profile.group_with("open")
    before = [place(env, "Queued", group=group).oid for _ in range(3)]
    env.control.restart()
    after = [place(env, "Queued", group=group).oid for _ in range(3)]
    expect_equal(
        "ADD-OPENMEDIAID-UNIQUE",
        [],
        sorted(set(before) & set(after)),
        f"IDs issued both before ({before}) and after ({after}) the restart",
    )
