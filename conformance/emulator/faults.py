"""Fault flags: planted defects the emulator can be started with (``--fault NAME``).

Each flag makes the emulator break exactly one behaviour, on purpose, against exactly one
catalogue requirement: the one whose check must notice. The mutation matrix
(``conformance.mutation``) runs the suite once per flag and proves that every planted defect is
caught (killed) by a failing test that cites its requirement, and that the clean emulator passes.

A flag changes nothing unless it is named: every hook in the emulator reads
``if "<name>" in faults:``, so the default behaviour is untouched. Most hooks are one line at
the place the behaviour lives; the families that differ only in a field or an operation (a limit
off by one, an operation that skips its licence check) are tables here, read by one hook each.

Names are kebab-case and stable: reports and CI logs refer to them. A retired name is never
reused for another defect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from conformance.contract.catalogue import req
from conformance.contract.constraints import IntRange
from conformance.emulator.fault_table import ADMISSION, COUNTS, LENGTHS, RANGES, SINGLE


@dataclass(frozen=True)
class PlantedDefect:
    """One fault flag: its name, the requirement its check must catch, what it breaks."""

    name: str
    requirement: str
    summary: str


def _shift(delta: int) -> str:
    return "one short (the limit itself refused)" if delta < 0 else "one over (limit + 1 accepted)"


def _registry() -> tuple[PlantedDefect, ...]:
    defects = [PlantedDefect(n, req(r), s) for n, r, s in SINGLE]
    defects += [
        PlantedDefect(n, req(r), f"{f} length limit of {t} {_shift(d)}")
        for n, r, t, f, d in LENGTHS
    ]
    defects += [
        PlantedDefect(n, req(r), f"IVRInformation count limit of {t} {_shift(d)}")
        for n, r, t, d in COUNTS
    ]
    defects += [PlantedDefect(n, req(r), f"{t} {f} range: {b}") for n, r, t, f, b in RANGES]
    defects += [
        PlantedDefect(n, req(r), f"{op} skips its {check} check") for n, r, check, op in ADMISSION
    ]
    return tuple(defects)


DEFECTS: tuple[PlantedDefect, ...] = _registry()
"""Every planted defect, in catalogue-section order within each family."""

BY_NAME: Mapping[str, PlantedDefect] = MappingProxyType({d.name: d for d in DEFECTS})

FAULTS: Mapping[str, str] = MappingProxyType(
    {d.name: f"{d.requirement}: {d.summary}" for d in DEFECTS}
)
"""Flag name -> one line saying which requirement it breaks and how (the command's help)."""


class UnknownFault(ValueError):
    """A ``--fault`` name that is not in the registry."""


def validate(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset; ``UnknownFault`` naming the first unknown one."""
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in FAULTS:
            known = ", ".join(sorted(FAULTS)) or "none yet"
            raise UnknownFault(f"unknown fault flag {name!r} (known: {known})")
    return chosen


def planted_requirements() -> frozenset[str]:
    """Every requirement some defect is planted against."""
    return frozenset(d.requirement for d in DEFECTS)


# -- what the table-driven hooks read -------------------------------------------------------

_LENGTH_SHIFT = {(n, t, f): d for n, _, t, f, d in LENGTHS}
_COUNT_SHIFT = {(n, t): d for n, _, t, d in COUNTS}
_RANGE_BEND = {(n, t, f): b for n, _, t, f, b in RANGES}
_SKIPS = frozenset((n, check, op) for n, _, check, op in ADMISSION)


def length_limit(faults: frozenset[str], type_name: str, field: str, limit: int) -> int:
    """The length limit in force for ``field`` of an input of ``type_name`` (validation)."""
    return limit + sum(
        d for (n, t, f), d in _LENGTH_SHIFT.items() if t == type_name and f == field and n in faults
    )


def count_limit(faults: frozenset[str], type_name: str, limit: int) -> int:
    """The IVRInformation count limit in force for an input of ``type_name`` (validation)."""
    return limit + sum(d for (n, t), d in _COUNT_SHIFT.items() if t == type_name and n in faults)


def bend_range(faults: frozenset[str], span: IntRange) -> IntRange:
    """The range in force, one end moved by one when a range defect is planted (validation)."""
    for (name, type_name, field), bend in _RANGE_BEND.items():
        if name not in faults or type_name != span.type or field != span.field:
            continue
        if bend == "max-refused" and span.max is not None:
            span = dataclasses.replace(span, max=span.max - 1)
        elif bend == "over-max" and span.max is not None:
            span = dataclasses.replace(span, max=span.max + 1)
        elif bend == "min-refused":
            span = dataclasses.replace(span, min=span.min + 1)
        elif bend == "below-min":
            span = dataclasses.replace(span, min=span.first_refused_below())
    return span


def skips(faults: frozenset[str], check: str, operation: str) -> bool:
    """True when a planted defect makes ``operation`` skip ``check`` (license/router/auth)."""
    return any((name, check, operation) in _SKIPS for name in faults)


def defects_for(requirement_id: str) -> tuple[PlantedDefect, ...]:
    """Every planted defect against ``requirement_id``."""
    return tuple(d for d in DEFECTS if d.requirement == requirement_id)


def implementations(requirement_id: str) -> list[tuple[str, int]]:
    """``(path, line)`` of each emulator line naming ``requirement_id`` (paths from the folder
    holding the package)."""
    from pathlib import Path

    package = Path(__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if requirement_id in text:
                found.append((path.relative_to(package.parent.parent).as_posix(), number))
    return found
