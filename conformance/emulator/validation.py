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
from conformance.emulator.errors import INVALID_DATA, ServiceFault
from conformance.emulator.model import IvrItem, snake

_IVR_TYPE = "IVRInformation"


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


def check(type_name: str, value: Any) -> None:
    """Raise InvalidDataException when ``value`` (an input of ``type_name``) breaks a rule."""
    rules = _rules(type_name)
    for attribute, field, limit in rules.lengths:
        text = getattr(value, attribute, None)
        if text is not None and len(text) * 2 > limit and utf16_units(text) > limit:
            raise _refuse(f"{field} is longer than {limit} characters")
    for attribute, span in rules.ranges:
        number = getattr(value, attribute)
        if not span.accepts(number):
            raise _refuse(f"{span.field} {number} is out of range")
    type_of_session = getattr(value, "type_of_session", None)
    for attribute, field, values in rules.needs_type:
        option = getattr(value, attribute, None)
        if option in values and not type_of_session:
            raise _refuse(f"{field} {option} requires TypeOfSession")
    if hasattr(value, "ivr_info"):
        _check_ivr(type_name, value.ivr_info or ())


def _check_ivr(type_name: str, items: tuple[IvrItem | None, ...]) -> None:
    count = CONSTRAINTS.count(_IVR_TYPE)
    if type_name in count.types and len(items) > count.max:
        raise _refuse(f"more than {count.max} IVRInformation items")
    if type_name in count.min_applies_to:
        usable = sum(1 for item in items if item is not None and (item.label or item.data))
        if usable < count.min:
            raise _refuse("at least one IVRInformation with a Label or Data is required")
    for item in items:
        if item is not None:
            check(_IVR_TYPE, item)
