"""DivertRequest (section ``divert``): moving a request to another Open Media group.

What a conforming target does, from the description and the readings: Success moves the request
(queued or allocated: an allocated one leaves its agent without the agent's confirmation), keeps
its queue time, and is reported Overflowed Out / Overflowed In; ServiceGroupID wins over
TenantID + ServiceGroupName; no group identification at all is InvalidDataException (R6, R3);
a group that is unknown or not Open Media is InvalidGroup, a closed one GroupClosed, one of a
disabled tenant TenantDisabled, an unknown OpenMediaID InvalidID (R1); AgentLoggedOff is never
an answer. Every refusal leaves the request where it was: same group, agent, queue time, no
event, no statistic. ServiceGroupName is limited in UTF-16 code units (R2) like AddRequest's.

Groups, tenants and agents come from the profile; states and observations that need the control
plane (agents, statistics, licence, router) are *not applicable* without it. The tables of
cases live in ``suite_support.divert_cases``; the snapshot a refusal is compared with is
``suite_support.requests.snapshot``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import expect_equal, expect_fault, expect_request_status, expect_value
from conformance.checks.requests import (
    expect_counts,
    expect_diverted,
    expect_in_group,
    expect_unchanged,
)
from conformance.profile import Group
from conformance.strategies import invalid_members, text_up_to_units
from conformance.suite_support.divert_cases import (
    NAME_LIMIT,
    NAMES_AT,
    NAMES_PAST,
    REFUSALS,
    VIOLATION,
    refused_members,
)
from conformance.suite_support.groups import groups_and_agent, two_groups
from conformance.suite_support.outages import licence_lost, router_lost
from conformance.suite_support.requests import (
    NEVER_ISSUED,
    Env,
    add,
    place,
    precondition,
    record,
    snapshot,
    snapshot_after,
)
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason
from conformance.wire.values import OpenMediaRequest, Reply

NOTHING = "DIV-FAILURE-CHANGES-NOTHING"
_PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def divert(env: Env, oid: int, **members: Any) -> Reply:
    return env.om.divert_request(OpenMediaID=oid, **members)


def in_group(env: Env, oid: int, group: Group, requirement: str) -> OpenMediaRequest:
    """After a Success: the request's record names ``group`` and it is still live."""
    now, _ = record(env.om, oid, requirement)
    expect_in_group(now, group.id, requirement)
    return now


# -- success -----------------------------------------------------------------------------------
@pytest.mark.requirement("DIV-QUEUED-BY-GROUP-ID")
def test_divert_queued_by_group_id(env):
    """DivertRequest OpenMediaID + ServiceGroupID of B → Success, same ID; record names B."""
    a, b = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    expect_diverted(divert(env, oid, ServiceGroupID=b.id), oid, "DIV-QUEUED-BY-GROUP-ID")
    in_group(env, oid, b, "DIV-QUEUED-BY-GROUP-ID")


@pytest.mark.requirement("DIV-BY-GROUP-NAME")
def test_divert_by_tenant_and_group_name(env):
    """DivertRequest TenantID + ServiceGroupName of B, no ServiceGroupID → Success; in B."""
    a, b = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    reply = divert(env, oid, TenantID=b.tenant_id, ServiceGroupName=b.name)
    expect_diverted(reply, oid, "DIV-BY-GROUP-NAME")
    in_group(env, oid, b, "DIV-BY-GROUP-NAME")


@pytest.mark.requirement("DIV-PRECEDENCE-GROUP-ID")
def test_group_id_wins_over_tenant_and_name(env):
    """ServiceGroupID of B with TenantID + ServiceGroupName of A (its own group) → in B."""
    a, b = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    reply = divert(env, oid, ServiceGroupID=b.id, TenantID=a.tenant_id, ServiceGroupName=a.name)
    expect_diverted(reply, oid, "DIV-PRECEDENCE-GROUP-ID")
    in_group(env, oid, b, "DIV-PRECEDENCE-GROUP-ID")


