"""What the error-handling tests (``test_error_handling``) act and observe with.

The router and the licence are lost inside a ``with`` block, so a failing check never leaves
the target disconnected for the next test. Requests are placed as preconditions (anything but
the state asked for is a ``SuiteError``: the suite could not test), and what a loss or a
restart did is read back through the status queries: the request's record, its events since a
mark, and where the next request of a group goes ("removed from the agents" is that agent
taking it at once, "removed from the queues" is it getting QueuePosition 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conformance.checks import expect_equal, expect_value
from conformance.profile import Agent, Group, Profile
from conformance.suite.every_operation import IVR
from conformance.suite_support.request_steps import added_id
from conformance.verdicts import SuiteError
from conformance.wire.values import OpenMediaRequest, Reply


@dataclass
class Env:
    """The clients, profile and target of one test; ``raw_om`` sends without the wire checks,
    for a test that judges the answer first and checks its exchange itself."""

    om: Any
    raw_om: Any
    control: Any
    profile: Profile
    target: Any


# -- requests in a known state -----------------------------------------------------------------
@dataclass(frozen=True)
class Placed:
    """A request ``place`` walked into a state: its group, and the agent it went to (if any)."""

    oid: int
    group: Group
    agent: Agent | None


def add_request(env: Env, group: Group) -> tuple[int, Reply]:
    """AddRequest as a precondition: the new OpenMediaID and the reply."""
    reply: Reply = env.om.add_request(ServiceGroupID=group.id, IVRInfo=list(IVR))
    return added_id(reply, f"AddRequest to group {group.id}"), reply


def record(env: Env, oid: int, requirement: str) -> tuple[OpenMediaRequest | None, datetime]:
    """The request's latest record (``None`` if the answer has none) and the TimeStamp."""
    reply = env.om.get_status_by_id(oid)
    value = expect_value(reply, requirement)
    records = [r for r in getattr(value, "requests", ()) if r.id == oid]
    stamp = getattr(value, "timestamp", None)
    if stamp is None:
        raise SuiteError(f"precondition: no TimeStamp in the status of request {oid}")
    return (records[-1] if records else None), stamp


def require(env: Env, oid: int, status: str, agent: Agent | None = None) -> None:
    """The request is in ``status`` (with ``agent``), else the suite cannot test."""
    reply = env.om.get_status_by_id(oid)
    records = getattr(reply.value, "requests", ())
    seen = (records[-1].status, records[-1].agent_id) if records else (reply.fault, None)
    if seen[0] != status or (agent is not None and seen[1] != agent.id):
        raise SuiteError(f"precondition: request {oid} should be {status}; the target says {seen}")


def events_since(env: Env, oid: int, mark: datetime, requirement: str) -> list[str]:
    """Statuses of ``oid``'s events later than ``mark`` (by time; R12: exclusive)."""
    value = expect_value(env.om.get_requests_by_time(mark), requirement)
    return [r.status for r in getattr(value, "requests", ()) if r.id == oid and r.timestamp > mark]


def expect_next_request(env: Env, group: Group, requirement: str, agent: Agent | None) -> None:
    """A new request of ``group`` goes to ``agent`` at once, or (no agent) is first in queue."""
    oid, reply = add_request(env, group)
    value = reply.value
    now, _ = record(env, oid, requirement)
    if agent is None:
        expect_equal(
            requirement,
            1,
            getattr(value, "queue_position", None),
            f"QueuePosition of a new request in group {group.id}",
            reply.exchange,
        )
    else:
        expect_equal(
            requirement,
            ("AllocatedToAgent", agent.id),
            (now.status, now.agent_id) if now else None,
            f"(Status, AgentID) of a new request {oid} of group {group.id}",
        )
