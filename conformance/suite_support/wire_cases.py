"""The cases the wire-contract tests run over: which operations each WIRE-* rule applies to.

Each table is derived from the contract (the operations, their result types, the schema's
nillable members, our own WSDL's imports), never written out by hand, so a WSDL change moves
the cases with it. Kept out of ``test_wire_contract`` so that module is the list of WIRE-*
tests, one rule each; the ids stay the operation names the reports already show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lxml import etree

from conformance.contract import schema
from conformance.contract.catalogue import req
from conformance.contract.documents import schema_imports
from conformance.contract.operations import OPERATIONS, WSDL_FILE
from conformance.contract.paths import schemas_dir
from conformance.contract.xmlsafe import parse
from conformance.suite import wire_shapes as shapes
from conformance.suite.every_operation import (
    DATA_FAULT_OPERATIONS,
    INVALID_USER,
    authentication_on,
    op_param,
    prepare,
    provoke,
    sends_options,
    valid_member_names,
)
from conformance.suite.wire_support import BARE, Provoked, send
from conformance.wire.credentials import Credentials


def carries(
    type_name: str, wanted: Callable[[str], bool], seen: frozenset[str] = frozenset()
) -> bool:
    """Whether a type holds, at any depth, a member whose type ``wanted`` accepts."""
    if not shapes.is_complex(type_name) or type_name in seen:
        return False
    return any(
        wanted(m.type_name) or carries(m.type_name, wanted, seen | {type_name})
        for m in schema.members(type_name)
    )


ALL = [op_param(op) for op in OPERATIONS]
"""Every operation: the rules every successful answer keeps."""

COMPLEX_RESULTS = [op_param(op) for op in OPERATIONS if shapes.is_complex(op.result_type)]
"""Operations answering a data contract: member order and namespaces."""

TIMED = [op_param(op) for op in OPERATIONS if carries(op.result_type, lambda t: t == "dateTime")]
"""Operations whose answer holds a dateTime somewhere: UTC."""

STATUS_RESULTS = [op_param(op) for op in OPERATIONS if op.result_type == "GetOpenMediaResponse"]
"""Operations answering request records: each Status as a name."""

BOOLEAN = [op_param(op) for op in OPERATIONS if op.result_type == "boolean"]
"""Operations answering a bare boolean Result."""

BARE_PARAMS = [op_param(op) for op in BARE]
"""Operations whose parameters are bare tempuri elements, not a wrapped request."""


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


def refused(
    request: pytest.FixtureRequest, om: Any, raw_om: Any, target: Any, make_scenario: Any
) -> Iterator[Provoked]:
    """The body of the ``provoked`` fixture: one refused call of ``request.param``, then a
    controllable target put back to the profile."""
    kind, op = request.param
    control = request.getfixturevalue("control") if target.has("scenario") else None
    if kind == "auth":
        setup = authentication_on(target, make_scenario)
        sample = prepare(om, setup.profile, op, credentials=setup.admin)
        wrong = Credentials(setup.admin.logon_id, f"{setup.admin.password}-wrong")
        refusal = send(raw_om, sample, credentials=wrong)
        yield Provoked(op, refusal, (INVALID_USER,), req("AUTH-WRONG-PASSWORD"))
    else:
        sample, provocation = provoke(om, request.getfixturevalue("scenario"), op)
        refusal = send(raw_om, sample)
        yield Provoked(op, refusal, provocation.faults, provocation.requirement)
    if control is not None:
        control.reset(target.profile.to_scenario())


# -- the published contract ------------------------------------------------------------------------
def our_file(name: str) -> etree._Element:
    """One of our own contract files (the WSDL or an XSD), parsed."""
    return parse((schemas_dir() / name).read_bytes())


OUR_IMPORTS = schema_imports(our_file(WSDL_FILE))
"""``{namespace: "xsd0.xsd", ...}`` of our WSDL: one served XSD to compare per namespace."""

OUR_XSDS = [pytest.param(n, id=f.removesuffix(".xsd")) for n, f in OUR_IMPORTS.items()]
