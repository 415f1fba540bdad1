"""The requirement catalogue, read from ``schemas/requirements.toml``.

Requirement IDs live in exactly one place so that a verdict always traces to a statement of the
interface description, the wire contract or the routing model, and so that a typo in a test's
citation is a collection error rather than a silently orphaned check. Code names a requirement
through :func:`req` (or the ``requirement`` marker, which the plugin checks with the same
catalogue); :func:`validate` is what the self-tests and the plugin run to keep the file sound.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from conformance.contract.paths import schemas_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CATALOGUE_FILE = "requirements.toml"

LEVELS: tuple[str, ...] = ("MUST", "SHOULD", "OPEN")
"""MUST fails a target; SHOULD and OPEN warn unless ``--om-strict`` (see verdicts)."""

KNOWN_READINGS: tuple[str, ...] = tuple(f"R{number}" for number in range(1, 23))
"""The readings of ``../shared/contracts/interpretations.md`` a requirement may rest on."""

OPEN_READINGS: tuple[str, ...] = ("R10", "R11", "R13", "R18", "R19")
"""The readings interpretations.md marks OPEN; an OPEN requirement must rest on one of them."""

SOURCES: tuple[str, ...] = ("description", "wire", "control-plane", "project")
"""Where a section's statements come from (the Allure link and the trust we give them)."""


class SourceKind(Enum):
    """Where a requirement's statement comes from; reading R21 ties its level to it."""

    DESCRIPTION = "description"
    WSDL = "wsdl"
    SOAP_1_1 = "soap-1.1"
    WS_I_BP = "ws-i-bp"
    CONTROL_PLANE = "control-plane"
    READING = "reading"
    LIVE_SERVER = "live-server"
    PROJECT = "project"

    @property
    def can_require(self) -> bool:
        """R21: only the description, the WSDL, SOAP 1.1, WS-I Basic Profile and the control-plane
        contract can make a requirement MUST; the live server, a reading or this project cannot."""
        return self not in (SourceKind.READING, SourceKind.LIVE_SERVER, SourceKind.PROJECT)


@dataclass(frozen=True)
class Citation:
    """One source of a requirement: its kind and where in it (a section, an R-number)."""

    kind: SourceKind
    where: str

    @classmethod
    def parse(cls, text: str) -> Citation:
        """``"kind: where"``; ``ValueError`` naming the known kinds otherwise."""
        kind, _, where = text.partition(":")
        try:
            return cls(SourceKind(kind.strip()), where.strip())
        except ValueError:
            kinds = ", ".join(k.value for k in SourceKind)
            raise ValueError(f"source {text!r} does not start with one of {kinds}") from None

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.where}"


DESCRIPTION_FAULT_ALIASES: dict[str, str] = {"InvalidDataFault": "InvalidDataException"}
"""Fault names the description uses for a fault the wire names otherwise (R3)."""

_ID_SHAPE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_POSITIONAL = re.compile(r"-\d+$")


@dataclass(frozen=True)
class Section:
    """A section of the description (or of the wire contract / routing model).

    ``prefix`` starts every requirement ID of the section; ``anchor`` is the section's heading
    text in its source document, so a report can link to it and a self-test can prove that each
    heading of the description has a section.
    """

    key: str
    prefix: str
    title: str
    chapter: str
    source: str
    operation: str | None = None
    anchor: str | None = None


