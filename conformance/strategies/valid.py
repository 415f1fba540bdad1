"""The valid side: members the XSD accepts and every constraint of ``constraints.toml`` allows.

Each member is generated from what the XSD says it is (boolean, int, string, dateTime, an
array, a nested type) and what the constraints file says about it (a length limit in UTF-16
units, a count, a range with its "not given" values, an option that needs TypeOfSession).
Boundaries are drawn on purpose: the limit exactly, empty strings, nil, every "not given"
value, non-BMP text. Members that name something in the target's scenario (group and request
IDs, see :func:`conformance.strategies.model.is_identifier`) are never invented: they come from
the caller's ``group=`` / ``ids=`` strategies or stay absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st

from conformance.contract import schema
from conformance.contract.constraints import CONSTRAINTS, IntRange
from conformance.contract.schema import Member
from conformance.strategies import model
from conformance.strategies.text import text_up_to_units
from conformance.wire.encode import INT_MAX

Members = dict[str, Any]
GivenStrategy = st.SearchStrategy[Mapping[str, Any]]

PAST_FROM = datetime(2000, 1, 1)
PAST_TO = datetime(2020, 12, 31, 23, 59, 59)
"""Generated times lie in the past of any target clock (R8 ignores a future QueueStartTime)."""

_FREE_ITEMS = 2
"""Items of an array no count governs (none of the request types has one today)."""


def past_datetimes() -> st.SearchStrategy[datetime]:
    """Timezone-aware UTC datetimes well in the past (the encoder refuses naive ones)."""
    return st.datetimes(PAST_FROM, PAST_TO, timezones=st.just(timezone.utc))


def range_values(accepted: IntRange, exclude: tuple[int, ...] = ()) -> st.SearchStrategy[int]:
    """Values the range accepts: its "not given" values, both ends, anything between."""
    top = INT_MAX if accepted.max is None else accepted.max
    parts: list[st.SearchStrategy[int]] = []
    if accepted.not_given:
        parts.append(st.sampled_from(accepted.not_given))
    parts += [st.just(accepted.min), st.just(top), st.integers(accepted.min, top)]
    values = st.one_of(*parts)
    return values.filter(lambda v: v not in exclude) if exclude else values


def required(owner: str, member: Member) -> bool:
    """A member that must be present for validity: an array with a count minimum (R7)."""
    limit = model.count_of(owner, member)
    return limit is not None and model.count_min(owner, limit) > 0


def _rarely(alternative: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``alternative`` one time in four, else the strategy."""
    return st.integers(0, 3).flatmap(lambda k: st.just(alternative) if k == 0 else strategy)


def member_strategy(owner: str, member: Member) -> st.SearchStrategy[Any] | None:
    """A valid value of one member of ``owner``; ``None`` for an identifier (never invented)."""
    if model.is_identifier(owner, member):
        return None
    kind = member.type_name
    strategy: st.SearchStrategy[Any]
    if kind == "boolean":
        strategy = st.booleans()
    elif kind == "int":
        accepted = model.range_of(owner, member)
        assert accepted is not None
        strategy = range_values(accepted)
    elif kind == "string":
        limit = model.length_of(owner, member)
        assert limit is not None
        strategy = text_up_to_units(limit.max)
    elif kind == "dateTime":
        strategy = past_datetimes()
    elif schema.is_enumeration(kind):
        strategy = st.sampled_from(schema.enumeration(kind))
    elif model.array_item(kind) is not None:
        strategy = array_values(owner, member)
    else:
        strategy = complex_values(kind)
    if member.nillable and not required(owner, member):
        strategy = _rarely(None, strategy)
    return strategy


def complex_values(type_name: str) -> st.SearchStrategy[Members]:
    """A nested data contract (an IVRInformation item) with each member maybe absent."""
    return _members(type_name, {}, frozenset())


@st.composite
def array_values(draw: st.DrawFn, owner: str, member: Member) -> list[Members]:
    """Between the count's min (where it applies) and max items; the min of them with content."""
    item = model.array_item(member.type_name)
    assert item is not None
    limit = model.count_of(owner, member)
    low = 0 if limit is None else model.count_min(owner, limit)
    high = _FREE_ITEMS if limit is None else limit.max
    mode = draw(st.integers(0, 3))
    size = high if mode == 0 else low if mode == 1 else draw(st.integers(low, high))
    items = [draw(complex_values(item.type_name)) for _ in range(size)]
    for index in range(low):
        if not model.has_item_content(items[index]):
            items[index] = draw(with_content(item.type_name, items[index]))
    return list(draw(st.permutations(items))) if low else items


@st.composite
def with_content(draw: st.DrawFn, type_name: str, item: Members) -> Members:
    """The item with one of its limited string members set to non-empty text."""
    strings = [m for m in schema.members(type_name) if model.length_of(type_name, m) is not None]
    chosen = draw(st.sampled_from(strings))
    limit = model.length_of(type_name, chosen)
    assert limit is not None
    return {**item, chosen.name: draw(text_up_to_units(limit.max, min_units=1))}


@st.composite
def _members(
    draw: st.DrawFn, owner: str, given: Mapping[str, Any], keep: frozenset[str]
) -> Members:
    out: Members = {}
    for member in schema.members(owner):
        if member.name in given:
            out[member.name] = given[member.name]
            continue
        strategy = member_strategy(owner, member)
        if strategy is None:
            continue
        if required(owner, member) or draw(st.integers(0, 3)) > 0:
            out[member.name] = draw(strategy)
    for field, allowed in repairs(owner, out, keep | frozenset(given)):
        out[field] = draw(range_values(allowed[0], exclude=allowed[1]))
    return out


def repairs(
    owner: str, members: Mapping[str, Any], keep: frozenset[str]
) -> list[tuple[str, tuple[IntRange, tuple[int, ...]]]]:
    """Option values that need a TypeOfSession the members do not give, and what may replace them.

    ``keep`` names members that must not change (given by the caller, or the one a violation
    pins).
    """
    if model.type_of_session_given(owner, dict(members)):
        return []
    found = []
    for requirement in model.requirements_for(owner):
        if requirement.field in keep or members.get(requirement.field) not in requirement.values:
            continue
        found.append(
            (requirement.field, (CONSTRAINTS.range(owner, requirement.field), requirement.values))
        )
    return found


def given_members(
    draw: st.DrawFn, owner: str, group: GivenStrategy | None, ids: GivenStrategy | None
) -> Members:
    """The caller's scenario members (group identification, then IDs), checked against the XSD."""
    given: Members = {}
    for source in (group, ids):
        if source is not None:
            given.update(draw(source))
    names = {member.name for member in schema.members(owner)}
    unknown = [name for name in given if name not in names]
    if unknown:
        raise KeyError(f"{owner} has no member(s) {', '.join(unknown)} (given by group=/ids=)")
    return given


def valid_base(
    type_name: str, given: Mapping[str, Any], keep: frozenset[str]
) -> st.SearchStrategy[Members]:
    """Random valid members around ``given``; the invalid side then breaks one thing in them."""
    return _members(type_name, given, keep)
