"""Groups and agents a test picks from the profile: an open group, one with an agent, two to
divert between, a name no group carries.

A profile that lacks what a test needs makes that test *not applicable* (``NotApplicable`` with
``NOT_IN_PROFILE``), never a failure of the target: the profile, not the target, is short.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.profile import Agent, Group, Profile
from conformance.profile.session import TargetSession
from conformance.verdicts import NotApplicable, NotApplicableReason

AGENTLESS = "an agentless open group"
"""What a queue test lacks on a target it cannot reset when the profile marks no group
``agentless = true`` (the feature a *not applicable* verdict names)."""


def open_group(profile: Profile, **flags: bool) -> Group:
    """The first open Open Media group of the tenant with the given flags."""
    return profile.group_with("open", **flags)


def queue_group(profile: Profile) -> Group:
    """An open group where requests queue: one the profile marks agentless if any (no agent can
    be offered the suite's requests there), else one without session priority if the profile
    has it."""
    for group in (
        *profile.groups_with("open", agentless=True, session_priority=False),
        *profile.groups_with("open", agentless=True),
        *profile.groups_with("open", session_priority=False),
    ):
        return group
    return profile.group_with("open")


@dataclass(frozen=True)
class QueueAt:
    """Where a test watches a queue, and how much of that queue is the test's own.

    ``whole``: the target was reset for the test (control feature ``scenario``) and no agent is
    logged on, so the queue holds the test's requests alone and QueuePositions are absolute
    (the first one queued is 1). Otherwise ``group`` is one the profile marks agentless on a
    server other clients may use too: what is judged is relative to the test's own requests, in
    the order it added them (each one behind the one before), never to the whole queue.
    """

    group: Group
    whole: bool

    def head(self, first: int | None) -> int:
        """The position the test's first request must have had: 1 on a queue that is the
        test's alone, else whatever the target said (at least 1, checked by the caller)."""
        return 1 if self.whole or first is None else first


def queue_at(
    target: TargetSession,
    *features: str,
    pick: Callable[[Profile], Group] | None = None,
    **flags: bool,
) -> QueueAt:
    """The group a queue test uses: on a target reset for it (control feature ``scenario``
    and the ``features`` its stronger form reads), ``pick(profile)`` (default: the first open
    group with ``flags``) as a whole queue; else the first open group with ``flags`` that the
    profile marks agentless; else *not applicable*, naming both ways to make it applicable."""
    profile = target.profile
    if target.has("scenario", *features):
        chosen = pick(profile) if pick is not None else open_group(profile, **flags)
        return QueueAt(chosen, whole=True)
    agentless = profile.groups_with("open", agentless=True, **flags)
    if agentless:
        return QueueAt(agentless[0], whole=False)
    wanted = ", ".join(f"{k}={v}" for k, v in flags.items())
    needs = ", ".join(("scenario", *features))
    raise NotApplicable(
        NotApplicableReason.NOT_IN_PROFILE,
        f"{AGENTLESS} ({wanted})" if wanted else AGENTLESS,
        "mark an open [[groups]] entry that no agent serves with agentless = true"
        f"{f' (and {wanted})' if wanted else ''}, or offer the control features {needs}",
    )


def group_with_agent(profile: Profile, **flags: bool) -> tuple[Group, Agent]:
    """The first open group (with the given flags) that has an agent, and its first agent."""
    for group in profile.groups_with("open", **flags):
        agents = profile.agents_in(group.id)
        if agents:
            return group, agents[0]
    raise NotApplicable(
        NotApplicableReason.NOT_IN_PROFILE,
        "profile agent",
        "no open Open Media group has an agent in the profile",
    )


def agent_tenant(profile: Profile, agent: Agent) -> int:
    """The agent's tenant as the profile's scenario configures it (its first group's tenant)."""
    for group in profile.groups:
        if agent.groups and group.id == agent.groups[0]:
            return group.tenant_id
    return profile.tenant.id


def two_groups(profile: Profile) -> tuple[Group, Group]:
    """Two open Open Media groups of the tenant: where a request starts, where it goes."""
    groups = profile.groups_with("open")
    if len(groups) < 2:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile groups",
            "two open Open Media groups of the tenant",
        )
    return groups[0], groups[1]


def groups_and_agent(profile: Profile) -> tuple[Group, Group, Agent]:
    """Groups A and B and an agent of A who is not in B (so B stays unserved)."""
    groups = profile.groups_with("open")
    for a in groups:
        for b in groups:
            agents = [x for x in profile.agents_in(a.id) if b.id not in x.groups]
            if a.id != b.id and agents:
                return a, b, agents[0]
    raise NotApplicable(
        NotApplicableReason.NOT_IN_PROFILE,
        "profile agent",
        "an agent of one open group who is not in another",
    )


def unknown_name(profile: Profile) -> str:
    """A ServiceGroupName no group of the profile carries."""
    names = {g.name for g in profile.groups}
    return next(f"NoSuchGroup{n}" for n in range(len(names) + 1) if f"NoSuchGroup{n}" not in names)
