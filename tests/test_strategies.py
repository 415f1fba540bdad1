"""The strategies generate what they promise: valid means valid, invalid means one violation.

Both sides are held to two judges that do not come from the generators: our XSD (every
envelope is built with ``build_envelope``, parsed back and its Body child validated) and the
constraint checker ``constraint_violations``, which is itself tested first on hand-written
examples. Limits are read from ``CONSTRAINTS``, never written here.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.constraints import CONSTRAINTS, utf16_units
from conformance.contract.operations import OPERATIONS, operation
from conformance.contract.xmlsafe import parse
from conformance.strategies import (
    Violation,
    breakers,
    constrained_operations,
    constraint_violations,
    invalid_examples,
    invalid_members,
    invalid_params,
    is_identifier,
    one_unit_over_in_code_points,
    text_of_units,
    units_text,
    valid_examples,
    valid_members,
    valid_params,
)
from conformance.strategies.text import TEXT_KINDS
from conformance.wire.encode import INT_MAX, INT_MIN, build_envelope

ADD = "AddOpenMediaRequest"
MODIFY = "ModifyOpenMediaRequest"
OPTIONS = "SetOptionsRequest"
LABEL = CONSTRAINTS.length("Label")
IVR_COUNT = CONSTRAINTS.count("IVRInformation")
PRIORITY = CONSTRAINTS.range(ADD, "SessionPriority")
AGENT_ACTION = next(
    r for r in CONSTRAINTS.requires_type_of_session if r.field == "AgentActionOptions"
)

FIND = settings(database=None, derandomize=True, phases=[Phase.generate], max_examples=300)
"""``find`` without shrinking (minimising a request is slow) and with a fixed seed: reproducible."""

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def item(label: Any = None, data: Any = None) -> dict[str, Any]:
    """An IVRInformation dict with only the members given (``None`` here means absent)."""
    out = {}
    if data is not None:
        out["Data"] = data
    if label is not None:
        out["Label"] = label
    return out


# --- the checker, on hand-written examples ------------------------------------------------


def test_checker_accepts_label_at_limit_in_units_with_non_bmp_text() -> None:
    text = units_text(LABEL.max, "non-bmp")
    assert utf16_units(text) == LABEL.max and len(text) < LABEL.max
    assert constraint_violations(ADD, {"IVRInfo": [item(label=text)]}) == []


def test_checker_refuses_one_unit_over_even_when_within_limit_in_code_points() -> None:
    text = one_unit_over_in_code_points(LABEL.max)
    assert len(text) == LABEL.max and utf16_units(text) == LABEL.max + 1
    found = constraint_violations(ADD, {"IVRInfo": [item(data="d"), item(label=text)]})
    assert found == [Violation("length", "Label", "IVRInfo[1].Label", text, LABEL.max + 1, LABEL)]


def test_checker_counts_items_over_the_max() -> None:
    items = [item(label="x")] * (IVR_COUNT.max + 1)
    found = constraint_violations(MODIFY, {"IVRInfo": items})
    assert [(v.kind, v.path, v.length) for v in found] == [("count", "IVRInfo", IVR_COUNT.max + 1)]
    assert constraint_violations(MODIFY, {"IVRInfo": items[:-1]}) == []


@pytest.mark.parametrize(
    "ivr_info",
    [pytest.param("absent", id="absent"), None, [], [item(label="", data="")], [{}]],
)
def test_checker_needs_an_item_with_content_in_add_and_in_modify(ivr_info: Any) -> None:
    """R7 (clarified 2026-12-07): ModifyRequest needs a Label or Data as AddRequest does."""
    members = {} if ivr_info == "absent" else {"IVRInfo": ivr_info}
    for type_name in (ADD, MODIFY):
        found = constraint_violations(type_name, members)
        assert [(v.kind, v.field, v.length) for v in found] == [("count", "IVRInformation", 0)]
        assert found[0].bound == IVR_COUNT.min


def test_checker_ranges_skip_not_given_values_and_refuse_one_past_each_end() -> None:
    for value in (*PRIORITY.not_given, PRIORITY.min, PRIORITY.max):
        assert constraint_violations(ADD, {"IVRInfo": [item("l")], "SessionPriority": value}) == []
    assert PRIORITY.max is not None
    for value in (PRIORITY.first_refused_below(), PRIORITY.max + 1):
        found = constraint_violations(ADD, {"IVRInfo": [item("l")], "SessionPriority": value})
        assert found == [
            Violation("range", "SessionPriority", "SessionPriority", value, None, PRIORITY)
        ]


def test_checker_option_value_needs_a_type_of_session() -> None:
    value = AGENT_ACTION.values[0]
    for members in (
        {"AgentActionOptions": value},
        {"AgentActionOptions": value, "TypeOfSession": 0},
    ):
        found = constraint_violations(OPTIONS, members)
        assert [(v.kind, v.field, v.value) for v in found] == [
            ("requires_type_of_session", "AgentActionOptions", value)
        ]
    assert constraint_violations(OPTIONS, {"AgentActionOptions": value, "TypeOfSession": 3}) == []
    free = next(v for v in range(1, 10) if v not in AGENT_ACTION.values)
    assert constraint_violations(OPTIONS, {"AgentActionOptions": free, "TypeOfSession": 0}) == []


def test_checker_lists_every_violation_in_wire_order_and_refuses_unknown_members() -> None:
    members = {
        "IVRInfo": [],
        "PrivateData": units_text(CONSTRAINTS.length("PrivateData").max + 1),
        "SessionPriority": PRIORITY.first_refused_below(),
    }
    kinds = [(v.kind, v.field) for v in constraint_violations(ADD, members)]
    assert kinds == [
        ("count", "IVRInformation"),
        ("length", "PrivateData"),
        ("range", "SessionPriority"),
    ]
    with pytest.raises(KeyError, match="Nonsense"):
        constraint_violations(ADD, {"Nonsense": 1})


# --- text helpers ---------------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, 2 * LABEL.max), st.sampled_from(TEXT_KINDS), st.data())
def test_text_of_units_has_exactly_that_many_units_and_survives_xml(
    units: int, kind: Any, data: Any
) -> None:
    text = data.draw(text_of_units(units, kind))
    assert utf16_units(text) == units
    assert utf16_units(units_text(units, kind)) == units
    elem = etree.Element("t")
    elem.text = text
    assert (parse(etree.tostring(elem, encoding="utf-8")).text or "") == text


def test_text_of_units_reaches_non_bmp_text_at_exactly_the_limit() -> None:
    found = find(
        text_of_units(LABEL.max),
        lambda t: len(t) < LABEL.max,
        settings=FIND,
    )
    assert utf16_units(found) == LABEL.max


# --- the valid side -------------------------------------------------------------------------


def identifier_strategy(owner: str) -> st.SearchStrategy[dict[str, Any]] | None:
    """Scenario values for every identifier member, drawn over the whole xs:int range."""
    parts = {}
    for member in schema.members(owner):
        if is_identifier(owner, member):
            parts[member.name] = (
                st.integers(INT_MIN, INT_MAX) if member.type_name == "int" else text_of_units(5)
            )
    return st.fixed_dictionaries(parts) if parts else None


def bare_ids(op_name: str) -> st.SearchStrategy[dict[str, Any]]:
    op = operation(op_name)
    return st.fixed_dictionaries(
        {p.name: st.integers(INT_MIN, INT_MAX) for p in op.parameters if p.type_name == "int"}
    )


def body_child(envelope: bytes) -> Any:
    body = parse(envelope).find(ns.qname(ns.SOAP_ENV, "Body"))
    assert body is not None and len(body) == 1
    return body[0]


def assert_validates(envelope: bytes) -> None:
    assert schema.validation_errors(body_child(envelope)) == []


def request_type(op_name: str) -> str | None:
    op = operation(op_name)
    return op.parameters[0].type_name if op.wrapped else None


@pytest.mark.parametrize("op_name", [op.name for op in OPERATIONS])
def test_valid_params_validate_and_break_no_constraint(op_name: str) -> None:
    type_name = request_type(op_name)
    ids = identifier_strategy(type_name) if type_name else bare_ids(op_name)

    @SETTINGS
    @given(valid_params(op_name, ids=ids))
    def run(params: dict[str, Any]) -> None:
        assert_validates(build_envelope(op_name, params))
        if type_name is not None:
            assert constraint_violations(type_name, params["request"]) == []

    run()


@pytest.mark.parametrize(
    "type_name", [ADD, MODIFY, OPTIONS, "DivertOpenMediaRequest", "CancelOpenMediaRequest"]
)
def test_explicit_valid_examples_break_nothing(type_name: str) -> None:
    examples = valid_examples(type_name)
    assert examples and len({e.name for e in examples}) == len(examples)
    for example in examples:
        assert constraint_violations(type_name, example.members) == [], example.name


def test_explicit_valid_examples_reach_every_length_limit_exactly() -> None:
    for type_name in (ADD, MODIFY):
        for example in valid_examples(type_name):
            if not example.name.startswith("at-limit"):
                continue
            texts = [example.members["PrivateData"]]
            texts += [v for entry in example.members["IVRInfo"] for v in entry.values()]
            limits = {CONSTRAINTS.length("PrivateData").max, LABEL.max}
            assert {utf16_units(t) for t in texts} <= limits
            assert len(example.members["IVRInfo"]) == IVR_COUNT.max


def test_group_and_ids_are_used_as_given_and_identifiers_never_invented() -> None:
    @SETTINGS
    @given(
        valid_members(ADD, group=st.just({"ServiceGroupID": 10})),
        valid_members("CancelOpenMediaRequest"),
    )
    def run(add: dict[str, Any], cancel: dict[str, Any]) -> None:
        assert add["ServiceGroupID"] == 10
        assert "PreferredAgentLogonID" not in add
        assert "OpenMediaID" not in cancel

    run()
    with pytest.raises(KeyError, match="NoSuchMember"):
        find(valid_members(ADD, group=st.just({"NoSuchMember": 1})), lambda _: True)


# --- the invalid side -----------------------------------------------------------------------


def value_at(members: dict[str, Any], path: str) -> Any:
    """Follow ``IVRInfo[0].Label`` into the members."""
    current: Any = members
    for part in path.split("."):
        name, _, index = part.partition("[")
        current = current.get(name)
        if index:
            current = current[int(index[:-1])]
    return current


@pytest.mark.parametrize("op_name", constrained_operations())
def test_invalid_params_validate_and_break_exactly_their_one_constraint(op_name: str) -> None:
    type_name = request_type(op_name)
    assert type_name is not None

    @SETTINGS
    @given(invalid_params(op_name, ids=identifier_strategy(type_name)))
    def run(case: tuple[dict[str, Any], Violation]) -> None:
        params, violation = case
        assert_validates(build_envelope(op_name, params))
        members = params["request"]
        assert constraint_violations(type_name, members) == [violation]
        if violation.kind in ("length", "range", "requires_type_of_session"):
            assert value_at(members, violation.path) == violation.value

    run()


@pytest.mark.parametrize("type_name", [ADD, MODIFY, OPTIONS, "DivertOpenMediaRequest"])
def test_explicit_invalid_cases_cover_every_constraint_and_break_only_it(type_name: str) -> None:
    cases = invalid_examples(type_name, {})
    assert len({c.name for c in cases}) == len(cases)
    for case in cases:
        assert constraint_violations(type_name, case.members) == [case.violation], case.name
    covered = {(c.violation.kind, c.violation.field) for c in cases}
    assert covered == {(b.kind, b.field) for b in breakers(type_name)}


def test_explicit_invalid_cases_cross_each_boundary_by_exactly_one() -> None:
    cases = {c.name: c.violation for c in invalid_examples(ADD)}
    for variant in ("label-over-limit", "label-over-limit-bmp", "label-over-limit-non-bmp"):
        assert cases[variant].length == LABEL.max + 1
    assert isinstance(cases["label-over-limit-non-bmp"].value, str)
    assert len(cases["label-over-limit-non-bmp"].value) == LABEL.max
    assert cases["ivrinformation-over-count"].length == IVR_COUNT.max + 1
    assert PRIORITY.max is not None
    assert cases["sessionpriority-above-range"].value == PRIORITY.max + 1
    assert cases["sessionpriority-below-range"].value == PRIORITY.first_refused_below()
    assert cases["sessionpriority-below-range"].value not in PRIORITY.not_given


def test_invalid_filters_and_types_without_constraints() -> None:
    @SETTINGS
    @given(invalid_members(ADD, kind="length", field="Label"))
    def run(case: tuple[dict[str, Any], Violation]) -> None:
        assert (case[1].kind, case[1].field) == ("length", "Label")

    run()
    with pytest.raises(ValueError, match="CancelOpenMediaRequest"):
        invalid_members("CancelOpenMediaRequest")
    with pytest.raises(ValueError, match="bare"):
        invalid_params("GetAllOpenMediaRequestStatus")
    assert set(constrained_operations()) == {
        "AddRequest",
        "DivertRequest",
        "ModifyRequest",
        "SetOptions",
    }


def test_invalid_side_reaches_one_unit_over_within_the_limit_in_code_points() -> None:
    violation = find(
        invalid_members(ADD, kind="length", field="Label").map(lambda case: case[1]),
        lambda v: (
            v.length == LABEL.max + 1 and isinstance(v.value, str) and len(v.value) <= LABEL.max
        ),
        settings=FIND,
    )
    assert violation.path.endswith(".Label")
