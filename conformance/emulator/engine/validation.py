"""Limits, counts and ranges of the inputs, all read from ``schemas/constraints.toml``.

The XSD carries none of them (DCS exports no facets), so the server enforces them in code; a
violation is an InvalidDataException fault (R3). Nothing here knows a number: every limit is a
``CONSTRAINTS`` entry looked up by the data-contract type it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.contract.constraints import CONSTRAINTS, IntRange, utf16_units
from conformance.emulator.engine.errors import INVALID_DATA, ServiceFault
from conformance.emulator.engine.model import IvrItem, snake
from conformance.emulator.faults import bend_range, count_limit, length_limit

_IVR_TYPE = "IVRInformation"
_ADD = "AddOpenMediaRequest"


def _refuse(message: str) -> ServiceFault:
    return ServiceFault(INVALID_DATA, message)


@dataclass(frozen=True)
class _Rules:
    """The constraints of one input type, looked up once."""

    lengths: tuple[tuple[str, str, int], ...]
    ranges: tuple[tuple[str, IntRange], ...]
    needs_type: tuple[tuple[str, str, tuple[int, ...]], ...]


@cache
def _rules(type_name: str) -> _Rules:
    return _Rules(
        tuple((snake(x.field), x.field, x.max) for x in CONSTRAINTS.lengths_for(type_name)),
        tuple((snake(r.field), r) for r in CONSTRAINTS.ranges_for(type_name)),
        tuple((snake(r.field), r.field, r.values) for r in CONSTRAINTS.requires_type_of_session),
    )


def check(
    type_name: str,
    value: Any,
    faults: frozenset[str] = frozenset(),
    context: str | None = None,
) -> None:
    """Raise InvalidDataException when ``value`` (an input of ``type_name``) breaks a rule.

    ``faults``: planted defects (``conformance.emulator.faults``) that bend a rule, looked up by
    the operation's input type ``context`` (an IVRInformation is checked in its request's).
    """
    rules = _rules(type_name)
    outer = context or type_name
    for attribute, field, limit in rules.lengths:
        text = getattr(value, attribute, None)
        if text is None:
            continue
        if faults:
            limit = length_limit(faults, outer, field, limit)
            if outer == _ADD and "length-counts-utf8-bytes" in faults:
                text = text.encode("utf-8").decode("latin-1")  # one unit per byte
            if outer == _ADD and "length-counts-code-points" in faults:
                text = "x" * len(text)  # one unit per code point
        if len(text) * 2 > limit and utf16_units(text) > limit:
            raise _refuse(f"{field} is longer than {limit} characters")
    for attribute, span in rules.ranges:
        number = getattr(value, attribute)
        if faults:
            span = bend_range(faults, span)
            if "not-given-minus-one-refused" in faults and type_name == _ADD and number == -1:
                raise _refuse(f"{span.field} {number} is out of range")
        if not span.accepts(number):
            raise _refuse(f"{span.field} {number} is out of range")
    type_of_session = getattr(value, "type_of_session", None)
    typeless = type_of_session is None or type_of_session in CONSTRAINTS.not_given(
        type_name, "TypeOfSession"
    )  # R5: -1 is "not given" like 0
    for attribute, field, values in rules.needs_type:
        option = getattr(value, attribute, None)
        needed = "per-type-option-without-type-accepted" not in faults
        if option in values and typeless and needed:
            raise _refuse(f"{field} {option} requires TypeOfSession")
    if hasattr(value, "ivr_info"):
        _check_ivr(type_name, value.ivr_info or (), faults)


def _min_skipped(type_name: str, faults: frozenset[str]) -> bool:
    """A planted defect that lets the operation go without an IVRInformation (R7)."""
    if type_name == _ADD:
        return "empty-ivr-info-accepted" in faults
    return "modify-without-ivr-info-accepted" in faults


def _usable(item: IvrItem | None, faults: frozenset[str]) -> bool:
    """Whether an item counts toward the at-least-one rule (R7; fault hooks bend it)."""
    if item is None:
        return False
    if "empty-ivr-items-count" in faults:
        return item.label is not None or item.data is not None
    if "ivr-needs-label-and-data" in faults:
        return bool(item.label and item.data)
    return bool(item.label or item.data)


def _check_ivr(type_name: str, items: tuple[IvrItem | None, ...], faults: frozenset[str]) -> None:
    count = CONSTRAINTS.count(_IVR_TYPE)
    most = count_limit(faults, type_name, count.max) if faults else count.max
    if type_name in count.types and len(items) > most:
        raise _refuse(f"more than {most} IVRInformation items")
    if type_name in count.min_applies_to and not _min_skipped(type_name, faults):
        usable = sum(1 for item in items if _usable(item, faults))
        if usable < count.min:
            raise _refuse("at least one IVRInformation with a Label or Data is required")
    for item in items:
        if item is not None:
            check(_IVR_TYPE, item, faults, type_name)
