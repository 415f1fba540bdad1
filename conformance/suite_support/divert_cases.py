"""The cases of the DivertRequest tests (``test_divert_request``): the groups a request cannot
be diverted to, each with the requirement and RequestStatus a refusal cites, and the
ServiceGroupName lengths at and past the limit (R2, R3).

The requests they divert are added and observed with ``suite_support.requests``; what a Success
or a refusal must look like is judged by ``conformance.checks.requests``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Group, Profile
from conformance.strategies import one_unit_over_in_code_points, units_text
from conformance.suite_support.groups import unknown_name
from conformance.suite_support.requests import NEVER_ISSUED
from conformance.verdicts import NotApplicable, NotApplicableReason

NAME_LIMIT = CONSTRAINTS.length("ServiceGroupName").max
VIOLATION = CONSTRAINTS.violation_fault


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
