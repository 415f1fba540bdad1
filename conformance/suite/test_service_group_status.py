"""GetServiceGroupStatus (section ``group-status``): is an Open Media group open?

The answer is a ServiceGroupStatus echoing the ServiceGroupID with Open true or false; an ID
that is not a valid Open Media service group (unknown, or a group of another media) raises
InvalidDataException; without the router, RouterDisconnectedFault (R15). Which groups are open,
closed or not Open Media comes from the profile; on a controllable target the suite also closes
and reopens a group and expects the answer to follow at once.
"""

from __future__ import annotations

import pytest

from conformance.checks import expect_equal, expect_fault, expect_value
from conformance.profile import Group, Profile
from conformance.suite_support.every_operation import ROUTER_DISCONNECTED
from conformance.suite_support.outages import router_lost
from conformance.suite_support.requests import NEVER_ISSUED
from conformance.verdicts import NotApplicable, NotApplicableReason
from conformance.wire import OpenMediaClient
from conformance.wire.encode import INT_MIN

INVALID_DATA = "InvalidDataException"


def _groups(profile: Profile, role: str) -> list[Group]:
    """Every group of that role, whatever its tenant (the query names no tenant)."""
    found = [g for g in profile.groups if g.role == role]
    if not found:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            f"profile group (role={role})",
            "none in the profile",
        )
    return found


def expect_open(om: OpenMediaClient, group_id: int, requirement: str, is_open: bool) -> None:
    """GetServiceGroupStatus(group_id) answers (Open, ServiceGroupID) = (is_open, group_id)."""
    reply = om.get_service_group_status(group_id)
    value = expect_value(reply, requirement)
    expect_equal(
        requirement,
        (is_open, group_id),
        (getattr(value, "open", None), getattr(value, "service_group_id", None)),
        f"(Open, ServiceGroupID) of group {group_id}",
        reply.exchange,
    )


@pytest.mark.requirement("SGS-OPEN")
def test_open_group_is_open(om, scenario):
    """GetServiceGroupStatus(each open Open Media group of the profile) → Open true, its ID."""
    for group in _groups(scenario, "open"):
        expect_open(om, group.id, "SGS-OPEN", True)


@pytest.mark.requirement("SGS-CLOSED")
def test_closed_group_is_closed(om, scenario):
    """GetServiceGroupStatus(each closed Open Media group of the profile) → Open false."""
    for group in _groups(scenario, "closed"):
        expect_open(om, group.id, "SGS-CLOSED", False)


@pytest.mark.requirement("SGS-CLOSED")
@pytest.mark.requires_control("scenario")
def test_closing_and_reopening_show_at_once(om, scenario, control):
    """Close an open group → Open false; reopen it → Open true (no waiting in between)."""
    group = scenario.group_with("open")
    control.group_open(group.id, False)
    expect_open(om, group.id, "SGS-CLOSED", False)
    control.group_open(group.id, True)
    expect_open(om, group.id, "SGS-CLOSED", True)


@pytest.mark.requirement("SGS-CLOSED")
@pytest.mark.requires_control("scenario")
def test_opening_a_closed_group_shows_at_once(om, scenario, control):
    """Open the profile's closed group → Open true; close it again → Open false."""
    group = _groups(scenario, "closed")[0]
    control.group_open(group.id, True)
    expect_open(om, group.id, "SGS-CLOSED", True)
    control.group_open(group.id, False)
    expect_open(om, group.id, "SGS-CLOSED", False)


@pytest.mark.requirement("SGS-INVALID-GROUP")
def test_group_that_is_not_open_media(om, scenario):
    """GetServiceGroupStatus(a group that is not Open Media, e.g. voice) → InvalidDataException."""
    for group in _groups(scenario, "not-open-media"):
        reply = om.get_service_group_status(group.id)
        expect_fault(reply, "SGS-INVALID-GROUP", INVALID_DATA)


@pytest.mark.requirement("SGS-INVALID-GROUP")
@pytest.mark.parametrize(
    "group_id",
    [
        pytest.param(NEVER_ISSUED, id="never-configured"),
        pytest.param(0, id="zero"),
        pytest.param(-1, id="minus-one"),
        pytest.param(INT_MIN, id="int-min"),
    ],
)
def test_id_that_names_no_group(om, scenario, group_id):
    """GetServiceGroupStatus(an ID that names no group) → InvalidDataException."""
    if any(g.id == group_id for g in scenario.groups):
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "an unused group ID",
            f"the profile configures group {group_id}",
        )
    expect_fault(om.get_service_group_status(group_id), "SGS-INVALID-GROUP", INVALID_DATA)


@pytest.mark.requirement("SGS-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
@pytest.mark.parametrize("role", ["open", "closed"])
def test_router_disconnected(om, scenario, control, role):
    """Router lost: GetServiceGroupStatus(an open / a closed group) → RouterDisconnectedFault;
    reconnected, it answers again."""
    group = _groups(scenario, role)[0]
    with router_lost(control):
        reply = om.get_service_group_status(group.id)
    expect_fault(reply, "SGS-FAULT-ROUTER-DISCONNECTED", ROUTER_DISCONNECTED)
    expect_open(om, group.id, "SGS-FAULT-ROUTER-DISCONNECTED", group.is_open)