@dataclass(frozen=True)
class Requirement:
    """One testable statement, cited by its stable ID."""

    id: str
    section: str
    level: str
    readings: tuple[str, ...]
    expects: tuple[str, ...]
    text: str
    planted: bool = False
    """The emulator has a planted defect against it (``conformance.emulator.faults``)."""
    sources: tuple[str, ...] = ()
    """Where the statement comes from, each ``"kind: where"`` (see :class:`Citation`)."""

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The sources, parsed; ``ValueError`` for one of no known kind (``validate`` says so)."""
        return tuple(Citation.parse(text) for text in self.sources)

    @property
    def is_open(self) -> bool:
        """True when a miss is reported as a warning rather than a fail (SHOULD or OPEN)."""
        return self.level != "MUST"


@dataclass(frozen=True)
class Catalogue:
    """Every section and requirement, in file order, with lookups by ID and section."""

    sections: tuple[Section, ...]
    requirements: tuple[Requirement, ...]
    undeclared_faults: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    _index: dict[str, Requirement] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # First occurrence wins; duplicates are reported by validate().
        index: dict[str, Requirement] = {}
        for item in self.requirements:
            index.setdefault(item.id, item)
        object.__setattr__(self, "_index", index)

    def get(self, requirement_id: str) -> Requirement | None:
        """The requirement with this ID, or ``None`` (dict-like)."""
        return self._index.get(requirement_id)

    def requirement(self, requirement_id: str) -> Requirement:
        """The requirement with this ID; ``KeyError`` naming the catalogue file otherwise."""
        found = self.get(requirement_id)
        if found is None:
            raise KeyError(_unknown(requirement_id))
        return found

    def __contains__(self, requirement_id: object) -> bool:
        return isinstance(requirement_id, str) and self.get(requirement_id) is not None

    def section(self, key: str) -> Section:
        """The section with this key; ``KeyError`` otherwise."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(f"unknown catalogue section {key!r} ({CATALOGUE_FILE})")

    def by_section(self, key: str) -> tuple[Requirement, ...]:
        """The requirements of one section, in file order."""
        return tuple(item for item in self.requirements if item.section == key)

    def section_for_operation(self, operation: str) -> Section | None:
        """The section that covers a WSDL operation, if any."""
        for section in self.sections:
            if section.operation == operation:
                return section
        return None

    def expected_names(self, key: str) -> frozenset[str]:
        """Every fault / RequestStatus / Status name some requirement of a section expects."""
        return frozenset(name for item in self.by_section(key) for name in item.expects)


def _unknown(requirement_id: str) -> str:
    return f"unknown requirement ID {requirement_id!r} (schemas/{CATALOGUE_FILE})"


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in (raw or ()))


def parse_catalogue(raw: dict[str, Any]) -> Catalogue:
    """Build a catalogue from the parsed TOML; shape problems are left to :func:`validate`."""
    sections = tuple(
        Section(
            key=str(item["key"]),
            prefix=str(item.get("prefix", "")),
            title=str(item.get("title", "")),
            chapter=str(item.get("chapter", "")),
            source=str(item.get("source", "")),
            operation=item.get("operation"),
            anchor=item.get("anchor"),
        )
        for item in raw.get("section", [])
    )
    requirements = tuple(
        Requirement(
            id=str(item["id"]),
            section=str(item.get("section", "")),
            level=str(item.get("level", "")),
            readings=_strings(item.get("readings")),
            expects=_strings(item.get("expects")),
            text=str(item.get("text", "")),
            planted=bool(item.get("planted", False)),
            sources=_strings(item.get("sources")),
        )
        for item in raw.get("requirement", [])
    )
    return Catalogue(
        sections=sections,
        requirements=requirements,
        undeclared_faults=_strings(raw.get("undeclared_faults")),
        retired=_strings(raw.get("retired")),
    )


@cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    """Parse ``schemas/requirements.toml`` (or ``path``) once per process."""
    target = path if path is not None else schemas_dir() / CATALOGUE_FILE
    with target.open("rb") as handle:
        return parse_catalogue(tomllib.load(handle))


def validate(catalogue: Catalogue, known_expects: frozenset[str] | None = None) -> list[str]:
    """Every problem of the catalogue as a readable line; empty when it is sound.

    ``known_expects``, when given, is the vocabulary an ``expects`` entry must come from (fault
    local names, RequestStatus and Status names, as the schemas declare them).
    """
    problems: list[str] = []
    problems += _section_problems(catalogue)
    sections = {section.key: section for section in catalogue.sections}
    counts = Counter(item.id for item in catalogue.requirements)
    problems += [f"duplicate requirement ID {rid}" for rid, n in counts.items() if n > 1]
    retired = set(catalogue.retired)
    for item in catalogue.requirements:
        problems += _requirement_problems(item, sections, retired, known_expects)
    used = {item.section for item in catalogue.requirements}
    problems += [f"section {key} has no requirement" for key in sections if key not in used]
    return problems


