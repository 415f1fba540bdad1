"""GetAllOpenMediaServiceGroupStatus (section ``all-group-status``): a tenant's Open Media groups.

The answer lists one ServiceGroupStatus per Open Media group of the tenant, with its Open flag,
and nothing else: not the groups of other tenants, not the groups of other media. A
non-tenanted system answers tenantID 1 with every Open Media group. A tenantID that names no
tenant, or a disabled tenant, raises InvalidDataException; without the router,
RouterDisconnectedFault (R15).

On a controllable target the suite installed exactly the profile's groups, so the list must
equal the profile's; a vendor server may have more groups than its profile names, so there the
profile's groups of the tenant must all be listed (with the right flag) and none of its other
groups may be.
"""

from __future__ import annotations

import dataclasses

import pytest

from conformance.checks import expect_equal, expect_fault, expect_value
from conformance.profile import Profile, Tenant
from conformance.suite_support.every_operation import ROUTER_DISCONNECTED
from conformance.suite_support.outages import router_lost
from conformance.suite_support.requests import NEVER_ISSUED
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason
from conformance.wire import OpenMediaClient

INVALID_DATA = "InvalidDataException"
NON_TENANTED = 1
"""The tenantID the description says a non-tenanted system is asked with."""


def listed(om: OpenMediaClient, tenant_id: int, requirement: str) -> dict[int, bool | None]:
    """``{ServiceGroupID: Open}`` as the target lists the tenant's groups; a group listed twice
    fails the requirement."""
    reply = om.get_all_service_group_status(tenant_id)
    value = expect_value(reply, requirement)
    statuses = getattr(value, "statuses", ())
    ids = [s.service_group_id for s in statuses]
    duplicates = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    if duplicates:
        raise ConformanceFailure(
            requirement,
            "each group listed once",
            f"listed more than once: {duplicates}",
            exchange=reply.exchange,
        )
    return {int(s.service_group_id or 0): s.open for s in statuses}


def expect_tenant_groups(
    om: OpenMediaClient, profile: Profile, tenant_id: int, requirement: str, exact: bool
) -> dict[int, bool | None]:
    """The tenant's Open Media groups with their flags; ``exact``: and no other group at all."""
    seen = listed(om, tenant_id, requirement)
    wanted = {
        g.id: g.is_open for g in profile.groups if g.tenant_id == tenant_id and g.is_open_media
    }
    excluded = sorted(g.id for g in profile.groups if g.id not in wanted and g.id in seen)
    shown = seen if exact else {k: v for k, v in seen.items() if k in wanted}
    expect_equal(requirement, wanted, shown, f"{{ServiceGroupID: Open}} of tenant {tenant_id}")
    expect_equal(
        requirement, [], excluded, f"listed groups of other tenants or media (tenant {tenant_id})"
    )
    return seen


@pytest.mark.requirement("SGA-TENANT-GROUPS")
def test_lists_the_tenants_open_media_groups(om, scenario, target):
    """GetAllOpenMediaServiceGroupStatus(tenant) → exactly its Open Media groups with their
    Open flags; not the voice group, not another tenant's group."""
    expect_tenant_groups(
        om, scenario, scenario.tenant.id, "SGA-TENANT-GROUPS", target.has("scenario")
    )


@pytest.mark.requirement("SGA-TENANT-GROUPS")
@pytest.mark.requires_control("scenario")
def test_lists_each_tenant_apart(om, scenario, control):
    """Two enabled tenants with groups of their own → each tenantID lists only its own Open
    Media groups."""
    other = scenario.tenant.disabled_id
    if other is None or not any(g.tenant_id == other for g in scenario.groups):
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile second tenant",
            "no group of a second tenant in the profile",
        )
    body = scenario.to_scenario()
    for tenant in body["tenants"]:
        tenant["enabled"] = True
    control.reset(body)
    for tenant_id in (scenario.tenant.id, other):
        expect_tenant_groups(om, scenario, tenant_id, "SGA-TENANT-GROUPS", True)


