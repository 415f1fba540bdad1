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
plane (agents, statistics, licence, router) are *not applicable* without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import (
    expect_equal,
    expect_fault,
    expect_request_status,
    expect_value,
)
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Agent, Group, Profile
from conformance.strategies import (
    invalid_members,
    one_unit_over_in_code_points,
    text_up_to_units,
    units_text,
)
from conformance.suite.request_support import Env, add, changed_counters, precondition, record
from conformance.verdicts import ConformanceFailure, NotApplicable
from conformance.wire.encode import INT_MAX
from conformance.wire.values import OpenMediaRequest

NEVER_ISSUED = INT_MAX
"""An OpenMediaID (or ServiceGroupID) no target has issued: the largest ``xs:int``."""

NAME_LIMIT = CONSTRAINTS.length("ServiceGroupName").max
_VIOLATION = CONSTRAINTS.violation_fault
_IVR = [{"Label": "Case", "Data": "divert"}]
_PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def env(om: Any, scenario: Profile, request: pytest.FixtureRequest) -> Env:
    return Env(om, scenario, request)


# -- groups and agents from the profile --------------------------------------------------------
def two_groups(profile: Profile) -> tuple[Group, Group]:
    """Two open Open Media groups of the tenant: where a request starts, where it goes."""
    groups = profile.groups_with("open")
    if len(groups) < 2:
        raise NotApplicable("profile groups", "two open Open Media groups of the tenant")
    return groups[0], groups[1]


def groups_and_agent(profile: Profile) -> tuple[Group, Group, Agent]:
    """Groups A and B and an agent of A who is not in B (so B stays unserved)."""
    groups = profile.groups_with("open")
    for a in groups:
        for b in groups:
            agents = [x for x in profile.agents_in(a.id) if b.id not in x.groups]
            if a.id != b.id and agents:
                return a, b, agents[0]
    raise NotApplicable("profile agent", "an agent of one open group who is not in another")


# -- requests ----------------------------------------------------------------------------------
def queued(env: Env, group: Group) -> int:
    oid = add(env, group, _IVR)
    precondition(env, oid, "Queued")
    return oid


def divert(env: Env, oid: int, **members: Any) -> Any:
    return env.om.divert_request(OpenMediaID=oid, **members)


def expect_success(reply: Any, oid: int, requirement: str) -> None:
    value = expect_request_status(reply, requirement, "Success")
    expect_equal(
        requirement,
        oid,
        getattr(value, "open_media_id", None),
        "OpenMediaID of the answer",
        reply.exchange,
    )


def expect_in_group(env: Env, oid: int, group: Group, requirement: str) -> OpenMediaRequest:
    """After a Success: the status record names the new group; the request is still live."""
    now, _ = record(env, oid, requirement)
    expect_equal(requirement, group.id, now.service_group_id, f"ServiceGroupID of request {oid}")
    if now.status not in ("Queued", "AllocatedToAgent"):
        raise ConformanceFailure(
            requirement, "Status Queued or AllocatedToAgent", f"Status {now.status}"
        )
    return now


# -- "nothing changes" -------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """All a test can observe of one request (and the counters) before a refused divert."""

    oid: int
    seen: tuple[Any, ...]
    mark: datetime
    view: dict[str, Any] | None
    counters: dict[str, Any] | None


def _seen(request: OpenMediaRequest) -> tuple[Any, ...]:
    return (request.status, request.service_group_id, request.agent_id, request.queue_position)


def snapshot(env: Env, oid: int) -> Snapshot:
    request, mark = record(env, oid, "DIV-FAILURE-CHANGES-NOTHING")
    view = env.control.request(oid) if env.has("agents") else None
    counters = env.control.statistics() if env.has("statistics") else None
    return Snapshot(oid, _seen(request), mark, view, counters)


def expect_unchanged(env: Env, before: Snapshot) -> None:
    """DIV-FAILURE-CHANGES-NOTHING: same record, same desktop view, no event, no statistic."""
    requirement = "DIV-FAILURE-CHANGES-NOTHING"
    request, _ = record(env, before.oid, requirement)
    expect_equal(
        requirement,
        before.seen,
        _seen(request),
        f"(Status, ServiceGroupID, AgentID, QueuePosition) of request {before.oid}",
    )
    reply = env.om.get_requests_by_time(before.mark)
    events = [
        r.status
        for r in getattr(expect_value(reply, requirement), "requests", ())
        if r.id == before.oid
    ]
    expect_equal(
        requirement, [], events, f"events of request {before.oid} after the divert", reply.exchange
    )
    if before.view is not None:
        expect_equal(
            requirement,
            before.view,
            env.control.request(before.oid),
            f"control view of request {before.oid}",
        )
    if before.counters is not None:
        moved = changed_counters(before.counters, env.control.statistics())
        expect_equal(requirement, {}, moved, "/statistics counters that moved")