def _section_problems(catalogue: Catalogue) -> list[str]:
    problems: list[str] = []
    for what, values in (
        ("section key", [section.key for section in catalogue.sections]),
        ("section prefix", [section.prefix for section in catalogue.sections]),
        ("section operation", [s.operation for s in catalogue.sections if s.operation]),
        ("section anchor", [s.anchor for s in catalogue.sections if s.anchor]),
    ):
        problems += [f"duplicate {what} {v}" for v, n in Counter(values).items() if n > 1]
    for section in catalogue.sections:
        if not re.fullmatch(r"[A-Z]+", section.prefix):
            problems.append(f"section {section.key}: prefix {section.prefix!r} is not A-Z")
        if section.source not in SOURCES:
            problems.append(f"section {section.key}: unknown source {section.source!r}")
        if not section.title.strip() or not section.chapter.strip():
            problems.append(f"section {section.key}: empty title or chapter")
    return problems


def _requirement_problems(
    item: Requirement,
    sections: dict[str, Section],
    retired: set[str],
    known_expects: frozenset[str] | None,
) -> list[str]:
    where = f"requirement {item.id}"
    problems: list[str] = []
    if not _ID_SHAPE.match(item.id):
        problems.append(f"{where}: ID is not PREFIX-WORDS in upper case")
    if _POSITIONAL.search(item.id):
        problems.append(f"{where}: ID ends in a number (IDs are names, never positions)")
    if item.id in retired:
        problems.append(f"{where}: ID is retired and must not be reused")
    section = sections.get(item.section)
    if section is None:
        problems.append(f"{where}: unknown section {item.section!r}")
    elif not item.id.startswith(section.prefix + "-"):
        problems.append(
            f"{where}: ID does not start with {section.prefix}- (section {section.key})"
        )
    if item.level not in LEVELS:
        problems.append(f"{where}: unknown level {item.level!r}")
    problems += [
        f"{where}: unknown reading {r!r}" for r in item.readings if r not in KNOWN_READINGS
    ]
    problems += [
        f"{where}: reading {r} cited twice" for r, n in Counter(item.readings).items() if n > 1
    ]
    if item.level == "OPEN" and not set(item.readings) & set(OPEN_READINGS):
        problems.append(f"{where}: level OPEN but it cites no open reading {OPEN_READINGS}")
    if not item.text.strip():
        problems.append(f"{where}: empty text")
    problems += _source_problems(item, where)
    if known_expects is not None:
        problems += [
            f"{where}: unknown expected name {e!r}" for e in item.expects if e not in known_expects
        ]
    return problems


def _source_problems(item: Requirement, where: str) -> list[str]:
    """R21: every requirement names its sources, and a MUST needs one that can require."""
    if not item.sources:
        return [f"{where}: no sources (where does the statement come from?)"]
    try:
        citations = item.citations
    except ValueError as exc:
        return [f"{where}: {exc}"]
    problems = [f"{where}: source {str(c)!r} says not where" for c in citations if not c.where]
    if item.level == "MUST" and not any(c.kind.can_require for c in citations):
        kinds = ", ".join(sorted({c.kind.value for c in citations}))
        problems.append(
            f"{where}: MUST resting only on {kinds}; R21 allows MUST only where the description, "
            "the WSDL, SOAP 1.1, WS-I Basic Profile or the control-plane contract requires it "
            "(make it SHOULD, or cite such a source)"
        )
    return problems


def expectable_names(catalogue: Catalogue) -> frozenset[str]:
    """The vocabulary of ``expects``: names our schemas declare, plus R4's undeclared faults.

    RequestStatus and Status names come from the XSD enumerations, fault names from the faults
    our WSDL declares; imported here (not at module load) so reading the catalogue stays cheap.
    """
    from conformance.contract import operations, schema

    names = set(schema.enumeration("OpenMediaRequestStatus"))
    names |= set(schema.enumeration("OpenMediaStatus"))
    names |= {fault for op in operations.OPERATIONS for fault in op.fault_names}
    names |= set(catalogue.undeclared_faults)
    return frozenset(names)


CATALOGUE = load_catalogue()


def req(requirement_id: str) -> str:
    """Return ``requirement_id`` unchanged if the catalogue has it; ``KeyError`` otherwise.

    Use it wherever code names a requirement, so a typo fails at import or collection time.
    """
    if requirement_id not in CATALOGUE:
        raise KeyError(_unknown(requirement_id))
    return requirement_id