@pytest.mark.requirement("DIV-ALLOCATED", "LIFE-DIVERT-REQUEUES")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("state", ["AllocatedToAgent", "AgentProcessing"])
def test_divert_takes_the_request_from_its_agent(env, state):
    """Allocated (answered) to X in A, DivertRequest to B (no agent there) → Success; Queued in
    B with no agent, in the record and the desktop view; X takes a new request of A at once."""
    a, b, agent = groups_and_agent(env.profile)
    env.control.logon(agent.id)
    oid = add(env.om, a).oid
    precondition(env, oid, "AllocatedToAgent", agent.id)
    if state == "AgentProcessing":
        env.control.answer(oid)
    expect_diverted(divert(env, oid, ServiceGroupID=b.id), oid, "DIV-ALLOCATED")
    now = in_group(env, oid, b, "DIV-ALLOCATED")
    expect_equal(
        "LIFE-DIVERT-REQUEUES",
        ("Queued", 0),
        (now.status, now.agent_id),
        f"(Status, AgentID) of request {oid}",
    )
    view = env.control.request(oid) or {}
    expect_equal(
        "DIV-ALLOCATED",
        (b.id, 0),
        (view.get("service_group_id"), view.get("agent_id")),
        f"(service_group_id, agent_id) of GET /requests/{oid}",
    )
    other = add(env.om, a).oid
    taken, _ = record(env.om, other, "DIV-ALLOCATED")
    expect_equal(
        "DIV-ALLOCATED",
        ("AllocatedToAgent", agent.id),
        (taken.status, taken.agent_id),
        f"(Status, AgentID) of a new request {other} in A: agent {agent.id} is free",
    )


@pytest.mark.requirement("DIV-KEEPS-QUEUE-TIME")
@pytest.mark.requires_control("agents")
@pytest.mark.alone
def test_diverted_request_keeps_its_queue_time(env):
    """Add R1 to A, then R2 to B (at QueuePosition p); divert R1 to B → R1 takes p, R2 moves
    to p + 1 (p = 1 on a fresh target); R1's queue time on the desktop view is unchanged.

    A rule of the control plane's routing model, which binds only a target that offers
    ``agents`` (R21): the description is silent on where a diverted request queues."""
    a, b = two_groups(env.profile)
    first = place(env, "Queued", group=a).oid
    if env.has("clock"):
        env.control.advance(1)  # queue times apart by a second, whatever the clock's resolution
    second = place(env, "Queued", group=b).oid
    position = record(env.om, second, "DIV-KEEPS-QUEUE-TIME")[0].queue_position or 0
    before = env.control.request(first)
    expect_diverted(divert(env, first, ServiceGroupID=b.id), first, "DIV-KEEPS-QUEUE-TIME")
    positions = tuple(
        record(env.om, oid, "DIV-KEEPS-QUEUE-TIME")[0].queue_position for oid in (first, second)
    )
    expect_equal(
        "DIV-KEEPS-QUEUE-TIME",
        (position, position + 1),
        positions,
        f"QueuePositions in B of the diverted request {first} and the later {second}",
    )
    if before is not None:
        after = env.control.request(first) or {}
        expect_equal(
            "DIV-KEEPS-QUEUE-TIME",
            before.get("queue_time"),
            after.get("queue_time"),
            f"queue_time of GET /requests/{first}",
        )


@pytest.mark.requirement("DIV-STATISTICS")
@pytest.mark.requires_control("statistics")
@pytest.mark.alone
def test_divert_is_overflowed_out_and_in(env):
    """Divert a queued request from A to B → A Overflowed Out +1, B Overflowed In +1."""
    a, b = two_groups(env.profile)
    before = env.control.statistics()
    oid = place(env, "Queued", group=a).oid
    expect_diverted(divert(env, oid, ServiceGroupID=b.id), oid, "DIV-STATISTICS")
    after = env.control.statistics()
    for group, change in (
        (a, {"overflowed_out": 1, "overflowed_in": 0}),
        (b, {"overflowed_out": 0, "overflowed_in": 1}),
    ):
        expect_counts("DIV-STATISTICS", before, after, "service_groups", group.id, change)


