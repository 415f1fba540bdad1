"""The cases the wire-contract tests run over: which operations each WIRE-* rule applies to,
the nil members, the refused calls, the RequestStatus answers, the served XSDs.

Each table is derived from the contract (the operations, their result types, the schema's
nillable members, our own WSDL's imports), never written out by hand, so a WSDL change moves
the cases with it; the ids stay the operation names the reports already show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.checks.wire_rules import is_complex
from conformance.contract import schema
from conformance.contract.operations import OPERATIONS, Operation, operation
from conformance.profile import Profile
from conformance.suite_support.contract_files import OUR_IMPORTS
from conformance.suite_support.every_operation import (
    DATA_FAULT_OPERATIONS,
    INVALID_USER,
    NEVER_ISSUED,
    op_param,
    sends_options,
    valid_member_names,
)
from conformance.suite_support.requests import DEFAULT_IVR


def carries(
    type_name: str, wanted: Callable[[str], bool], seen: frozenset[str] = frozenset()
) -> bool:
    """Whether a type holds, at any depth, a member whose type ``wanted`` accepts."""
    if not is_complex(type_name) or type_name in seen:
        return False
    return any(
        wanted(m.type_name) or carries(m.type_name, wanted, seen | {type_name})
        for m in schema.members(type_name)
    )


BARE = [op for op in OPERATIONS if not op.wrapped and op.parameters]
"""Operations whose parameters are bare tempuri elements, not a wrapped request."""

ALL = [op_param(op) for op in OPERATIONS]
"""Every operation: the rules every successful answer keeps."""

COMPLEX_RESULTS = [op_param(op) for op in OPERATIONS if is_complex(op.result_type)]
"""Operations answering a data contract: member order and namespaces."""

TIMED = [op_param(op) for op in OPERATIONS if carries(op.result_type, lambda t: t == "dateTime")]
"""Operations whose answer holds a dateTime somewhere: UTC."""

STATUS_RESULTS = [op_param(op) for op in OPERATIONS if op.result_type == "GetOpenMediaResponse"]
"""Operations answering request records: each Status as a name."""

BOOLEAN = [op_param(op) for op in OPERATIONS if op.result_type == "boolean"]
"""Operations answering a bare boolean Result."""

BARE_PARAMS = [op_param(op) for op in BARE]
"""``BARE`` as parameters."""


def nil_cases() -> list[Any]:
    """Per wrapped operation: each nillable member it is not given, sent as xsi:nil alone
    (``Op-Member``), and all of them at once when there are several (``Op-all``)."""
    cases = []
    for op in OPERATIONS:
        if not op.wrapped:
            continue
        given = valid_member_names(op)
        nils = [
            m.name
            for m in schema.members(op.parameters[0].type_name)
            if m.nillable and m.name not in given
        ]
        marks = sends_options(op, "own")  # a nil is no value the profile names
        cases += [pytest.param(op, (name,), id=f"{op.name}-{name}", marks=marks) for name in nils]
        if len(nils) > 1:
            cases.append(pytest.param(op, tuple(nils), id=f"{op.name}-all", marks=marks))
    return cases


FAULT_CASES = [
    *(
        pytest.param(("data", op), id=f"{op.name}-data", marks=sends_options(op, "own"))
        for op in DATA_FAULT_OPERATIONS
    ),
    *(
        pytest.param(("auth", op), id=f"{op.name}-{INVALID_USER}", marks=sends_options(op))
        for op in OPERATIONS
    ),
]
"""The refused calls (``provoked``'s parameter): each data fault, and InvalidUserFault for all."""

REQUEST_STATUSES = ["Success", "GroupClosed", "InvalidGroup", "TenantDisabled", "InvalidID"]
"""The RequestStatus names whose answers are checked as names."""


def _add_to(group_id: int) -> dict[str, Any]:
    return {"request": {"IVRInfo": list(DEFAULT_IVR), "ServiceGroupID": group_id}}


def request_status_cases(profile: Profile) -> dict[str, tuple[Operation, dict[str, Any]]]:
    """Calls answered with each RequestStatus the profile lets the suite provoke."""
    add, divert = operation("AddRequest"), operation("DivertRequest")
    cases = {"Success": (add, _add_to(profile.group_with("open").id))}
    closed = profile.groups_with("closed")
    if closed:
        cases["GroupClosed"] = (add, _add_to(closed[0].id))
    other_media = [g for g in profile.groups if not g.is_open_media]
    if other_media:
        cases["InvalidGroup"] = (add, _add_to(other_media[0].id))
    disabled = [
        g for g in profile.groups if g.tenant_id == profile.tenant.disabled_id and g.is_open_media
    ]
    if disabled:
        cases["TenantDisabled"] = (add, _add_to(disabled[0].id))
    cases["InvalidID"] = (
        divert,
        {"request": {"OpenMediaID": NEVER_ISSUED, "ServiceGroupID": profile.group_with("open").id}},
    )
    return cases


OUR_XSDS = [pytest.param(n, id=f.removesuffix(".xsd")) for n, f in OUR_IMPORTS.items()]
"""One served XSD to compare per namespace our WSDL imports (ids: our file names)."""
