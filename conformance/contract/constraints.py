"""The declarative rules the XSD cannot carry, read from ``schemas/constraints.toml``.

Every limit the suite tests and the emulator enforces comes from here: a test asks
``CONSTRAINTS.length("Label").max``, never writes ``100``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.contract.paths import schemas_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def utf16_units(text: str) -> int:
    """Length as the vendor's .NET service counts it: UTF-16 code units (R2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class LengthLimit:
    field: str
    max: int
    types: tuple[str, ...]


@dataclass(frozen=True)
class CountLimit:
    field: str
    min: int
    max: int
    types: tuple[str, ...]
    min_applies_to: tuple[str, ...]


@dataclass(frozen=True)
class IntRange:
    field: str
    type: str
    min: int
    max: int | None
    not_given: tuple[int, ...]

    def accepts(self, value: int) -> bool:
        """True when the value is "not given" or inside the range."""
        if value in self.not_given:
            return True
        return value >= self.min and (self.max is None or value <= self.max)

    def first_refused_below(self) -> int:
        """The largest refused value below the range (skipping "not given" values)."""
        value = self.min - 1
        while value in self.not_given:
            value -= 1
        return value


@dataclass(frozen=True)
class TypeOfSessionRequirement:
    field: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class NotGiven:
    """Values that mean "not given" for a field that has no refused range (R5)."""

    field: str
    type: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Constraints:
    length_unit: str
    violation_fault: str
    violation_fault_operations: tuple[str, ...]
    lengths: tuple[LengthLimit, ...]
    counts: tuple[CountLimit, ...]
    ranges: tuple[IntRange, ...]
    not_given_only: tuple[NotGiven, ...]
    requires_type_of_session: tuple[TypeOfSessionRequirement, ...]
    option_values: dict[str, dict[str, int]]
    defaults: dict[str, int | bool]

    def length(self, field: str) -> LengthLimit:
        return _one(self.lengths, field, lambda item: item.field == field)

    def count(self, field: str) -> CountLimit:
        return _one(self.counts, field, lambda item: item.field == field)

    def range(self, type_name: str, field: str) -> IntRange:
        return _one(
            self.ranges,
            f"{type_name}.{field}",
            lambda item: item.type == type_name and item.field == field,
        )

    def not_given(self, type_name: str, field: str) -> tuple[int, ...]:
        """The "not given" values of a field (R5), from its range or its not_given entry."""
        for item in self.ranges:
            if item.type == type_name and item.field == field:
                return item.not_given
        entry = _one(
            self.not_given_only,
            f"{type_name}.{field}",
            lambda item: item.type == type_name and item.field == field,
        )
        return entry.values  # type: ignore[no-any-return]

    def lengths_for(self, type_name: str) -> tuple[LengthLimit, ...]:
        return tuple(item for item in self.lengths if type_name in item.types)

    def ranges_for(self, type_name: str) -> tuple[IntRange, ...]:
        return tuple(item for item in self.ranges if item.type == type_name)


def _one(items: tuple[Any, ...], key: str, match: Any) -> Any:
    for item in items:
        if match(item):
            return item
    raise KeyError(f"no constraint for {key!r} in schemas/constraints.toml")


def _parse(raw: dict[str, Any]) -> Constraints:
    return Constraints(
        length_unit=raw["length_unit"],
        violation_fault=raw["violation_fault"],
        violation_fault_operations=tuple(raw["violation_fault_operations"]),
        lengths=tuple(
            LengthLimit(item["field"], int(item["max"]), tuple(item["types"]))
            for item in raw.get("length", [])
        ),
        counts=tuple(
            CountLimit(
                item["field"],
                int(item["min"]),
                int(item["max"]),
                tuple(item["types"]),
                tuple(item.get("min_applies_to", item["types"])),
            )
            for item in raw.get("count", [])
        ),
        ranges=tuple(
            IntRange(
                item["field"],
                item["type"],
                int(item["min"]),
                int(item["max"]) if "max" in item else None,
                tuple(int(v) for v in item.get("not_given", [])),
            )
            for item in raw.get("range", [])
        ),
        not_given_only=tuple(
            NotGiven(item["field"], item["type"], tuple(int(v) for v in item["values"]))
            for item in raw.get("not_given", [])
        ),
        requires_type_of_session=tuple(
            TypeOfSessionRequirement(item["field"], tuple(item["values"]))
            for item in raw.get("requires_type_of_session", [])
        ),
        option_values={k: dict(v) for k, v in raw.get("option_values", {}).items()},
        defaults=dict(raw.get("defaults", {})),
    )


@cache
def load_constraints() -> Constraints:
    """Parse ``schemas/constraints.toml`` once per process."""
    with (schemas_dir() / "constraints.toml").open("rb") as handle:
        return _parse(tomllib.load(handle))


CONSTRAINTS = load_constraints()