# -- success -----------------------------------------------------------------------------------
@pytest.mark.requirement("DIV-QUEUED-BY-GROUP-ID")
def test_divert_queued_by_group_id(env):
    """DivertRequest OpenMediaID + ServiceGroupID of B → Success, same ID; record names B."""
    a, b = two_groups(env.profile)
    oid = queued(env, a)
    expect_success(divert(env, oid, ServiceGroupID=b.id), oid, "DIV-QUEUED-BY-GROUP-ID")
    expect_in_group(env, oid, b, "DIV-QUEUED-BY-GROUP-ID")


@pytest.mark.requirement("DIV-BY-GROUP-NAME")
def test_divert_by_tenant_and_group_name(env):
    """DivertRequest TenantID + ServiceGroupName of B, no ServiceGroupID → Success; in B."""
    a, b = two_groups(env.profile)
    oid = queued(env, a)
    reply = divert(env, oid, TenantID=b.tenant_id, ServiceGroupName=b.name)
    expect_success(reply, oid, "DIV-BY-GROUP-NAME")
    expect_in_group(env, oid, b, "DIV-BY-GROUP-NAME")


@pytest.mark.requirement("DIV-PRECEDENCE-GROUP-ID")
def test_group_id_wins_over_tenant_and_name(env):
    """ServiceGroupID of B with TenantID + ServiceGroupName of A (its own group) → in B."""
    a, b = two_groups(env.profile)
    oid = queued(env, a)
    reply = divert(env, oid, ServiceGroupID=b.id, TenantID=a.tenant_id, ServiceGroupName=a.name)
    expect_success(reply, oid, "DIV-PRECEDENCE-GROUP-ID")
    expect_in_group(env, oid, b, "DIV-PRECEDENCE-GROUP-ID")


@pytest.mark.requirement("DIV-ALLOCATED", "LIFE-DIVERT-REQUEUES")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("state", ["AllocatedToAgent", "AgentProcessing"])
def test_divert_takes_the_request_from_its_agent(env, state):
    """Allocated (answered) to X in A, DivertRequest to B (no agent there) → Success; Queued in
    B with no agent, in the record and the desktop view; X takes a new request of A at once."""
    a, b, agent = groups_and_agent(env.profile)
    env.control.logon(agent.id)
    oid = add(env, a, _IVR)
    precondition(env, oid, "AllocatedToAgent", agent.id)
    if state == "AgentProcessing":
        env.control.answer(oid)
    expect_success(divert(env, oid, ServiceGroupID=b.id), oid, "DIV-ALLOCATED")
    now = expect_in_group(env, oid, b, "DIV-ALLOCATED")
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
    other = add(env, a, _IVR)
    taken, _ = record(env, other, "DIV-ALLOCATED")
    expect_equal(
        "DIV-ALLOCATED",
        ("AllocatedToAgent", agent.id),
        (taken.status, taken.agent_id),
        f"(Status, AgentID) of a new request {other} in A: agent {agent.id} is free",
    )


