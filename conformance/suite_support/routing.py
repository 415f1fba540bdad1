"""What the routing tests (``test_routing``, ``test_set_options``) share: a world built from
the profile, acting on requests, and reading where each request is.

``build`` posts a variant of the profile (its own IDs, the flags and memberships a rule needs);
``Routing`` logs agents on, adds, finishes, cancels and diverts requests as preconditions (a
refusal there is a ``SuiteError``: the suite could not test) and states where requests must be,
reading each twice, from the SOAP status record and from the control plane's
``GET /requests/{id}``, so the Actual line shows a disagreement between the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.checks import expect_result, expect_value
from conformance.checks.expect import summary
from conformance.checks.requests import expect_where
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Agent, Group, Profile
from conformance.suite_support.requests import ADD_TYPE, add, cancel
from conformance.verdicts import NotApplicable, NotApplicableReason, SuiteError
from conformance.wire import ControlClient, OpenMediaClient, Reply

DEFAULT_MAX = int(CONSTRAINTS.defaults["max_number_of_sessions"])
"""MaxNumberOfSessions in force when SetOptions set none (constraints.toml)."""
PRIORITY = CONSTRAINTS.range(ADD_TYPE, "SessionPriority")
TYPE_1, TYPE_2, TYPE_3 = 1, 2, 3
"""Session types: 1 and 2 as in the description's AllowDifferentTypes example, 3 a bystander."""
DONT_ALLOW = CONSTRAINTS.option_values["AllowDifferentTypes"]["dont_allow"]
ALLOW = CONSTRAINTS.option_values["AllowDifferentTypes"]["allow"]
NOT_GIVEN = (None, *CONSTRAINTS.not_given(ADD_TYPE, "SessionPriority"))
"""SessionPriority not given: absent (``None``), or a value the description reads as none."""


# -- the world of one test ---------------------------------------------------------------------
@dataclass(frozen=True)
class Topology:
    """The groups and agents a test asked for (agents in ascending ID) and the profile posted."""

    profile: Profile
    groups: tuple[Group, ...]
    agents: tuple[Agent, ...]

    @property
    def parts(self) -> tuple[tuple[Group, ...], tuple[Agent, ...]]:
        """``(groups, agents)``: what a test unpacks, ``(g,), (x, y) = world(...).parts``."""
        return self.groups, self.agents


def build(
    make_scenario: Callable[..., Profile],
    base: Profile,
    groups: Sequence[dict[str, bool]],
    serves: Sequence[Sequence[int]],
    *,
    reverse_listing: bool = False,
) -> Topology:
    """Post a variant of ``base``: its first open groups get the flags of ``groups`` (missing
    flags are false), its lowest-ID agents serve the groups whose indexes ``serves`` lists.

    IDs stay the profile's; other agents leave the chosen groups (they would start logged off
    anyway). ``reverse_listing`` lists the agents in descending ID order, so a target cannot
    pass a tie-break by the order of its configuration.
    """
    open_groups = base.groups_with("open")
    agents = sorted(base.agents, key=lambda a: a.id)
    if len(open_groups) < len(groups) or len(agents) < len(serves):
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile groups/agents",
            f"the test needs {len(groups)} open group(s) and {len(serves)} agent(s)",
        )
    chosen = tuple(
        dataclasses.replace(
            group,
            preferred_agent=flags.get("preferred_agent", False),
            session_priority=flags.get("session_priority", False),
        )
        for group, flags in zip(open_groups, groups, strict=False)
    )
    ids = {g.id for g in chosen}
    members = tuple(
        dataclasses.replace(agent, groups=tuple(chosen[i].id for i in indexes))
        for agent, indexes in zip(agents, serves, strict=False)
    )
    others = tuple(
        dataclasses.replace(a, groups=tuple(g for g in a.groups if g not in ids))
        for a in agents[len(serves) :]
    )
    listed = members + others
    profile = make_scenario(
        groups=tuple(next((c for c in chosen if c.id == g.id), g) for g in base.groups),
        agents=tuple(reversed(listed)) if reverse_listing else listed,
    )
    return Topology(profile, chosen, members)


