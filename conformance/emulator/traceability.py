"""From a requirement ID to the emulator code that implements it and the defects that break it.

The emulator names the requirements it implements where it implements them, with one comment
convention (see the package docstring)::

    # implements ADD-LIMIT-LABEL, MOD-LIMIT-LABEL

on the line above the code (or at its end). ``implementations`` finds those tags, ``defects_for``
the planted defects against a requirement; ``openmedia-conformance requirement ID`` prints both.
``hooks`` and ``unhooked`` find where each planted defect is tested (``Defect.NAME`` in the
source, or a call of its family's hook function), so a self-test can prove that every registered
defect has a hook that can fire and that every hook carries its requirement's tag. Everything here
reads the emulator's modules as text: none of them is imported or run.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import NamedTuple

from conformance.emulator.fault_table import Admission, Count, Defect, Length, Range, Row
from conformance.emulator.faults import DEFECTS, PlantedDefect

EMULATOR = Path(__file__).resolve().parent
"""The emulator package, whose modules are scanned."""

_BASE = EMULATOR.parent.parent
_TAG = re.compile(
    r"^#\s*implements\s+(?P<ids>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+(?:,\s*[A-Z][A-Z0-9-]+)*)"
)
_NOT_HOOKS = frozenset({"faults.py", "fault_table.py", "traceability.py", "fault_docs.py"})
"""The modules that define, document or trace the defects; none of them plants one."""

FAMILY_HOOKS: Mapping[type, str] = {
    Length: "length_limit",
    Count: "count_limit",
    Range: "bend_range",
    Admission: "skips",
}
"""The hook function of ``conformance.emulator.faults`` that reads each table-driven family."""


class Location(NamedTuple):
    """A line of the emulator's source; ``path`` is relative to the folder of ``conformance``."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def sources() -> tuple[Path, ...]:
    """Every module of the emulator package, in a stable order."""
    return tuple(sorted(EMULATOR.rglob("*.py")))


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(_BASE).as_posix()
    except ValueError:
        return path.as_posix()


def tags(paths: Iterable[Path]) -> dict[str, tuple[Location, ...]]:
    """Requirement ID -> every ``# implements`` tag naming it in ``paths``, in file order."""
    found: dict[str, list[Location]] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = _TAG.match(token.string)
            if match is None:
                continue
            for rid in re.split(r",\s*", match["ids"]):
                found.setdefault(rid, []).append(Location(_relative(path), token.start[0]))
    return {rid: tuple(places) for rid, places in found.items()}


@cache
def _all_tags() -> dict[str, tuple[Location, ...]]:
    return tags(sources())


def implementations(requirement_id: str) -> list[Location]:
    """Where the emulator implements ``requirement_id``: each tag naming it (path, line)."""
    return list(_all_tags().get(requirement_id, ()))


def defects_for(requirement_id: str) -> tuple[PlantedDefect, ...]:
    """The planted defects against ``requirement_id``, in registry order."""
    return tuple(d for d in DEFECTS if d.requirement == requirement_id)


class Reference(NamedTuple):
    """One mention of a defect or a family hook in the emulator's code."""

    name: str
    """The attribute after ``Defect.``, or the hook function's name."""
    location: Location


def references(paths: Iterable[Path]) -> tuple[Reference, ...]:
    """Every ``Defect.NAME`` and every call of a family hook function in ``paths``.

    The registry and its tools (``_NOT_HOOKS``) are left out.
    """
    family = set(FAMILY_HOOKS.values())
    found: list[Reference] = []
    for path in paths:
        if path.parent == EMULATOR and path.name in _NOT_HOOKS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = _relative(path)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Defect"
            ):
                found.append(Reference(node.attr, Location(where, node.lineno)))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in family
            ):
                found.append(Reference(node.func.id, Location(where, node.lineno)))
    return tuple(sorted(found, key=lambda r: (r.location, r.name)))


def hook_function(row: Row) -> str | None:
    """The family hook function that reads ``row`` (``None``: a one-off with its own hook)."""
    return FAMILY_HOOKS.get(type(row))


def hooks(paths: Iterable[Path] | None = None) -> dict[Row, tuple[Location, ...]]:
    """Each defect -> where its hook sits: ``Defect.NAME`` for a one-off, else each call of
    its family's hook function. A defect with no entry has no hook."""
    found = references(sources() if paths is None else paths)
    by_name: dict[str, list[Location]] = {}
    for ref in found:
        by_name.setdefault(ref.name, []).append(ref.location)
    result: dict[Row, tuple[Location, ...]] = {}
    for row in Defect:
        places = by_name.get(hook_function(row) or row.name, [])
        if places:
            result[row] = tuple(places)
    return result


def unhooked(paths: Iterable[Path] | None = None) -> tuple[Row, ...]:
    """The registered defects no hook in ``paths`` can fire (empty for a sound emulator)."""
    hooked = hooks(paths)
    return tuple(row for row in Defect if row not in hooked)


def unknown_references(paths: Iterable[Path] | None = None) -> tuple[Reference, ...]:
    """``Defect.NAME`` mentions naming no defect (mypy and the import catch them too)."""
    names = {row.name for row in Defect}
    return tuple(
        ref
        for ref in references(sources() if paths is None else paths)
        if ref.name not in names and ref.name not in FAMILY_HOOKS.values()
    )


def untagged_hooks(paths: Iterable[Path] | None = None) -> tuple[tuple[Row, Location], ...]:
    """Hooks without a tag naming their defect's requirement at the statement they sit in.

    The tag may end a line of the statement (up to the hook's line) or sit in the block of
    comment lines directly above one of them: above an ``if``, in its condition, or at the
    hook itself. A family's defect needs the tag at one call of its hook function, not at all.
    """
    chosen = sources() if paths is None else tuple(paths)
    texts: dict[str, list[str]] = {}
    starts: dict[str, dict[int, int]] = {}
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        texts[_relative(path)] = text.splitlines()
        starts[_relative(path)] = _statement_starts(ast.parse(text))
    missing: list[tuple[Row, Location]] = []
    for row, places in hooks(chosen).items():
        tagged = [
            _tagged(texts[p.path], starts[p.path].get(p.line, p.line), p.line, row.requirement)
            for p in places
        ]
        if hook_function(row) is None:
            missing += [(row, p) for p, ok in zip(places, tagged, strict=True) if not ok]
        elif not any(tagged):
            missing.append((row, places[0]))
    return tuple(missing)


def _statement_starts(tree: ast.AST) -> dict[int, int]:
    """Line -> first line of the innermost statement (a compound one: its header) on it."""
    starts: dict[int, int] = {}
    for node in ast.walk(tree):  # outer statements first, so inner ones overwrite them
        if not isinstance(node, ast.stmt):
            continue
        body = getattr(node, "body", None)
        end = body[0].lineno - 1 if isinstance(body, list) and body else node.end_lineno
        for line in range(node.lineno, (end or node.lineno) + 1):
            starts[line] = node.lineno
    return starts


def _tagged(lines: list[str], first: int, line: int, requirement: str) -> bool:
    """Whether lines ``first``..``line`` (1-based) or the comments right above one name the ID."""
    candidates: list[str] = []
    for number in range(first, line + 1):
        candidates.append(lines[number - 1])
        above = number - 2
        while above >= 0 and lines[above].lstrip().startswith("#"):
            candidates.append(lines[above])
            above -= 1
    for text in candidates:
        comment = text[text.find("#") :] if "#" in text else ""
        match = _TAG.match(comment)
        if match and requirement in re.split(r",\s*", match["ids"]):
            return True
    return False