@pytest.mark.requirement("DIV-KEEPS-QUEUE-TIME")
def test_diverted_request_keeps_its_queue_time(env):
    """Add R1 to A, then R2 to B (at QueuePosition p); divert R1 to B → R1 takes p, R2 moves
    to p + 1 (p = 1 on a fresh target); R1's queue time on the desktop view is unchanged."""
    a, b = two_groups(env.profile)
    first = queued(env, a)
    if env.has("clock"):
        env.control.advance(1)  # queue times apart by a second, whatever the clock's resolution
    second = queued(env, b)
    place = record(env, second, "DIV-KEEPS-QUEUE-TIME")[0].queue_position or 0
    before = env.control.request(first) if env.has("agents") else None
    expect_success(divert(env, first, ServiceGroupID=b.id), first, "DIV-KEEPS-QUEUE-TIME")
    positions = tuple(
        record(env, oid, "DIV-KEEPS-QUEUE-TIME")[0].queue_position for oid in (first, second)
    )
    expect_equal(
        "DIV-KEEPS-QUEUE-TIME",
        (place, place + 1),
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
def test_divert_is_overflowed_out_and_in(env):
    """Divert a queued request from A to B → A Overflowed Out +1, B Overflowed In +1."""
    a, b = two_groups(env.profile)
    before = env.control.statistics()
    oid = queued(env, a)
    expect_success(divert(env, oid, ServiceGroupID=b.id), oid, "DIV-STATISTICS")
    after = env.control.statistics()
    for group, change in (
        (a, {"overflowed_out": 1, "overflowed_in": 0}),
        (b, {"overflowed_out": 0, "overflowed_in": 1}),
    ):
        old = before.get("service_groups", {}).get(str(group.id), {})
        new = after.get("service_groups", {}).get(str(group.id), {})
        seen = {k: int(new.get(k, 0)) - int(old.get(k, 0)) for k in change}
        expect_equal("DIV-STATISTICS", change, seen, f"change of /statistics group {group.id}")


# -- refusals ----------------------------------------------------------------------------------
@pytest.mark.requirement("DIV-MISSING-GROUP", "DIV-FAILURE-CHANGES-NOTHING")
@pytest.mark.parametrize("which", ["nothing", "tenant-only", "name-only"])
def test_divert_without_group_identification(env, which):
    """DivertRequest with no ServiceGroupID and not both TenantID and ServiceGroupName →
    InvalidDataException (R6); the request stays where it was."""
    a, b = two_groups(env.profile)
    oid = queued(env, a)
    members = {
        "nothing": {},
        "tenant-only": {"TenantID": b.tenant_id},
        "name-only": {"ServiceGroupName": b.name},
    }[which]
    before = snapshot(env, oid)
    expect_fault(divert(env, oid, **members), "DIV-MISSING-GROUP", _VIOLATION)
    expect_unchanged(env, before)


def _unknown_name(profile: Profile) -> str:
    names = {g.name for g in profile.groups}
    return next(f"NoSuchGroup{n}" for n in range(len(names) + 1) if f"NoSuchGroup{n}" not in names)


def _disabled_tenant_group(profile: Profile) -> Group:
    if profile.tenant.disabled_id is None:
        raise NotApplicable("profile tenant.disabled_id", "no disabled tenant in the profile")
    return profile.group_with("open", tenant_id=profile.tenant.disabled_id)


_REFUSALS = {
    # how: (requirement, expected RequestStatus, the group from the profile or None: unknown)
    "unknown": ("DIV-INVALID-GROUP", "InvalidGroup", None),
    "not-open-media": (
        "DIV-INVALID-GROUP",
        "InvalidGroup",
        lambda p: p.group_with("not-open-media"),
    ),
    "closed": ("DIV-GROUP-CLOSED", "GroupClosed", lambda p: p.group_with("closed")),
    "disabled-tenant": ("DIV-TENANT-DISABLED", "TenantDisabled", _disabled_tenant_group),
}


def _refused_members(profile: Profile, how: str, by: str) -> dict[str, Any]:
    """The group identification of one refused divert, by ID or by TenantID + name."""
    pick = _REFUSALS[how][2]
    if pick is None:
        if by == "id":
            return {"ServiceGroupID": NEVER_ISSUED}
        return {"TenantID": profile.tenant.id, "ServiceGroupName": _unknown_name(profile)}
    group = pick(profile)
    if by == "id":
        return {"ServiceGroupID": group.id}
    return {"TenantID": group.tenant_id, "ServiceGroupName": group.name}


@pytest.mark.parametrize(
    ("how", "by"),
    [
        pytest.param(
            how,
            by,
            marks=pytest.mark.requirement(rid, "DIV-FAILURE-CHANGES-NOTHING"),
            id=f"{how}-by-{by}",
        )
        for how, (rid, _, _) in _REFUSALS.items()
        for by in ("id", "name")
    ],
)
def test_divert_to_a_group_it_cannot_go_to(env, how, by):
    """DivertRequest toward an unknown / not Open Media / closed / disabled-tenant group →
    InvalidGroup / GroupClosed / TenantDisabled; the request stays where it was."""
    requirement, status, _ = _REFUSALS[how]
    members = _refused_members(env.profile, how, by)
    a, _ = two_groups(env.profile)
    oid = queued(env, a)
    before = snapshot(env, oid)
    expect_request_status(divert(env, oid, **members), requirement, status)
    expect_unchanged(env, before)


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
            "profile groups",
            "an open group without preferred agent, and an agent of a preferred-agent group",
        )
    oid = add(env, start, _IVR, PreferredAgentID=agents[0].id, ForceToPreferredAgent=True)
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
_AT = [
    pytest.param(units_text(NAME_LIMIT, kind), id=f"at-limit-{kind}")
    for kind in ("ascii", "bmp", "non-bmp", "mixed")
]
_PAST = [
    pytest.param(units_text(NAME_LIMIT + 1, "ascii"), id="past-ascii"),
    pytest.param(units_text(NAME_LIMIT + 1, "bmp"), id="past-bmp"),
    pytest.param(units_text(NAME_LIMIT + 1, "non-bmp"), id="past-non-bmp"),
    pytest.param(one_unit_over_in_code_points(NAME_LIMIT), id="past-non-bmp-code-points-at-limit"),
]