@pytest.mark.requirement("SGA-CLOSED-GROUP")
def test_closed_group_listed_closed(om, scenario):
    """The tenant's closed Open Media group is listed with Open false."""
    closed = scenario.groups_with("closed")
    if not closed:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile group (role=closed)",
            "none in the enabled tenant",
        )
    seen = listed(om, scenario.tenant.id, "SGA-CLOSED-GROUP")
    expect_equal(
        "SGA-CLOSED-GROUP",
        {g.id: False for g in closed},
        {g.id: seen.get(g.id, "not listed") for g in closed},
        "Open of the closed groups",
    )


@pytest.mark.requirement("SGA-CLOSED-GROUP")
@pytest.mark.requires_control("scenario")
def test_closing_a_group_shows_at_once(om, scenario, control):
    """Close an open group → listed with Open false; reopen → listed with Open true."""
    group = scenario.group_with("open")
    for is_open in (False, True):
        control.group_open(group.id, is_open)
        seen = listed(om, group.tenant_id, "SGA-CLOSED-GROUP")
        expect_equal(
            "SGA-CLOSED-GROUP", is_open, seen.get(group.id, "not listed"), f"Open of {group.id}"
        )


@pytest.mark.requirement("SGA-NON-TENANTED")
def test_non_tenanted_system(om, scenario, target, make_scenario):
    """A non-tenanted system (every group in tenant 1): tenantID 1 lists every Open Media
    group. A controllable target is made non-tenanted for the test."""
    profile = scenario
    if target.has("scenario"):
        profile = make_scenario(
            tenant=Tenant(NON_TENANTED),
            groups=tuple(dataclasses.replace(g, tenant_id=NON_TENANTED) for g in scenario.groups),
        )
    elif {g.tenant_id for g in profile.groups} != {NON_TENANTED}:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "a non-tenanted system",
            "the profile's groups are in other tenants",
        )
    expect_tenant_groups(om, profile, NON_TENANTED, "SGA-NON-TENANTED", target.has("scenario"))


@pytest.mark.requirement("SGA-INVALID-TENANT")
@pytest.mark.parametrize(
    "tenant_id", [pytest.param(NEVER_ISSUED, id="never-configured"), pytest.param(0, id="zero")]
)
def test_unknown_tenant(om, scenario, tenant_id):
    """GetAllOpenMediaServiceGroupStatus(a tenantID that names no tenant) → InvalidDataException."""
    known = {
        scenario.tenant.id,
        scenario.tenant.disabled_id,
        *(g.tenant_id for g in scenario.groups),
    }
    if tenant_id in known:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "an unused tenant ID",
            f"the profile configures tenant {tenant_id}",
        )
    expect_fault(om.get_all_service_group_status(tenant_id), "SGA-INVALID-TENANT", INVALID_DATA)


@pytest.mark.requirement("SGA-DISABLED-TENANT")
def test_disabled_tenant(om, scenario):
    """GetAllOpenMediaServiceGroupStatus(the profile's disabled tenant) → InvalidDataException."""
    if scenario.tenant.disabled_id is None:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile disabled tenant",
            "[tenant] disabled_id is not set",
        )
    reply = om.get_all_service_group_status(scenario.tenant.disabled_id)
    expect_fault(reply, "SGA-DISABLED-TENANT", INVALID_DATA)


@pytest.mark.requirement("SGA-DISABLED-TENANT")
@pytest.mark.requires_control("scenario")
def test_disabling_and_enabling_a_tenant(om, scenario, control):
    """Disable the enabled tenant → InvalidDataException; enable it → its groups again."""
    tenant = scenario.tenant.id
    control.tenant_enabled(tenant, False)
    try:
        reply = om.get_all_service_group_status(tenant)
    finally:
        control.tenant_enabled(tenant, True)
    expect_fault(reply, "SGA-DISABLED-TENANT", INVALID_DATA)
    expect_tenant_groups(om, scenario, tenant, "SGA-DISABLED-TENANT", True)


@pytest.mark.requirement("SGA-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_router_disconnected(om, scenario, control):
    """Router lost: GetAllOpenMediaServiceGroupStatus(tenant) → RouterDisconnectedFault;
    reconnected, it lists the groups again."""
    with router_lost(control):
        reply = om.get_all_service_group_status(scenario.tenant.id)
    expect_fault(reply, "SGA-FAULT-ROUTER-DISCONNECTED", ROUTER_DISCONNECTED)
    expect_tenant_groups(om, scenario, scenario.tenant.id, "SGA-FAULT-ROUTER-DISCONNECTED", True)
