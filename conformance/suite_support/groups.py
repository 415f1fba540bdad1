"""Groups and agents a test picks from the profile: an open group, one with an agent, two to
divert between, a name no group carries.

A profile that lacks what a test needs makes that test *not applicable* (``NotApplicable`` with
``NOT_IN_PROFILE``), never a failure of the target: the profile, not the target, is short.
"""

from __future__ import annotations

from conformance.profile import Agent, Group, Profile
from conformance.verdicts import NotApplicable, NotApplicableReason


def open_group(profile: Profile, **flags: bool) -> Group:
    """The first open Open Media group of the tenant with the given flags."""
    return profile.group_with("open", **flags)


def queue_group(profile: Profile) -> Group:
    """An open group where requests queue: one without session priority if the profile has it."""
    plain = profile.groups_with("open", session_priority=False)
    return plain[0] if plain else profile.group_with("open")


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
