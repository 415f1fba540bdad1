"""Fault flags: planted defects the emulator can be started with (``--fault NAME``).

Each flag makes the emulator break exactly one behaviour, on purpose, against exactly one
catalogue requirement: the one whose check must notice. The mutation matrix
(``conformance.mutation``) runs the suite once per flag and proves that every planted defect is
caught (killed) by a failing test that cites its requirement, and that the clean emulator passes.

The defects are the rows of ``Defect`` (``conformance.emulator.fault_table``). A flag changes
nothing unless it is named: every hook in the emulator reads ``if Defect.NAME in faults:``, so
the default behaviour is untouched, and a hook naming a defect the table lacks fails at import
(and under mypy) instead of never firing. Most hooks are one line at the place the behaviour
lives; the families that differ only in a field or an operation (a limit off by one, an
operation that skips its licence check) are rows of the table read by one hook each:
``length_limit``, ``count_limit``, ``bend_range`` and ``skips`` here.

Names are kebab-case and stable: reports and CI logs refer to them. A retired name is never
reused for another defect. Outside the emulator, defects are named by their flag (``DEFECTS``,
``BY_NAME``, ``FAULTS``, ``validate``); inside, by ``Defect`` rows (``planted``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from conformance.contract.catalogue import req
from conformance.contract.constraints import IntRange
from conformance.emulator.fault_table import (
    Admission,
    Bend,
    Check,
    Count,
    Defect,
    Length,
    OneOff,
    Range,
    Row,
)

__all__ = [
    "BY_NAME",
    "DEFECTS",
    "FAULTS",
    "NONE",
    "Check",
    "Defect",
    "Planted",
    "PlantedDefect",
    "Row",
    "UnknownFault",
    "bend_range",
    "count_limit",
    "defect",
    "length_limit",
    "planted",
    "planted_requirements",
    "skips",
    "validate",
]

Planted = frozenset[Row]
"""The defects an emulator was started with; empty: the reference behaviour."""

NONE: Planted = frozenset()

_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


@dataclass(frozen=True)
class PlantedDefect:
    """One fault flag: its name, the requirement its check must catch, what it breaks."""

    name: str
    requirement: str
    summary: str
    seen_through: str | None = None
    """The control feature that alone shows it (``fault_table.Row.seen_through``)."""


class UnknownFault(ValueError):
    """A fault name that is not in the registry."""


def _shift(delta: int) -> str:
    return "one short (the limit itself refused)" if delta < 0 else "one over (limit + 1 accepted)"


def summary(row: Row) -> str:
    """What the defect breaks, in one line."""
    if isinstance(row, OneOff):
        return row.summary
    if isinstance(row, Length):
        return f"{row.field} length limit of {row.type_name} {_shift(row.shift)}"
    if isinstance(row, Count):
        return f"IVRInformation count limit of {row.type_name} {_shift(row.shift)}"
    if isinstance(row, Range):
        return f"{row.type_name} {row.field} range: {row.bend.value}"
    if isinstance(row, Admission):
        return f"{row.operation} skips its {row.check.value} check"
    raise TypeError(f"Defect.{row.name}: no summary for a {type(row).__name__}")


def _registry() -> tuple[PlantedDefect, ...]:
    """Every row as a ``PlantedDefect``; raises at import for a row that is not sound.

    A flag must be kebab-case and its requirement a catalogue ID (``req`` raises otherwise);
    ``Defect``'s definition already refused two rows that say the same.
    """
    defects = []
    for row in Defect:
        if not _KEBAB.match(row.flag):
            raise ValueError(f"Defect.{row.name}: {row.flag!r} is not a kebab-case flag")
        defects.append(
            PlantedDefect(row.flag, req(row.requirement), summary(row), row.seen_through)
        )
    return tuple(defects)


DEFECTS: tuple[PlantedDefect, ...] = _registry()
"""Every planted defect, in catalogue-section order within each family."""

BY_NAME: Mapping[str, PlantedDefect] = MappingProxyType({d.name: d for d in DEFECTS})

FAULTS: Mapping[str, str] = MappingProxyType(
    {d.name: f"{d.requirement}: {d.summary}" for d in DEFECTS}
)
"""Flag name -> one line saying which requirement it breaks and how (the command's help)."""

_BY_FLAG: Mapping[str, Row] = MappingProxyType({row.flag: row for row in Defect})


def _unknown(name: str) -> UnknownFault:
    known = ", ".join(sorted(FAULTS)) or "none yet"
    return UnknownFault(f"unknown fault flag {name!r} (known: {known})")


def validate(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset; ``UnknownFault`` naming the first unknown one."""
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in FAULTS:
            raise _unknown(name)
    return chosen


def defect(name: str | Row) -> Row:
    """The row a flag names; ``UnknownFault`` for a name the registry does not know."""
    if isinstance(name, Row):
        return name
    try:
        return _BY_FLAG[name]
    except KeyError:
        raise _unknown(name) from None


def planted(names: Iterable[str | Row]) -> Planted:
    """The defects to plant, from flags or rows; ``UnknownFault`` for an unknown flag."""
    return frozenset(defect(name) for name in names)


def planted_requirements() -> frozenset[str]:
    """Every requirement some defect is planted against."""
    return frozenset(d.requirement for d in DEFECTS)


# -- the hooks of the table-driven families --------------------------------------------------

_LENGTHS = tuple(row for row in Defect if isinstance(row, Length))
_COUNTS = tuple(row for row in Defect if isinstance(row, Count))
_RANGES = tuple(row for row in Defect if isinstance(row, Range))
_SKIPS = tuple(row for row in Defect if isinstance(row, Admission))


def length_limit(faults: Planted, type_name: str, field: str, limit: int) -> int:
    """The length limit in force for ``field`` of an input of ``type_name`` (validation)."""
    return limit + sum(
        row.shift
        for row in _LENGTHS
        if row in faults and row.type_name == type_name and row.field == field
    )


def count_limit(faults: Planted, type_name: str, limit: int) -> int:
    """The IVRInformation count limit in force for an input of ``type_name`` (validation)."""
    return limit + sum(row.shift for row in _COUNTS if row in faults and row.type_name == type_name)


def bend_range(faults: Planted, span: IntRange) -> IntRange:
    """The range in force, one end moved by one when a range defect is planted (validation)."""
    for row in _RANGES:
        if row not in faults or row.type_name != span.type or row.field != span.field:
            continue
        if row.bend is Bend.MAX_REFUSED and span.max is not None:
            span = dataclasses.replace(span, max=span.max - 1)
        elif row.bend is Bend.OVER_MAX and span.max is not None:
            span = dataclasses.replace(span, max=span.max + 1)
        elif row.bend is Bend.MIN_REFUSED:
            span = dataclasses.replace(span, min=span.min + 1)
        elif row.bend is Bend.BELOW_MIN:
            span = dataclasses.replace(span, min=span.first_refused_below())
    return span


def skips(faults: Planted, check: Check, operation: str) -> bool:
    """True when a planted defect makes ``operation`` skip ``check`` (licence/router/auth)."""
    return bool(faults) and any(
        row in faults and row.check is check and row.operation == operation for row in _SKIPS
    )
