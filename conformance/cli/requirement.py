"""``openmedia-conformance requirement ID``: one hop from a requirement to everything about it.

The catalogue entry (level, sources, readings, text), every suite test that cites it (file:line,
from a real collection, so markers built from tables of cases count), the emulator code that
names it where it implements it, and the planted defects that break it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import dataclass

from conformance.contract.catalogue import CATALOGUE, Requirement
from conformance.emulator.faults import PlantedDefect
from conformance.emulator.traceability import defects_for, implementations
from conformance.traceability.citations import CitingTest, citing_tests

_USAGE_ERROR = 2


@dataclass(frozen=True)
class Trace:
    """Everything the project holds about one requirement."""

    requirement: Requirement
    tests: tuple[CitingTest, ...]
    implemented_at: tuple[str, ...]
    """``path:line`` of each place in the emulator that names the requirement as implemented."""
    defects: tuple[PlantedDefect, ...]

    def to_json(self) -> dict[str, object]:
        r = self.requirement
        return {
            "id": r.id,
            "section": r.section,
            "level": r.level,
            "sources": list(r.sources),
            "readings": list(r.readings),
            "text": r.text,
            "tests": [{"id": t.node_id, "at": t.where} for t in self.tests],
            "emulator": list(self.implemented_at),
            "defects": [{"name": d.name, "summary": d.summary} for d in self.defects],
        }

    def render(self) -> str:
        r = self.requirement
        section = CATALOGUE.section(r.section)
        lines = [
            f"{r.id}  {r.level}  ({section.title})",
            f"  {r.text}",
            "sources:",
            *(f"  {source}" for source in r.sources),
        ]
        if r.readings:
            lines.append(f"readings: {', '.join(r.readings)}")
        lines.append(f"tests citing it ({len(self.tests)}):")
        lines += [f"  {t.where}  {t.node_id}" for t in self.tests] or ["  none"]
        lines.append(f"emulator code implementing it ({len(self.implemented_at)}):")
        lines += [f"  {where}" for where in self.implemented_at] or ["  none named"]
        lines.append(f"planted defects breaking it ({len(self.defects)}):")
        lines += [f"  {d.name}: {d.summary}" for d in self.defects] or ["  none"]
        return "\n".join(lines)


def trace(requirement_id: str) -> Trace:
    """The trace of a catalogued requirement (``KeyError`` for an unknown ID)."""
    requirement = CATALOGUE.requirement(requirement_id)
    return Trace(
        requirement,
        citing_tests().get(requirement.id, ()),
        tuple(f"{path}:{line}" for path, line in implementations(requirement.id)),
        defects_for(requirement.id),
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "requirement",
        help="everything about one requirement: its catalogue entry, the tests citing it "
        "(file:line), the emulator code implementing it and the planted defects breaking it",
        description="Print a requirement of schemas/requirements.toml with every suite test "
        "that cites it, the emulator code that implements it and the planted defects that "
        "break it.",
    )
    parser.add_argument("id", metavar="ID", help="a requirement ID, e.g. ADD-LIMIT-LABEL")
    parser.add_argument("--json", action="store_true", help="print it as JSON")
    parser.set_defaults(handler=requirement_command, subparser=parser)


def requirement_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    wanted = str(args.id).strip().upper()
    if wanted not in CATALOGUE:
        known = [r.id for r in CATALOGUE.requirements]
        close = difflib.get_close_matches(wanted, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        print(
            f"openmedia usage error: {args.id!r} is not a requirement of "
            f"schemas/requirements.toml{hint} (docs/requirements.md lists them all)",
            file=sys.stderr,
        )
        return _USAGE_ERROR
    found = trace(wanted)
    print(json.dumps(found.to_json(), indent=2) if args.json else found.render())
    return 0
