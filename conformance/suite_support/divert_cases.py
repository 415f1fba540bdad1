"""What the DivertRequest tests (``test_divert_request``) build on: groups and agents from the
profile, a queued request to divert, and the two observations every case ends with.

A Success is judged by the status record (the new group, still live); a refusal by
``expect_unchanged`` against a ``snapshot`` taken before it: same record, same desktop view, no
event, no statistic (DIV-FAILURE-CHANGES-NOTHING). Keeping both here leaves the test module
with the cases only, each saying what it sends and what it cites. The helpers every operation
on one request shares (``Env``, ``add``, ``record``, ...) stay in ``request_support``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from conformance.checks import expect_equal, expect_request_status, expect_value
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Agent, Group, Profile
from conformance.strategies import one_unit_over_in_code_points, units_text
from conformance.suite_support.adding import unknown_name
from conformance.suite_support.request_steps import Env, add, changed_counters, precondition, record
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason
from conformance.wire.encode import INT_MAX
from conformance.wire.values import OpenMediaRequest

NEVER_ISSUED = INT_MAX
"""An OpenMediaID (or ServiceGroupID) no target has issued: the largest ``xs:int``."""

NAME_LIMIT = CONSTRAINTS.length("ServiceGroupName").max
VIOLATION = CONSTRAINTS.violation_fault
IVR = [{"Label": "Case", "Data": "divert"}]


# -- groups and agents from the profile --------------------------------------------------------
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


# -- requests ----------------------------------------------------------------------------------
def queued(env: Env, group: Group) -> int:
    oid = add(env, group, IVR)
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


# -- groups a request cannot go to -------------------------------------------------------------
def _disabled_tenant_group(profile: Profile) -> Group:
    if profile.tenant.disabled_id is None:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile tenant.disabled_id",
            "no disabled tenant in the profile",
        )
    return profile.group_with("open", tenant_id=profile.tenant.disabled_id)


REFUSALS: dict[str, tuple[str, str, Callable[[Profile], Group] | None]] = {
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


def refused_members(profile: Profile, how: str, by: str) -> dict[str, Any]:
    """The group identification of one refused divert, by ID or by TenantID + name."""
    pick = REFUSALS[how][2]
    if pick is None:
        if by == "id":
            return {"ServiceGroupID": NEVER_ISSUED}
        return {"TenantID": profile.tenant.id, "ServiceGroupName": unknown_name(profile)}
    group = pick(profile)
    if by == "id":
        return {"ServiceGroupID": group.id}
    return {"TenantID": group.tenant_id, "ServiceGroupName": group.name}


# -- ServiceGroupName length (R2, R3) ----------------------------------------------------------
NAMES_AT = [
    pytest.param(units_text(NAME_LIMIT, kind), id=f"at-limit-{kind}")
    for kind in ("ascii", "bmp", "non-bmp", "mixed")
]
NAMES_PAST = [
    pytest.param(units_text(NAME_LIMIT + 1, "ascii"), id="past-ascii"),
    pytest.param(units_text(NAME_LIMIT + 1, "bmp"), id="past-bmp"),
    pytest.param(units_text(NAME_LIMIT + 1, "non-bmp"), id="past-non-bmp"),
    pytest.param(one_unit_over_in_code_points(NAME_LIMIT), id="past-non-bmp-code-points-at-limit"),
]
