"""What the refused-AddRequest tests (``test_add_request_limits``) are made of: the tables of
cases, the builders of limit-sized text, ranges and IVR items, and the requirement each breaks.

The tables are read from ``schemas/constraints.toml`` and the catalogue at import, so a new
limit or range there becomes new cases without a change to the tests; keeping them here leaves
the test module with what each case sends and cites. The AddRequest helpers several modules
use (``send_add``, ``new_id``, ...) are in ``suite_support.requests``, their judgements in
``conformance.checks.requests``.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.contract import schema
from conformance.contract.catalogue import CATALOGUE
from conformance.contract.constraints import CONSTRAINTS, utf16_units
from conformance.profile import Profile
from conformance.strategies import Violation, one_unit_over_in_code_points, units_text
from conformance.suite_support.groups import unknown_name
from conformance.suite_support.requests import ADD_TYPE
from conformance.verdicts import NotApplicable, NotApplicableReason
from conformance.wire.encode import INT_MAX, INT_MIN

ADD_STATUSES = frozenset(CATALOGUE.expected_names("add")) & frozenset(
    schema.enumeration("OpenMediaRequestStatus")
)
"""The RequestStatus names the description gives AddRequest (Success ... Error, R1)."""
LENGTH_RID = {
    "ServiceGroupName": "ADD-LIMIT-SERVICE-GROUP-NAME",
    "Label": "ADD-LIMIT-LABEL",
    "Data": "ADD-LIMIT-DATA",
    "PrivateData": "ADD-LIMIT-PRIVATE-DATA",
}
RANGE_RID = {
    "SessionPriority": "ADD-RANGE-SESSION-PRIORITY",
    "TypeOfSession": "ADD-RANGE-TYPE-OF-SESSION",
}


def rid_of(violation: Violation) -> str:
    """The requirement an invalid-side case breaks."""
    if violation.kind == "length":
        return LENGTH_RID[violation.field]
    if violation.kind == "range":
        return RANGE_RID[violation.field]
    over = (violation.length or 0) > CONSTRAINTS.count(violation.field).max
    return "ADD-LIMIT-IVRINFO-COUNT" if over else "ADD-IVRINFO-AT-LEAST-ONE"


# -- failure statuses (R1, R6) ------------------------------------------------------------------
UNUSABLE = [  # case, RequestStatus, requirement, members ("@role": a profile group's ID or name)
    ("closed-by-id", "GroupClosed", "ADD-GROUP-CLOSED", {"ServiceGroupID": "@closed"}),
    ("closed-by-name", "GroupClosed", "ADD-GROUP-CLOSED", {"TenantID": "@t", "Name": "@closed"}),
    ("unknown-id", "InvalidGroup", "ADD-INVALID-GROUP-ID", {"ServiceGroupID": INT_MAX}),
    (
        "non-om-by-id",
        "InvalidGroup",
        "ADD-INVALID-GROUP-NOT-OPEN-MEDIA",
        {"ServiceGroupID": "@not-open-media"},
    ),
    (
        "non-om-by-name",
        "InvalidGroup",
        "ADD-INVALID-GROUP-NAME",
        {"TenantID": "@t", "Name": "@not-open-media"},
    ),
    ("unknown-name", "InvalidGroup", "ADD-INVALID-GROUP-NAME", {"TenantID": "@t", "Name": "@none"}),
    (
        "bad-tenant",
        "InvalidGroup",
        "ADD-INVALID-GROUP-NAME",
        {"TenantID": INT_MAX, "Name": "@open"},
    ),
    ("foreign-name", "InvalidGroup", "ADD-INVALID-GROUP-NAME", {"TenantID": "@t", "Name": "@else"}),
    ("nothing", "InvalidGroup", "ADD-NO-GROUP", {}),
    ("group-id-0", "InvalidGroup", "ADD-NO-GROUP", {"ServiceGroupID": 0}),
    ("tenant-only", "InvalidGroup", "ADD-NO-GROUP", {"TenantID": "@t"}),
    ("name-only", "InvalidGroup", "ADD-NO-GROUP", {"Name": "@open"}),
    ("nil-name", "InvalidGroup", "ADD-NO-GROUP", {"TenantID": "@t", "Name": None}),
    ("empty-name", "InvalidGroup", "ADD-NO-GROUP", {"TenantID": "@t", "Name": ""}),
    *(
        (f"name-with-tenant-{t}", "InvalidGroup", "ADD-NO-GROUP", {"TenantID": t, "Name": "@open"})
        for t in CONSTRAINTS.not_given(ADD_TYPE, "TenantID")
    ),
]


def resolve(profile: Profile, spec: dict[str, Any]) -> dict[str, Any]:
    """Wire members of a case: ``@t`` the tenant, ``@<role>`` that group's ID or name."""
    out: dict[str, Any] = {}
    for key, value in spec.items():
        member = "ServiceGroupName" if key == "Name" else key
        if value == "@t":
            value = profile.tenant.id
        elif value == "@none":
            value = unknown_name(profile)
        elif value == "@else":
            value = _foreign_name(profile)
        elif isinstance(value, str) and value.startswith("@"):
            group = profile.group_with(value[1:])
            value = group.id if member == "ServiceGroupID" else group.name
        out[member] = value
    return out