# -- refusals ----------------------------------------------------------------------------------
@pytest.mark.requirement("DIV-MISSING-GROUP", "DIV-FAILURE-CHANGES-NOTHING")
@pytest.mark.parametrize("which", ["nothing", "tenant-only", "name-only"])
@pytest.mark.alone
def test_divert_without_group_identification(env, which):
    """DivertRequest with no ServiceGroupID and not both TenantID and ServiceGroupName →
    InvalidDataException (R6); the request stays where it was."""
    a, b = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    members = {
        "nothing": {},
        "tenant-only": {"TenantID": b.tenant_id},
        "name-only": {"ServiceGroupName": b.name},
    }[which]
    before = snapshot(env, oid, NOTHING, counters=True)
    expect_fault(divert(env, oid, **members), "DIV-MISSING-GROUP", VIOLATION)
    expect_unchanged(NOTHING, before, snapshot_after(env, before, NOTHING))


@pytest.mark.parametrize(
    ("how", "by"),
    [
        pytest.param(
            how,
            by,
            marks=pytest.mark.requirement(rid, "DIV-FAILURE-CHANGES-NOTHING"),
            id=f"{how}-by-{by}",
        )
        for how, (rid, _, _) in REFUSALS.items()
        for by in ("id", "name")
    ],
)
@pytest.mark.alone
def test_divert_to_a_group_it_cannot_go_to(env, how, by):
    """DivertRequest toward an unknown / not Open Media / closed / disabled-tenant group →
    InvalidGroup / GroupClosed / TenantDisabled; the request stays where it was."""
    requirement, status, _ = REFUSALS[how]
    members = refused_members(env.profile, how, by)
    a, _ = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    before = snapshot(env, oid, NOTHING, counters=True)
    expect_request_status(divert(env, oid, **members), requirement, status)
    expect_unchanged(NOTHING, before, snapshot_after(env, before, NOTHING))


@pytest.mark.requirement("DIV-UNKNOWN-ID")
def test_divert_never_issued_id(env):
    """DivertRequest OpenMediaID=<never issued> to an open group → RequestStatus InvalidID."""
    _, b = two_groups(env.profile)
    reply = divert(env, NEVER_ISSUED, ServiceGroupID=b.id)
    expect_request_status(reply, "DIV-UNKNOWN-ID", "InvalidID")


@pytest.mark.requirement("DIV-NEVER-AGENT-LOGGED-OFF")
def test_divert_never_answers_agent_logged_off(env):
    """A request naming a logged-off preferred agent with ForceToPreferredAgent, added to a
    group without preferred agent, diverted to a preferred-agent group → not AgentLoggedOff."""
    target = env.profile.group_with("open", preferred_agent=True)
    start = next((g for g in env.profile.groups_with("open", preferred_agent=False)), None)
    agents = env.profile.agents_in(target.id)
    if start is None or not agents:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile groups",
            "an open group without preferred agent, and an agent of a preferred-agent group",
        )
    oid = add(env.om, start, PreferredAgentID=agents[0].id, ForceToPreferredAgent=True).oid
    reply = divert(env, oid, ServiceGroupID=target.id)
    status = getattr(reply.value, "request_status", None)
    if status == "AgentLoggedOff":
        raise ConformanceFailure(
            "DIV-NEVER-AGENT-LOGGED-OFF",
            "any RequestStatus but AgentLoggedOff (not applicable to a divert)",
            f"RequestStatus {status}",
            exchange=reply.exchange,
        )


