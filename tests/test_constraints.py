"""The constraints file loads, behaves as documented, and every limit in it is a requirement.

``schemas/constraints.toml`` is the single source of every limit; the catalogue must cite each
one (by field name, never by number) so that no limit goes untested and none is restated.
"""

from __future__ import annotations

import re

import pytest

from conformance.contract import schema
from conformance.contract.catalogue import CATALOGUE, Requirement
from conformance.contract.constraints import (
    CONSTRAINTS,
    IntRange,
    TypeOfSessionRequirement,
    load_constraints,
    utf16_units,
)

TYPE_SECTIONS = {
    "AddOpenMediaRequest": "add",
    "DivertOpenMediaRequest": "divert",
    "ModifyOpenMediaRequest": "modify",
    "SetOptionsRequest": "options",
}
"""The request data contracts and the catalogue section of the operation that takes each."""


def _carriers(type_name: str) -> tuple[str, ...]:
    """Request types that carry ``type_name`` directly or through an ``ArrayOf`` member."""
    if type_name in TYPE_SECTIONS:
        return (type_name,)
    wanted = {type_name, f"ArrayOf{type_name}"}
    return tuple(
        request
        for request in TYPE_SECTIONS
        if any(member.type_name in wanted for member in schema.members(request))
    )


def _citing(section: str, field: str, *phrases: str) -> list[Requirement]:
    return [
        item
        for item in CATALOGUE.by_section(section)
        if re.search(rf"\b{re.escape(field)}\b", item.text)
        and all(phrase in item.text for phrase in phrases)
    ]


# --------------------------------------------------------------------------- loading


def test_constraints_load_once_and_are_sane() -> None:
    assert load_constraints() is load_constraints()
    assert CONSTRAINTS.violation_fault == "InvalidDataException"  # R3
    assert CONSTRAINTS.length_unit == "utf-16-code-units"  # R2
    assert CONSTRAINTS.lengths and CONSTRAINTS.counts and CONSTRAINTS.ranges
    for limit in CONSTRAINTS.lengths:
        assert limit.max > 0 and limit.types, limit
    for count in CONSTRAINTS.counts:
        assert 0 <= count.min <= count.max and set(count.min_applies_to) <= set(count.types)
    for item in CONSTRAINTS.ranges:
        assert item.max is None or item.min <= item.max, item
        assert all(not item.min <= value <= (item.max or value) for value in item.not_given)


def test_lookups_by_field() -> None:
    assert CONSTRAINTS.length("Label").field == "Label"
    assert CONSTRAINTS.count("IVRInformation").field == "IVRInformation"
    assert CONSTRAINTS.range("AddOpenMediaRequest", "SessionPriority").type == "AddOpenMediaRequest"
    assert {item.field for item in CONSTRAINTS.ranges_for("SetOptionsRequest")} >= {
        "MaxNumberOfSessions"
    }
    assert {item.field for item in CONSTRAINTS.lengths_for("AddOpenMediaRequest")} >= {
        "PrivateData"
    }
    with pytest.raises(KeyError, match=r"constraints\.toml"):
        CONSTRAINTS.length("NoSuchField")


def test_every_constrained_field_exists_in_the_schema() -> None:
    """A limit on a field the wire does not have would never be tested."""
    for limit in CONSTRAINTS.lengths:
        for type_name in limit.types:
            assert limit.field in {m.name for m in schema.members(type_name)}, limit
    for item in CONSTRAINTS.ranges:
        assert item.field in {m.name for m in schema.members(item.type)}, item
    for count in CONSTRAINTS.counts:
        assert set(count.types) <= set(_carriers(count.field)), count


# --------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("a", 1), ("é", 1), ("\u20ac", 1), ("\U0001f600", 2), ("a\U0001d11eb", 4)],
)
def test_utf16_units(text: str, units: int) -> None:
    """R2: a character outside the Basic Multilingual Plane counts two code units."""
    assert utf16_units(text) == units


def test_non_bmp_counts_two_while_len_counts_one() -> None:
    emoji = "\U0001f600"
    assert len(emoji) == 1 and utf16_units(emoji) == 2
    assert utf16_units(emoji * 10) == 20


def test_int_range_accepts() -> None:
    bounded = IntRange("F", "T", 1, 100, (0, -1))
    assert [v for v in (-2, -1, 0, 1, 50, 100, 101) if bounded.accepts(v)] == [-1, 0, 1, 50, 100]
    unbounded = IntRange("F", "T", 0, None, ())
    assert unbounded.accepts(0) and unbounded.accepts(10**9) and not unbounded.accepts(-1)


def test_int_range_first_refused_below_skips_not_given() -> None:
    assert IntRange("F", "T", 1, 100, (0, -1)).first_refused_below() == -2
    assert IntRange("F", "T", 1, 4, (0,)).first_refused_below() == -1
    assert IntRange("F", "T", 0, None, ()).first_refused_below() == -1
    assert IntRange("F", "T", 5, None, ()).first_refused_below() == 4


