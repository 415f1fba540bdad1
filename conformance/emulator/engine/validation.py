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
from conformance.emulator.faults import NONE, Defect, Planted, bend_range, count_limit, length_limit

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


# implements ADD-LIMIT-UTF16-UNITS, ADD-IVRINFO-AT-LEAST-ONE
def check(
    type_name: str,
    value: Any,
    faults: Planted = NONE,
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
            # implements ADD-LIMIT-SERVICE-GROUP-NAME, ADD-LIMIT-LABEL, ADD-LIMIT-DATA
            # implements ADD-LIMIT-PRIVATE-DATA, DIV-LIMIT-SERVICE-GROUP-NAME, MOD-LIMIT-LABEL
            # implements MOD-LIMIT-DATA, MOD-LIMIT-PRIVATE-DATA
            limit = length_limit(faults, outer, field, limit)
            # implements ADD-LIMIT-UTF16-UNITS
            if outer == _ADD and Defect.LENGTH_COUNTS_UTF8_BYTES in faults:
                text = text.encode("utf-8").decode("latin-1")  # one unit per byte
            # implements ADD-LIMIT-UTF16-UNITS
            if outer == _ADD and Defect.LENGTH_COUNTS_CODE_POINTS in faults:
                text = "x" * len(text)  # one unit per code point
        if len(text) * 2 > limit and utf16_units(text) > limit:
            raise _refuse(f"{field} is longer than {limit} characters")
    for attribute, span in rules.ranges:
        number = getattr(value, attribute)
        if faults:
            # implements ADD-RANGE-SESSION-PRIORITY, ADD-RANGE-TYPE-OF-SESSION
            # implements OPT-RANGE-TYPE-OF-SESSION, OPT-RANGE-AGENT-ACTION-OPTIONS
            # implements OPT-RANGE-CLOSE-TAB-OPTIONS, OPT-RANGE-ALLOW-DIFFERENT-TYPES
            # implements OPT-RANGE-SESSION-LINK-OPTIONS, OPT-RANGE-MAX-NUMBER-OF-SESSIONS
            span = bend_range(faults, span)
            # implements ADD-NOT-GIVEN
            if Defect.NOT_GIVEN_MINUS_ONE_REFUSED in faults and type_name == _ADD and number == -1:
                raise _refuse(f"{span.field} {number} is out of range")
        if not span.accepts(number):
            raise _refuse(f"{span.field} {number} is out of range")
    type_of_session = getattr(value, "type_of_session", None)
    typeless = type_of_session is None or type_of_session in CONSTRAINTS.not_given(
        type_name, "TypeOfSession"
    )  # R5: -1 is "not given" like 0
    for attribute, field, values in rules.needs_type:
        option = getattr(value, attribute, None)
        # implements OPT-NEEDS-TYPE-OF-SESSION
        needed = Defect.PER_TYPE_OPTION_WITHOUT_TYPE_ACCEPTED not in faults
        if option in values and typeless and needed:
            raise _refuse(f"{field} {option} requires TypeOfSession")
    if hasattr(value, "ivr_info"):
        _check_ivr(type_name, value.ivr_info or (), faults)


def _min_skipped(type_name: str, faults: Planted) -> bool:
    """A planted defect that lets the operation go without an IVRInformation (R7)."""
    if type_name == _ADD:
        # implements ADD-IVRINFO-AT-LEAST-ONE
        return Defect.EMPTY_IVR_INFO_ACCEPTED in faults
    # implements MOD-IVRINFO-AT-LEAST-ONE
    return Defect.MODIFY_WITHOUT_IVR_INFO_ACCEPTED in faults


def _usable(item: IvrItem | None, faults: Planted) -> bool:
    """Whether an item counts toward the at-least-one rule (R7; fault hooks bend it)."""
    if item is None:
        return False
    # implements ADD-IVRINFO-AT-LEAST-ONE
    if Defect.EMPTY_IVR_ITEMS_COUNT in faults:
        return item.label is not None or item.data is not None
    # implements ADD-IVRINFO-LABEL-OR-DATA
    if Defect.IVR_NEEDS_LABEL_AND_DATA in faults:
        return bool(item.label and item.data)
    return bool(item.label or item.data)


def _check_ivr(type_name: str, items: tuple[IvrItem | None, ...], faults: Planted) -> None:
    count = CONSTRAINTS.count(_IVR_TYPE)
    # implements ADD-LIMIT-IVRINFO-COUNT, MOD-LIMIT-IVRINFO-COUNT
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
