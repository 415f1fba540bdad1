"""The invalid side: members the XSD still accepts that break exactly one constraint.

The constraints of ``constraints.toml`` lie beyond the XSD (DCS exports no facets), so a
target can only refuse these requests by enforcing the rule itself (R3). Each *breaker* is one
constraint landing on one member of a type; it breaks that constraint in an otherwise valid
request, the explicit way (one past the limit in ASCII, in BMP text, and by one astral
character that keeps the code-point count within the limit; one past each end of a range,
skipping "not given" values; one item over the count; no item with content) and the random way
(any over-long text, any out-of-range int, several items over).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.contract import schema
from conformance.contract.constraints import CountLimit, IntRange, LengthLimit, utf16_units
from conformance.contract.schema import Member
from conformance.strategies import model
from conformance.strategies.examples import (
    ABSENT,
    InvalidCase,
    fixed_replacement,
    minimal_members,
    with_fixed_content,
)
from conformance.strategies.model import Constraint
from conformance.strategies.text import (
    TEXT_KINDS,
    TextKind,
    one_unit_over_in_code_points,
    text_of_units,
    units_text,
)
from conformance.strategies.valid import (
    Members,
    complex_values,
    repairs,
    valid_base,
    with_content,
)
from conformance.strategies.violations import Violation, ViolationKind
from conformance.wire.encode import INT_MAX, INT_MIN


@dataclass(frozen=True)
class Breaker:
    """One constraint landing on one member of a type (``item_field``: a string in its items)."""

    kind: ViolationKind
    field: str
    member: Member
    constraint: Constraint
    item_field: Member | None = None

    @property
    def slug(self) -> str:
        return self.field.lower()


def breakers(type_name: str) -> tuple[Breaker, ...]:
    """Every constraint that applies to ``type_name``, in wire order; requirements last."""
    found: list[Breaker] = []
    by_name = {member.name: member for member in schema.members(type_name)}
    for member in by_name.values():
        if member.type_name == "string" and (limit := model.length_of(type_name, member)):
            found.append(Breaker("length", limit.field, member, limit))
        elif member.type_name == "int" and (accepted := model.range_of(type_name, member)):
            found.append(Breaker("range", accepted.field, member, accepted))
        elif (item := model.array_item(member.type_name)) is not None:
            if (count := model.count_of(type_name, member)) is not None:
                found.append(Breaker("count", count.field, member, count))
            for sub in schema.members(item.type_name):
                limit = model.length_of(item.type_name, sub) if sub.type_name == "string" else None
                if limit is not None:
                    found.append(Breaker("length", limit.field, member, limit, sub))
    for requirement in model.requirements_for(type_name):
        found.append(
            Breaker(
                "requires_type_of_session",
                requirement.field,
                by_name[requirement.field],
                requirement,
            )
        )
    return tuple(found)


def select(type_name: str, kind: str | None, field: str | None) -> tuple[Breaker, ...]:
    """The breakers matching the filters; ``ValueError`` when none does (nothing to break)."""
    chosen = tuple(
        b
        for b in breakers(type_name)
        if (kind is None or b.kind == kind) and (field is None or b.field == field)
    )
    if not chosen:
        raise ValueError(
            f"no constraint of constraints.toml applies to {type_name}"
            + (f" with kind={kind!r}" if kind else "")
            + (f" field={field!r}" if field else "")
        )
    return chosen


def place_text(members: Members, b: Breaker, text: str, index: int = 0) -> tuple[Members, str]:
    """Put an over-long text where the breaker points; returns the members and the path."""
    name = b.member.name
    if b.item_field is None:
        return {**members, name: text}, name
    items = list(members.get(name) or [])
    if not items:
        items, index = [{}], 0
    items[index] = {**items[index], b.item_field.name: text}
    return {**members, name: items}, f"{name}[{index}].{b.item_field.name}"


def _length_violation(b: Breaker, path: str, text: str) -> Violation:
    return Violation("length", b.field, path, text, utf16_units(text), b.constraint)


def _explicit(type_name: str, b: Breaker, base: Members) -> list[InvalidCase]:
    name = b.member.name
    cases: list[InvalidCase] = []
    c = b.constraint
    if b.kind == "length":
        assert isinstance(c, LengthLimit)
        for variant, text in (
            ("over-limit", units_text(c.max + 1, "ascii")),
            ("over-limit-bmp", units_text(c.max + 1, "bmp")),
            ("over-limit-non-bmp", one_unit_over_in_code_points(c.max)),
        ):
            members, path = place_text(base, b, text)
            cases.append(
                InvalidCase(f"{b.slug}-{variant}", members, _length_violation(b, path, text))
            )
    elif b.kind == "count":
        assert isinstance(c, CountLimit)
        item = model.array_item(b.member.type_name)
        assert item is not None
        over = [with_fixed_content(item.type_name, {}, i) for i in range(c.max + 1)]
        cases.append(
            InvalidCase(
                f"{b.slug}-over-count",
                {**base, name: over},
                Violation("count", b.field, name, None, c.max + 1, c),
            )
        )
        if model.count_min(type_name, c) > 0:
            without = {k: v for k, v in base.items() if k != name}
            for variant, members in (
                ("absent", without),
                ("nil", {**without, name: None}),
                ("empty-list", {**without, name: []}),
                ("empty-items", {**without, name: _empty_items(item.type_name, c.max)}),
            ):
                cases.append(
                    InvalidCase(
                        f"{b.slug}-under-count-{variant}",
                        members,
                        Violation("count", b.field, name, None, 0, c),
                    )
                )
    elif b.kind == "range":
        assert isinstance(c, IntRange)
        ends = [("below-range", c.first_refused_below())]
        if c.max is not None:
            ends.append(("above-range", c.max + 1))
        for variant, value in ends:
            cases.append(
                InvalidCase(
                    f"{b.slug}-{variant}",
                    {**base, name: value},
                    Violation("range", b.field, name, value, None, c),
                )
            )
    else:
        for value in c.values:  # type: ignore[union-attr]
            for tos in (0, ABSENT):
                members = _without_type_of_session(type_name, {**base, name: value}, name, tos)
                label = "absent" if tos is ABSENT else str(tos)
                cases.append(
                    InvalidCase(
                        f"{b.slug}-{value}-type-of-session-{label}",
                        members,
                        Violation("requires_type_of_session", b.field, name, value, None, c),
                    )
                )
    return cases


def _empty_items(type_name: str, how_many: int) -> list[Members]:
    """Items without content: every string empty, every string nil, no member at all."""
    strings = [m.name for m in schema.members(type_name) if m.type_name == "string"]
    shapes: list[Members] = [dict.fromkeys(strings, ""), dict.fromkeys(strings, None), {}]
    return [shapes[i % len(shapes)] for i in range(how_many)]


def _without_type_of_session(type_name: str, members: Members, pinned: str, tos: Any) -> Members:
    out = {k: v for k, v in members.items() if k != model.TYPE_OF_SESSION}
    if tos is not ABSENT:
        out[model.TYPE_OF_SESSION] = tos
    for field, (accepted, refused) in repairs(type_name, out, frozenset({pinned})):
        out[field] = fixed_replacement(accepted, refused)
    return dict(sorted(out.items(), key=lambda kv: _order(type_name)[kv[0]]))


def _order(type_name: str) -> dict[str, int]:
    return {m.name: i for i, m in enumerate(schema.members(type_name))}


def invalid_examples(
    type_name: str, given: Mapping[str, Any] | None = None
) -> tuple[InvalidCase, ...]:
    """Every explicit invalid case of the type, each on the minimal valid request (+ given)."""
    base = minimal_members(type_name, given)
    return tuple(case for b in breakers(type_name) for case in _explicit(type_name, b, base))


def explicit_cases(type_name: str, b: Breaker, given: Mapping[str, Any]) -> list[InvalidCase]:
    """The explicit cases of one breaker on the minimal valid request (+ given)."""
    return _explicit(type_name, b, minimal_members(type_name, given))


@st.composite
def random_case(
    draw: st.DrawFn, type_name: str, b: Breaker, given: Mapping[str, Any]
) -> tuple[Members, Violation]:
    """A random valid request with the breaker's constraint broken, and nothing else."""
    name = b.member.name
    c = b.constraint
    if b.kind == "requires_type_of_session":
        value = draw(st.sampled_from(c.values))  # type: ignore[union-attr]
        tos = draw(st.sampled_from([0, ABSENT]))
        base = draw(valid_base(type_name, {**given, model.TYPE_OF_SESSION: 0}, frozenset({name})))
        members = _without_type_of_session(type_name, {**base, name: value}, name, tos)
        return members, Violation("requires_type_of_session", b.field, name, value, None, c)
    base = draw(valid_base(type_name, given, frozenset({name})))
    if b.kind == "length":
        assert isinstance(c, LengthLimit)
        units = c.max + 1 if draw(st.booleans()) else draw(st.integers(c.max + 1, 2 * c.max + 2))
        kind: TextKind = draw(st.sampled_from(TEXT_KINDS))
        text = draw(
            st.one_of(text_of_units(units, kind), st.just(one_unit_over_in_code_points(c.max)))
        )
        existing = base.get(name)
        slots = len(existing) if isinstance(existing, list) and existing else 1
        members, path = place_text(base, b, text, draw(st.integers(0, slots - 1)))
        return members, _length_violation(b, path, text)
    if b.kind == "count":
        assert isinstance(c, CountLimit)
        item = model.array_item(b.member.type_name)
        assert item is not None
        if model.count_min(type_name, c) > 0 and draw(st.booleans()):
            items = draw(_items_without_content(item.type_name, c.max))
            members = {k: v for k, v in base.items() if k != name}
            if items is not ABSENT:
                members[name] = items
            return members, Violation("count", b.field, name, None, 0, c)
        size = c.max + 1 if draw(st.booleans()) else draw(st.integers(c.max + 1, c.max + 3))
        items = [draw(complex_values(item.type_name)) for _ in range(size)]
        for index in range(model.count_min(type_name, c)):
            if not model.has_item_content(items[index]):
                items[index] = draw(with_content(item.type_name, items[index]))
        return {**base, name: items}, Violation("count", b.field, name, None, size, c)
    assert isinstance(c, IntRange)
    below = c.first_refused_below()
    sides = [st.one_of(st.just(below), st.integers(INT_MIN, below))]
    if c.max is not None:
        sides.append(st.one_of(st.just(c.max + 1), st.integers(c.max + 1, INT_MAX)))
    value = draw(st.one_of(*sides).filter(lambda v: not c.accepts(v)))
    return {**base, name: value}, Violation("range", b.field, name, value, None, c)


@st.composite
def _items_without_content(draw: st.DrawFn, type_name: str, most: int) -> Any:
    """Absent, nil, an empty list, or 1..most items whose strings are all empty / nil / absent."""
    shape = draw(st.sampled_from(["absent", "nil", "empty-list", "items"]))
    if shape == "absent":
        return ABSENT
    if shape == "nil":
        return None
    if shape == "empty-list":
        return []
    strings = [m.name for m in schema.members(type_name) if m.type_name == "string"]
    blank = st.sampled_from(["", None, ABSENT])
    items = []
    for _ in range(draw(st.integers(1, most))):
        values = {name: draw(blank) for name in strings}
        items.append({k: v for k, v in values.items() if v is not ABSENT})
    return items