@pytest.mark.parametrize("item", CONSTRAINTS.ranges, ids=lambda r: f"{r.type}.{r.field}")
def test_every_real_range_has_consistent_edges(item: IntRange) -> None:
    assert item.accepts(item.min)
    refused = item.first_refused_below()
    assert not item.accepts(refused) and refused < item.min
    if item.max is not None:
        assert item.accepts(item.max) and not item.accepts(item.max + 1)
    assert all(item.accepts(value) for value in item.not_given)


# --------------------------------------------------------------------------- cited by the catalogue


def _length_cases() -> list[tuple[str, str]]:
    return [
        (limit.field, carrier)
        for limit in CONSTRAINTS.lengths
        for type_name in limit.types
        for carrier in _carriers(type_name)
    ]


@pytest.mark.parametrize(("field", "carrier"), _length_cases())
def test_every_length_limit_is_a_requirement_per_operation(field: str, carrier: str) -> None:
    """One requirement per field per operation: at the limit accepted, one more refused."""
    found = _citing(TYPE_SECTIONS[carrier], field, f"{field} length limit", "one unit more")
    assert found, f"no requirement for the {field} length limit in {TYPE_SECTIONS[carrier]}"
    for item in found:
        assert {"R2", "R3"} <= set(item.readings), item.id
        assert CONSTRAINTS.violation_fault in item.expects, item.id


def test_length_cases_cover_both_operations_of_each_field() -> None:
    """The carrier derivation is not hollow: Label goes to Add and Modify, names to Divert."""
    cases = set(_length_cases())
    assert ("Label", "ModifyOpenMediaRequest") in cases
    assert ("ServiceGroupName", "DivertOpenMediaRequest") in cases


@pytest.mark.parametrize(
    ("field", "carrier"),
    [(c.field, t) for c in CONSTRAINTS.counts for t in c.types],
)
def test_every_count_limit_is_a_requirement(field: str, carrier: str) -> None:
    found = _citing(TYPE_SECTIONS[carrier], field, f"{field} count limit")
    assert any("R7" in item.readings for item in found), (field, carrier)


@pytest.mark.parametrize(
    ("field", "carrier"),
    [(c.field, t) for c in CONSTRAINTS.counts for t in c.min_applies_to],
)
def test_every_count_minimum_is_a_requirement(field: str, carrier: str) -> None:
    found = _citing(TYPE_SECTIONS[carrier], field, f"{field} count minimum")
    assert any(CONSTRAINTS.violation_fault in item.expects for item in found), (field, carrier)


@pytest.mark.parametrize("item", CONSTRAINTS.ranges, ids=lambda r: f"{r.type}.{r.field}")
def test_every_range_is_cited_by_a_requirement_naming_the_field(item: IntRange) -> None:
    found = _citing(TYPE_SECTIONS[item.type], item.field)
    assert found, f"no requirement in {TYPE_SECTIONS[item.type]} names {item.field}"
    if item.not_given and item.type == "AddOpenMediaRequest":
        assert any("R5" in r.readings for r in found), f"{item.field}: not-given values (R5)"


@pytest.mark.parametrize("rule", CONSTRAINTS.requires_type_of_session, ids=lambda r: r.field)
def test_every_option_needing_type_of_session_is_cited(rule: TypeOfSessionRequirement) -> None:
    field = rule.field
    found = _citing("options", field, "TypeOfSession", "requires_type_of_session")
    assert any(CONSTRAINTS.violation_fault in r.expects for r in found), field


def _limit_numbers() -> set[int]:
    numbers: set[int] = set()
    for limit in CONSTRAINTS.lengths:
        numbers.add(limit.max)
    for count in CONSTRAINTS.counts:
        numbers |= {count.min, count.max}
    for item in CONSTRAINTS.ranges:
        numbers |= {item.min} | ({item.max} if item.max is not None else set())
    for rule in CONSTRAINTS.requires_type_of_session:
        numbers |= set(rule.values)
    for values in CONSTRAINTS.option_values.values():
        numbers |= set(values.values())
    numbers |= {v for v in CONSTRAINTS.defaults.values() if type(v) is int}
    return numbers - {0, 1}  # too common to ban ("QueuePosition 0", "tenantID 1")


def test_no_limit_is_written_as_a_number_in_the_catalogue() -> None:
    """Limits live in constraints.toml only; the catalogue names them, never restates them."""
    banned = _limit_numbers()
    assert banned, "no limit numbers found: the test would be hollow"
    offenders = []
    for item in CATALOGUE.requirements:
        for token in re.findall(r"(?<![\w.])\d+(?!\w|\.\d)", item.text):
            if int(token) in banned:
                offenders.append(f"{item.id}: {token}")
    assert offenders == []
