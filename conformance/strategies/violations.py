"""Which constraints a dict of members breaks: the oracle both generator sides are held to.

It is written apart from the generators, straight from the constraints file and the XSD
members, so that "the valid side breaks nothing" and "the invalid side breaks exactly the one
constraint its :class:`Violation` names" are claims a second piece of code confirms, not ones
the generators make about themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from conformance.contract import schema
from conformance.contract.constraints import CountLimit, IntRange, LengthLimit, utf16_units
from conformance.strategies import model
from conformance.strategies.model import Constraint

ViolationKind = Literal["length", "count", "range", "requires_type_of_session"]


@dataclass(frozen=True)
class Violation:
    """One broken constraint: what kind, on which field, where, with what value.

    ``field`` is the constraint's own field (``Label``, ``IVRInformation``, ``SessionPriority``,
    ``AgentActionOptions``); ``path`` is where it sits in the members (``IVRInfo[0].Label``,
    ``IVRInfo``, ``SessionPriority``). ``value`` is the offending text (length) or int (range,
    requires_type_of_session), ``None`` for a count. ``length`` is the measure that broke it:
    UTF-16 code units (length), items (count over the max) or items with content (count under
    the min); ``None`` for range and requires_type_of_session. ``constraint`` is the object
    from ``CONSTRAINTS`` that was broken.
    """

    kind: ViolationKind
    field: str
    path: str
    value: int | str | None
    length: int | None
    constraint: Constraint

    @property
    def bound(self) -> int | None:
        """The limit that was crossed: the max for length/count-over/range-above, else the min."""
        c = self.constraint
        if isinstance(c, LengthLimit):
            return c.max
        if isinstance(c, CountLimit):
            return c.max if (self.length or 0) > c.max else c.min
        if isinstance(c, IntRange) and isinstance(self.value, int):
            return c.min if self.value < c.min else c.max
        return None

    def describe(self) -> str:
        """One line for a failure message: ``IVRInfo[0].Label: 101 UTF-16 units > 100``."""
        if self.kind == "length":
            return f"{self.path}: {self.length} UTF-16 units > {self.bound}"
        if self.kind == "count":
            relation = ">" if self.length is not None and self.length > (self.bound or 0) else "<"
            return f"{self.path}: {self.length} {self.field} {relation} {self.bound}"
        if self.kind == "range":
            return f"{self.path}: {self.value} outside the accepted range of {self.field}"
        return f"{self.path}: {self.value} needs {model.TYPE_OF_SESSION} in the same call"


def constraint_violations(type_name: str, members: Mapping[str, Any]) -> list[Violation]:
    """Every constraint of ``constraints.toml`` the members of ``type_name`` break, in wire order.

    ``members`` has the shape ``build_envelope`` takes (arrays as lists, nested types as dicts,
    ``None`` for nil, absent keys omitted). An unknown member name is a ``KeyError``: a dict
    this checker cannot read is a bug in whoever built it, not a valid request.
    """
    found: list[Violation] = []
    _walk(type_name, members, "", found)
    for requirement in model.requirements_for(type_name):
        value = members.get(requirement.field)
        given = model.type_of_session_given(type_name, dict(members))
        if value in requirement.values and not given:
            found.append(
                Violation(
                    "requires_type_of_session",
                    requirement.field,
                    requirement.field,
                    value,
                    None,
                    requirement,
                )
            )
    return found


def _walk(type_name: str, members: Mapping[str, Any], prefix: str, found: list[Violation]) -> None:
    declared = {member.name: member for member in schema.members(type_name)}
    unknown = [name for name in members if name not in declared]
    if unknown:
        raise KeyError(f"{type_name} has no member(s) {', '.join(unknown)}")
    for member in declared.values():
        value = members.get(member.name)
        path = prefix + member.name
        count = model.count_of(type_name, member)
        if count is not None:
            _check_count(type_name, count, value, path, found)
        if value is None:
            continue
        if member.type_name == "string":
            limit = model.length_of(type_name, member)
            if limit is not None and utf16_units(value) > limit.max:
                units = utf16_units(value)
                found.append(Violation("length", limit.field, path, value, units, limit))
        elif member.type_name == "int":
            accepted = model.range_of(type_name, member)
            if accepted is not None and not accepted.accepts(value):
                found.append(Violation("range", accepted.field, path, value, None, accepted))
        elif (item := model.array_item(member.type_name)) is not None:
            for index, entry in enumerate(value):
                if isinstance(entry, Mapping):
                    _walk(item.type_name, entry, f"{path}[{index}].", found)
        elif not model.is_scalar(member.type_name) and isinstance(value, Mapping):
            _walk(member.type_name, value, path + ".", found)


def _check_count(type_name: str, limit: Any, value: Any, path: str, found: list[Violation]) -> None:
    items = list(value) if isinstance(value, (list, tuple)) else []
    if len(items) > limit.max:
        found.append(Violation("count", limit.field, path, None, len(items), limit))
        return
    with_content = sum(1 for item in items if model.has_item_content(item))
    if with_content < model.count_min(type_name, limit):
        found.append(Violation("count", limit.field, path, None, with_content, limit))