@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME")
@pytest.mark.parametrize("name", _AT)
def test_service_group_name_at_the_limit_is_not_refused(env, name):
    """TenantID + a ServiceGroupName of exactly the limit (UTF-16 units) → no fault."""
    a, _ = two_groups(env.profile)
    oid = queued(env, a)
    reply = divert(env, oid, TenantID=env.profile.tenant.id, ServiceGroupName=name)
    expect_value(reply, "DIV-LIMIT-SERVICE-GROUP-NAME")


@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME", "DIV-FAILURE-CHANGES-NOTHING")
@pytest.mark.parametrize("name", _PAST)
def test_service_group_name_past_the_limit_is_refused(env, name):
    """TenantID + a ServiceGroupName one UTF-16 unit past the limit → InvalidDataException
    (R3); the request stays where it was."""
    a, _ = two_groups(env.profile)
    oid = queued(env, a)
    before = snapshot(env, oid)
    reply = divert(env, oid, TenantID=env.profile.tenant.id, ServiceGroupName=name)
    expect_fault(reply, "DIV-LIMIT-SERVICE-GROUP-NAME", _VIOLATION)
    expect_unchanged(env, before)


@pytest.mark.requirement("DIV-LIMIT-SERVICE-GROUP-NAME")
def test_property_service_group_name_within_the_limit(env):
    """Any ServiceGroupName of 1..limit UTF-16 units (with TenantID) → no fault."""
    a, _ = two_groups(env.profile)
    oid = queued(env, a)
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
    oid = queued(env, a)
    ids = st.just({"OpenMediaID": oid, "TenantID": env.profile.tenant.id})

    @_PROPERTY
    @given(case=invalid_members("DivertOpenMediaRequest", ids=ids, field="ServiceGroupName"))
    def check(case: tuple[dict[str, Any], Any]) -> None:
        members, _violation = case
        reply = env.om.divert_request(**members)
        expect_fault(reply, "DIV-LIMIT-SERVICE-GROUP-NAME", _VIOLATION)

    check()
    now, _ = record(env, oid, "DIV-LIMIT-SERVICE-GROUP-NAME")
    expect_equal(
        "DIV-LIMIT-SERVICE-GROUP-NAME",
        a.id,
        now.service_group_id,
        f"ServiceGroupID of request {oid} after refused diverts",
    )


# -- faults of the environment -----------------------------------------------------------------
@pytest.mark.requirement("DIV-FAULT-NO-LICENSE", "DIV-FAILURE-CHANGES-NOTHING")
@pytest.mark.requires_control("license")
def test_divert_without_licence(env):
    """Licence gone: DivertRequest to B → NoLicenseFault; the request stays in A."""
    a, b = two_groups(env.profile)
    oid = queued(env, a)
    before = snapshot(env, oid)
    env.control.license(False)
    try:
        reply = divert(env, oid, ServiceGroupID=b.id)
    finally:
        env.control.license(True)
    expect_fault(reply, "DIV-FAULT-NO-LICENSE", "NoLicenseFault")
    expect_unchanged(env, before)


@pytest.mark.requirement("DIV-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_divert_without_router(env):
    """Router lost: DivertRequest of a request that was queued → RouterDisconnectedFault."""
    a, b = two_groups(env.profile)
    oid = queued(env, a)
    env.control.router(False)
    try:
        reply = divert(env, oid, ServiceGroupID=b.id)
    finally:
        env.control.router(True)
    expect_fault(reply, "DIV-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")
