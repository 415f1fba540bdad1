"""Limits, counts and ranges of the inputs, all read from ``schemas/constraints.toml``.

The XSD carries none of them (DCS exports no facets), so the server enforces them in code; a
violation is an InvalidDataException fault (R3). Nothing here knows a number: every limit is a
``CONSTRAINTS`` entry looked up by the data-contract type it applies to.
"""

from __future__ import annotations

from typing import Any

from conformance.contract.constraints import CONSTRAINTS, utf16_units
from conformance.emulator.errors import INVALID_DATA, ServiceFault
from conformance.emulator.model import IvrItem, snake

_IVR_TYPE = "IVRInformation"


def _refuse(message: str) -> ServiceFault:
    return ServiceFault(INVALID_DATA, message)


def check(type_name: str, value: Any) -> None:
    """Raise InvalidDataException when ``value`` (an input of ``type_name``) breaks a rule."""
    for limit in CONSTRAINTS.lengths_for(type_name):
        text = getattr(value, snake(limit.field), None)
        if text is not None and utf16_units(text) > limit.max:
            raise _refuse(f"{limit.field} is longer than {limit.max} characters")
    for span in CONSTRAINTS.ranges_for(type_name):
        number = getattr(value, snake(span.field))
        if not span.accepts(number):
            raise _refuse(f"{span.field} {number} is out of range")
    type_of_session = getattr(value, "type_of_session", None)
    for rule in CONSTRAINTS.requires_type_of_session:
        option = getattr(value, snake(rule.field), None)
        if option in rule.values and not type_of_session:
            raise _refuse(f"{rule.field} {option} requires TypeOfSession")
    items = getattr(value, "ivr_info", None)
    if hasattr(value, "ivr_info"):
        _check_ivr(type_name, items or ())


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
