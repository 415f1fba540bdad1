"""Lives of a request: the state sequences the status-request modules put requests through.

Each life is reached the way a real system gets there (an agent logs on, answers, completes;
CancelRequest; the router goes away; a forced preferred agent never becomes free), and names
the states the request enters in order, which is what the status calls must then report (R13).
A life needs the control features it names; ``life_params`` marks its test case with them, so a
target without them reports that case *not applicable*.

Lives that involve an agent start with the agent logged off and the request queued, so the
allocation is a transition of its own (the at-once allocation is R13's open question and has
its own test). After a terminal life the agent is logged off again, so several lives can run in
one test as long as each agent-holding life (``allocated``, ``processing``) is the last one that
uses its agent and no queued request waits that the agent could take when it logs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from conformance.checks.status import Expected, expect_entered
from conformance.profile import Agent, Group, Profile
from conformance.suite_support.groups import agent_tenant, group_with_agent, queue_group
from conformance.suite_support.outages import router_blip
from conformance.suite_support.requests import Env, add, cancel, precondition, state_of
from conformance.suite_support.status_queries import EXPIRY_MARGIN

TERMINAL = ("Complete", "Failed", "Cancelled")
_Q, _A, _P = "Queued", "AllocatedToAgent", "AgentProcessing"


@dataclass(frozen=True)
class Life:
    """A named state sequence and the control features needed to make it happen."""

    name: str
    features: tuple[str, ...]
    statuses: tuple[str, ...]


LIVES = {
    life.name: life
    for life in (
        Life("queued", (), (_Q,)),
        Life("allocated", ("agents",), (_Q, _A)),
        Life("processing", ("agents",), (_Q, _A, _P)),
        Life("complete", ("agents",), (_Q, _A, _P, "Complete")),
        Life("cancelled-queued", (), (_Q, "Cancelled")),
        Life("cancelled-allocated", ("agents",), (_Q, _A, "Cancelled")),
        Life("cancelled-processing", ("agents",), (_Q, _A, _P, "Cancelled")),
        Life("failed-router", ("router",), (_Q, "Failed")),
        Life("failed-router-processing", ("agents", "router"), (_Q, _A, _P, "Failed")),
        Life("failed-preferred-timeout", ("agents", "clock"), (_Q, "Failed")),
    )
}


@dataclass(frozen=True)
class Lived:
    """A request that went through a life: its ID, group, handling agent, states, and the
    QueuePosition AddRequest answered for it."""

    oid: int
    group: Group
    agent: Agent | None
    statuses: tuple[str, ...]
    added_position: int | None

    @property
    def final(self) -> str:
        return self.statuses[-1]

    def expected(self, profile: Profile) -> Expected:
        """What every record of the request must say (``expect_record_fields``)."""
        agent = self.agent
        fields = None if agent is None else (agent.id, agent_tenant(profile, agent), agent.logon_id)
        return Expected(self.oid, self.group.id, fields, self.added_position)


def life_params(*names: str, marks: tuple[Any, ...] = ()) -> list[Any]:
    """``pytest.param``s of the named lives, each marked with the control features it needs."""
    params = []
    for name in names:
        features = LIVES[name].features
        life_marks = [pytest.mark.requires_control(*features)] if features else []
        params.append(pytest.param(name, marks=[*life_marks, *marks], id=name))
    return params


def available(env: Env, *names: str) -> list[str]:
    """The named lives whose control features the target offers (in the given order)."""
    return [name for name in names if env.has(*LIVES[name].features)]


def live(env: Env, name: str) -> Lived:
    """Put a fresh request through the life ``name``; ``SuiteError`` if it does not get there."""
    life = LIVES[name]
    if name == "failed-preferred-timeout":
        return _preferred_timeout(env, life)
    agent: Agent | None = None
    if _A in life.statuses:
        group, agent = group_with_agent(env.profile)
    else:
        group = queue_group(env.profile)
    added = add(env.om, group)
    oid = added.oid
    precondition(env, oid, _Q)
    if agent is not None:
        env.control.logon(agent.id)
        precondition(env, oid, _A, agent.id)
        if _P in life.statuses:
            env.control.answer(oid)
            precondition(env, oid, _P, agent.id)
    final = life.statuses[-1]
    if final == "Complete":
        env.control.complete(oid)
    elif final == "Cancelled":
        cancel(env.om, oid)
    elif final == "Failed":
        router_blip(env.control)
    expect_entered(oid, final, state_of(env, oid)[0])
    if agent is not None and final in TERMINAL:
        env.control.logoff(agent.id)
    return Lived(oid, group, agent, life.statuses, added.queue_position)


def _preferred_timeout(env: Env, life: Life) -> Lived:
    """Forced to a preferred agent who stays busy: Queued, then Failed after the group's time."""
    group, agent = group_with_agent(env.profile, preferred_agent=True)
    env.control.logon(agent.id)
    busy = add(env.om, group).oid
    precondition(env, busy, _A, agent.id)
    added = add(env.om, group, PreferredAgentID=agent.id, ForceToPreferredAgent=True)
    oid = added.oid
    precondition(env, oid, _Q)
    wait = timedelta(seconds=group.preferred_agent_timeout_s) + EXPIRY_MARGIN
    env.control.advance(wait.total_seconds())
    expect_entered(oid, "Failed", state_of(env, oid)[0])
    return Lived(oid, group, None, life.statuses, added.queue_position)