def _foreign_name(profile: Profile) -> str:
    """The name of a group of another tenant that no group of our tenant carries."""
    mine = {g.name for g in profile.groups_with(tenant_id=profile.tenant.id)}
    foreign = [g for g in profile.groups if g.tenant_id != profile.tenant.id and g.name not in mine]
    if not foreign:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile groups",
            "no group of another tenant with a name of its own",
        )
    return foreign[0].name


# -- lengths (R2, R3) ---------------------------------------------------------------------------
KINDS_AT = ("ascii", "bmp", "non-bmp", "mixed")
KINDS_OVER = ("ascii", "bmp", "non-bmp", "code-points")
"""``code-points``: the limit in code points but one UTF-16 unit more (one astral character)."""


def length_params(kinds: tuple[str, ...]) -> list[Any]:
    """A case per limited field and kind of text; text outside ASCII also cites R2's units."""
    wide = ("non-bmp", "mixed", "code-points")
    return [
        pytest.param(
            field,
            kind,
            id=f"{field}-{kind}",
            marks=pytest.mark.requirement(
                LENGTH_RID[field], *(("ADD-LIMIT-UTF16-UNITS",) if kind in wide else ())
            ),
        )
        for field in LENGTH_RID
        for kind in kinds
    ]


def length_text(field: str, kind: str, over: int) -> str:
    """Text of ``field``'s limit plus ``over`` UTF-16 units, checked so a wrong builder cannot
    pass for a target that counts right."""
    limit = CONSTRAINTS.length(field).max
    text = (
        one_unit_over_in_code_points(limit)
        if kind == "code-points"
        else units_text(
            limit + over,
            kind,  # type: ignore[arg-type]
        )
    )
    assert utf16_units(text) == limit + over, "suite bug: the text has the wrong length"
    return text


def members_carrying(field: str, text: str, group_id: int) -> dict[str, Any]:
    """Members carrying ``text`` in ``field``, otherwise valid (a group by ID, one IVR item)."""
    if field in ("Label", "Data"):
        other = "Data" if field == "Label" else "Label"
        return {"ServiceGroupID": group_id, "IVRInfo": [{field: text, other: "x"}]}
    return {"ServiceGroupID": group_id, field: text}


# -- IVRInformation count (R7) ------------------------------------------------------------------
ABSENT = object()
IVR_MAX = CONSTRAINTS.count("IVRInformation").max
NO_CONTENT = {
    "absent": ABSENT,
    "nil": None,
    "empty-list": [],
    "empty-strings": [{"Label": "", "Data": ""}],
    "nil-members": [{"Label": None, "Data": None}],
    "no-members": [{}],
    "all-empty-at-max": [{"Label": "", "Data": ""}] * IVR_MAX,
}
SOME_CONTENT = {
    "label-only": [{"Label": "Case"}],
    "data-only": [{"Data": "4711"}],
    "nil-label-with-data": [{"Label": None, "Data": "4711"}],
    "empty-then-label": [{"Label": "", "Data": ""}, {"Label": "Case"}],
}


def ivr_items(count: int) -> list[dict[str, str]]:
    """``count`` distinct IVR items, each with a Label and a Data (content, so R7 holds)."""
    return [{"Label": f"Label{n}", "Data": f"Data{n}"} for n in range(count)]


# -- ranges and "not given" (R3, R5) ------------------------------------------------------------
def range_params(accepted: bool) -> list[Any]:
    """Both ends of each range (accepted), or the first refused value past each end and the
    int extremes (refused)."""
    out = []
    for span in CONSTRAINTS.ranges_for(ADD_TYPE):
        if accepted:
            values = [span.min, INT_MAX if span.max is None else span.max]
        else:
            values = [span.first_refused_below(), INT_MIN]
            values += [] if span.max is None else [span.max + 1, INT_MAX]
        mark = pytest.mark.requirement(RANGE_RID[span.field])
        out += [pytest.param(span.field, v, id=f"{span.field}={v}", marks=mark) for v in values]
    return out


NOT_GIVEN = [
    pytest.param(field, value, id=f"{field}-{'absent' if value is None else value}")
    for field in ("PreferredAgentID", "TenantID", "TypeOfSession", "SessionPriority")
    for value in (None, *CONSTRAINTS.not_given(ADD_TYPE, field))
]
