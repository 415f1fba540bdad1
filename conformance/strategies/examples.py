"""Explicit, deterministic examples: the boundaries named, not sampled.

Hypothesis finds boundaries only by luck and a seed; golden envelopes and ``@example`` cases
need them every time and byte for byte. Each valid example applies one *style* to every member
of a type (every limited string at exactly its limit in one alphabet; every string empty; every
nillable member nil and every range at a "not given" value; ...), so one example exercises all
limits of a request at once. The same module builds the minimal valid request that the explicit
invalid cases (:mod:`conformance.strategies.invalid`) break one constraint in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from conformance.contract import schema
from conformance.contract.constraints import IntRange
from conformance.contract.schema import Member
from conformance.strategies import model
from conformance.strategies.text import TextKind, units_text
from conformance.strategies.valid import Members, repairs, required
from conformance.strategies.violations import Violation

FIXED_TIME = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
"""The one dateTime of explicit examples: in the past, UTC (R17), no sub-second noise."""

_CONTENT_UNITS = 9
"""Length of the short text an item gets when a count minimum needs it to have content."""


class _Absent:
    """Marks a member an example leaves out (``None`` already means nil)."""


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Example:
    """A named valid member dict (``at-limit-non-bmp``, ``empty-strings``, ``minimal`` ...)."""

    name: str
    members: Members


@dataclass(frozen=True)
class InvalidCase:
    """A named member dict that breaks exactly the constraint its ``violation`` names."""

    name: str
    members: Members
    violation: Violation


@dataclass(frozen=True)
class _Style:
    name: str
    strings: Literal["limit", "empty", "skip"]
    text: TextKind
    ints: Literal["top", "min", "not-given", "skip"]
    bools: bool | None
    arrays: Literal["max", "min", "required-only"]
    nil: bool
    times: bool


_STYLES: tuple[_Style, ...] = (
    _Style("minimal", "skip", "ascii", "skip", None, "required-only", False, False),
    _Style("at-limit-mixed", "limit", "mixed", "top", True, "max", False, True),
    _Style("at-limit-ascii", "limit", "ascii", "top", False, "max", False, True),
    _Style("at-limit-bmp", "limit", "bmp", "top", True, "max", False, True),
    _Style("at-limit-non-bmp", "limit", "non-bmp", "top", False, "max", False, True),
    _Style("empty-strings", "empty", "ascii", "min", False, "min", False, True),
    _Style("nil-and-not-given", "skip", "ascii", "not-given", True, "min", True, False),
)


def first_given(accepted: IntRange) -> int:
    """The smallest accepted value that is really given: not "not given", not 0 (all types)."""
    value = accepted.min
    while value in accepted.not_given or value == 0:
        value += 1
    return value


def _int(accepted: IntRange, how: str) -> Any:
    if how == "top":
        return accepted.max if accepted.max is not None else first_given(accepted)
    if how == "min":
        return accepted.min
    if how == "not-given":
        return accepted.not_given[0] if accepted.not_given else accepted.min
    return ABSENT


def _value(owner: str, member: Member, style: _Style, index: int) -> Any:
    if model.is_identifier(owner, member):
        return ABSENT
    if style.nil and member.nillable and not required(owner, member):
        return None
    kind = member.type_name
    if kind == "boolean":
        return ABSENT if style.bools is None else style.bools
    if kind == "int":
        accepted = model.range_of(owner, member)
        assert accepted is not None
        return _int(accepted, style.ints)
    if kind == "string":
        limit = model.length_of(owner, member)
        assert limit is not None
        if style.strings == "limit":
            return units_text(limit.max, style.text, start=index)
        return "" if style.strings == "empty" else ABSENT
    if kind == "dateTime":
        return FIXED_TIME if style.times else ABSENT
    if schema.is_enumeration(kind):
        return schema.enumeration(kind)[0] if style.times else ABSENT
    if model.array_item(kind) is not None:
        return _items(owner, member, style)
    return _styled(kind, style, {}, index)


def _items(owner: str, member: Member, style: _Style) -> Any:
    item = model.array_item(member.type_name)
    assert item is not None
    limit = model.count_of(owner, member)
    low = 0 if limit is None else model.count_min(owner, limit)
    high = 2 if limit is None else limit.max
    size = high if style.arrays == "max" else low
    if size == 0 and style.arrays == "required-only":
        return ABSENT
    items = [_styled(item.type_name, style, {}, index) for index in range(size)]
    for index in range(low):
        if not model.has_item_content(items[index]):
            items[index] = with_fixed_content(item.type_name, items[index], index)
    return items


def with_fixed_content(type_name: str, item: Members, index: int = 0) -> Members:
    """The item with its last limited string member set to a short non-empty ASCII text."""
    strings = [m for m in schema.members(type_name) if model.length_of(type_name, m) is not None]
    chosen = strings[-1]
    limit = model.length_of(type_name, chosen)
    assert limit is not None
    return {**item, chosen.name: units_text(min(_CONTENT_UNITS, limit.max), "ascii", start=index)}


def fixed_replacement(accepted: IntRange, refused: tuple[int, ...]) -> int:
    """The largest accepted value not in ``refused`` (else the first "not given" value)."""
    value = accepted.max if accepted.max is not None else first_given(accepted)
    while value in refused and value >= accepted.min:
        value -= 1
    if value < accepted.min:
        return accepted.not_given[0] if accepted.not_given else accepted.min
    return value


def _styled(owner: str, style: _Style, given: Mapping[str, Any], index: int = 0) -> Members:
    out: Members = {}
    for member in schema.members(owner):
        if member.name in given:
            out[member.name] = given[member.name]
            continue
        value = _value(owner, member, style, index)
        if value is not ABSENT:
            out[member.name] = value
    for field, (accepted, refused) in repairs(owner, out, frozenset(given)):
        out[field] = fixed_replacement(accepted, refused)
    return out


def minimal_members(type_name: str, given: Mapping[str, Any] | None = None) -> Members:
    """The given members plus only what validity needs (AddRequest: one IVRInformation, R7)."""
    return _styled(type_name, _STYLES[0], dict(given or {}))


def valid_examples(type_name: str, given: Mapping[str, Any] | None = None) -> tuple[Example, ...]:
    """One example per style, duplicates (a type without strings) dropped, in a fixed order."""
    seen: list[Members] = []
    out: list[Example] = []
    for style in _STYLES:
        members = _styled(type_name, style, dict(given or {}))
        if members in seen:
            continue
        seen.append(members)
        out.append(Example(style.name, members))
    return tuple(out)