class Routing:
    """One test's clients and the labels of its requests (``A#12``) for readable failures."""

    def __init__(self, om: OpenMediaClient, control: ControlClient) -> None:
        self.om = om
        self.control = control
        self.labels: dict[int, str] = {}

    # -- acting ------------------------------------------------------------------------------
    def logon(self, *agents: Agent) -> None:
        """The agents log on in the order given: the order is an event order routing reads."""
        for agent in agents:
            self.control.logon(agent.id)

    def add_reply(self, label: str, group: Group, **members: Any) -> tuple[int, Reply]:
        """AddRequest of the request ``label``; anything but Success blocks the test."""
        added = add(self.om, group, label=label, **members)
        self.labels[added.oid] = f"{label}#{added.oid}"
        return added.oid, added.reply

    def add(self, label: str, group: Group, **members: Any) -> int:
        return self.add_reply(label, group, **members)[0]

    def finish(self, oid: int) -> None:
        """The agent answers and completes the request (control plane)."""
        self.control.answer(oid)
        self.control.complete(oid)

    def cancel(self, oid: int) -> None:
        cancel(self.om, oid, self.labels.get(oid, str(oid)))

    def divert(self, oid: int, group: Group) -> None:
        reply = self.om.divert_request(OpenMediaID=oid, ServiceGroupID=group.id)
        if reply.fault is not None or getattr(reply.value, "request_status", None) != "Success":
            shown = reply.fault.describe() if reply.fault is not None else summary(reply.value)
            raise SuiteError(f"precondition: DivertRequest {self.labels.get(oid, oid)}: {shown}")

    # -- observing ---------------------------------------------------------------------------
    def state(self, oid: int, requirement: str) -> str:
        """``agent 501`` / ``processing 501`` / ``queue 2`` / a status name, from the SOAP
        record; ``(control: ...)`` is appended when the control plane tells otherwise."""
        value = expect_value(self.om.get_status_by_id(oid), requirement)
        records = [r for r in getattr(value, "requests", ()) if r.id == oid]
        if len(records) != 1:
            return f"{len(records)} status records"
        record = records[0]
        shown = _shown(record.status, record.agent_id, record.queue_position)
        view = self.control.request(oid)
        if view is None:
            return shown + " (control: unknown id)"
        told = (view.get("status"), view.get("agent_id"))
        if told[0] != record.status or (
            record.status in _WITH_AGENT and told[1] != record.agent_id
        ):
            shown += f" (control: {told[0]} agent {told[1]})"
        return shown

    def expect(self, requirement: str, expected: dict[int, str]) -> None:
        """Each request in the state given (``on(agent)``, ``queued(n)``, a status name)."""
        actual = [
            f"{self.labels.get(oid, oid)}: {self.state(oid, requirement)}" for oid in expected
        ]
        wanted = [f"{self.labels.get(oid, oid)}: {text}" for oid, text in expected.items()]
        expect_where(requirement, wanted, actual)


_WITH_AGENT = ("AllocatedToAgent", "AgentProcessing")


def _shown(status: str | None, agent_id: int | None, position: int | None) -> str:
    if status == "AllocatedToAgent":
        return f"agent {agent_id}"
    if status == "AgentProcessing":
        return f"processing {agent_id}"
    if status == "Queued":
        return f"queue {position}"
    return str(status)


def on(agent: Agent) -> str:
    return f"agent {agent.id}"


def queued(position: int) -> str:
    return f"queue {position}"


def prefer(agent: Agent, by: str) -> dict[str, Any]:
    """The AddRequest member that names ``agent`` as preferred, ``by`` its ``id`` or logon ID."""
    return (
        {"PreferredAgentID": agent.id} if by == "id" else {"PreferredAgentLogonID": agent.logon_id}
    )


def set_options(om: OpenMediaClient, requirement: str, **members: Any) -> None:
    """SetOptions with valid values; anything but true fails the caller's requirement."""
    expect_result(om.set_options(**members), requirement, True)


def one_session_each(om: OpenMediaClient, requirement: str) -> None:
    """Steps that assume one session per agent: the default does it, else SetOptions."""
    if DEFAULT_MAX != 1:
        set_options(om, requirement, MaxNumberOfSessions=1)


def world_factory(make_scenario: Callable[..., Profile], base: Profile) -> Callable[..., Topology]:
    """``world(groups, serves, reverse_listing=False)``: ``build`` on ``base``."""

    def make(
        groups: Sequence[dict[str, bool]], serves: Sequence[Sequence[int]], **kw: Any
    ) -> Topology:
        return build(make_scenario, base, groups, serves, **kw)

    return make