# -- ServiceGroupName length (R2, R3) ----------------------------------------------------------
@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME")
@pytest.mark.parametrize("name", NAMES_AT)
def test_service_group_name_at_the_limit_is_not_refused(env, name):
    """TenantID + a ServiceGroupName of exactly the limit (UTF-16 units) → no fault."""
    a, _ = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    reply = divert(env, oid, TenantID=env.profile.tenant.id, ServiceGroupName=name)
    expect_value(reply, "DIV-LIMIT-SERVICE-GROUP-NAME")


@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME", "DIV-FAILURE-CHANGES-NOTHING")
@pytest.mark.parametrize("name", NAMES_PAST)
@pytest.mark.alone
def test_service_group_name_past_the_limit_is_refused(env, name):
    """TenantID + a ServiceGroupName one UTF-16 unit past the limit → InvalidDataException
    (R3); the request stays where it was."""
    a, _ = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    before = snapshot(env, oid, NOTHING, counters=True)
    reply = divert(env, oid, TenantID=env.profile.tenant.id, ServiceGroupName=name)
    expect_fault(reply, "DIV-LIMIT-SERVICE-GROUP-NAME", VIOLATION)
    expect_unchanged(NOTHING, before, snapshot_after(env, before, NOTHING))


@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME")
def test_property_service_group_name_within_the_limit(env):
    """Any ServiceGroupName of 1..limit UTF-16 units (with TenantID) → no fault."""
    a, _ = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    tenant = env.profile.tenant.id

    @_PROPERTY
    @given(name=text_up_to_units(NAME_LIMIT, min_units=1))
    def check(name: str) -> None:
        reply = divert(env, oid, TenantID=tenant, ServiceGroupName=name)
        expect_value(reply, "DIV-LIMIT-SERVICE-GROUP-NAME")

    check()


@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME")
def test_property_service_group_name_past_the_limit(env):
    """Any DivertRequest whose one broken constraint is ServiceGroupName's length →
    InvalidDataException, and the request stays in its group."""
    a, _ = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    ids = st.just({"OpenMediaID": oid, "TenantID": env.profile.tenant.id})

    @_PROPERTY
    @given(case=invalid_members("DivertOpenMediaRequest", ids=ids, field="ServiceGroupName"))
    def check(case: tuple[dict[str, Any], Any]) -> None:
        members, _violation = case
        reply = env.om.divert_request(**members)
        expect_fault(reply, "DIV-LIMIT-SERVICE-GROUP-NAME", VIOLATION)

    check()
    now, _ = record(env.om, oid, "DIV-LIMIT-SERVICE-GROUP-NAME")
    expect_equal(
        "DIV-LIMIT-SERVICE-GROUP-NAME",
        a.id,
        now.service_group_id,
        f"ServiceGroupID of request {oid} after refused diverts",
    )


# -- faults of the environment -----------------------------------------------------------------
@pytest.mark.requirement("DIV-FAULT-NO-LICENSE", "DIV-FAILURE-CHANGES-NOTHING")
@pytest.mark.requires_control("license")
@pytest.mark.alone
def test_divert_without_licence(env):
    """Licence gone: DivertRequest to B → NoLicenseFault; the request stays in A."""
    a, b = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    before = snapshot(env, oid, NOTHING, counters=True)
    with licence_lost(env.control):
        reply = divert(env, oid, ServiceGroupID=b.id)
    expect_fault(reply, "DIV-FAULT-NO-LICENSE", "NoLicenseFault")
    expect_unchanged(NOTHING, before, snapshot_after(env, before, NOTHING))


@pytest.mark.requirement("DIV-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_divert_without_router(env):
    """Router lost: DivertRequest of a request that was queued → RouterDisconnectedFault."""
    a, b = two_groups(env.profile)
    oid = place(env, "Queued", group=a).oid
    with router_lost(env.control):
        reply = divert(env, oid, ServiceGroupID=b.id)
    expect_fault(reply, "DIV-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")
