"""Fault flags: planted defects the emulator can be started with (``--fault NAME``).

Each flag makes the emulator break one requirement on purpose, so the self-tests can prove that
the suite's checks fail when they should. The registry maps a flag name to what it breaks; it is
empty until the defects are defined, and the command line refuses any name not listed here.
"""

from __future__ import annotations

from collections.abc import Iterable

FAULTS: dict[str, str] = {}
"""Flag name -> one line saying which requirement it breaks and how."""


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
