"""The requirement catalogue is sound, complete and traceable to its sources.

Every verdict the suite gives cites a catalogue ID, so the catalogue must be right before
anything else: IDs unique and well formed, each section of the description represented, each
reading cited, each fault the description names or the WSDL declares expected somewhere in the
operation's section. ``validate()`` is proved to catch each kind of defect on broken copies.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.contract import namespaces as ns
from conformance.contract import operations, schema
from conformance.contract.catalogue import (
    CATALOGUE,
    DESCRIPTION_FAULT_ALIASES,
    KNOWN_READINGS,
    LEVELS,
    OPEN_READINGS,
    Catalogue,
    Requirement,
    Section,
    expectable_names,
    load_catalogue,
    parse_catalogue,
    req,
    validate,
)
from conformance.contract.paths import schemas_dir, shared_reference_dir
from conformance.contract.xmlsafe import parse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SECTION_KEYS = frozenset(
    {
        "service", "wire", "add", "cancel", "divert", "modify", "options", "status-requests",
        "status-by-id", "history-by-id", "by-time", "all-status", "group-status",
        "all-group-status", "agents-by-group", "authentication", "error-handling", "data-cache",
        "lifecycle", "routing", "robustness", "client", "concurrency",
    }
)  # fmt: skip

CITED_ELSEWHERE = (
    "WIRE-HTTP-STATUS", "WIRE-CONTENT-TYPE", "WIRE-ENVELOPE", "WIRE-RESPONSE-WRAPPER",
    "WIRE-SCHEMA", "WIRE-ENUM-NAMES", "WIRE-UTC", "WIRE-FAULT-CODE", "WIRE-FAULT-DETAIL",
    "WIRE-FAULT-DECLARED", "SVC-WSDL", "SVC-XSD", "SVC-WSDL-ADDRESS",
)  # fmt: skip
"""IDs other code already cites: renaming one would break it."""

NOT_SECTIONS = {
    "INTRODUCTION": "prose with no testable statement",
    "REQUESTS": "the chapter heading above the five request sections",
    "RETURN VALUE": "a table heading inside an operation's section",
    "FAULTS": "a table heading inside an operation's section",
    "SOAP": "a sub-heading of AUTHENTICATION",
}
"""Upper-case headings of the description that are structure, not sections."""

CROSS_CUTTING_FAULTS = {"InvalidUserFault": "authentication"}
"""R16: each authentication failure mode is one requirement checked on all operations."""

MODIFY_INVALID_DATA = ("modify", "InvalidDataException")
"""R3 and R10 expect InvalidDataException from ModifyRequest though its WSDL does not declare it
(reported to the lead: R3 vs WIRE-FAULT-DECLARED). The only expected-but-undeclared pair."""

ADD_REQUEST_STATUSES = ("Success", "GroupClosed", "InvalidGroup", "TenantDisabled",
                        "AgentLoggedOff", "Error")  # fmt: skip
"""The description's AddOpenMediaResponse table 0..5, named per R1."""
DIVERT_REQUEST_STATUSES = ("Success", "GroupClosed", "InvalidGroup", "TenantDisabled", "InvalidID")
"""The description's DivertRequest table (4 is not applicable), named per R1."""


# --------------------------------------------------------------------------- sources


def _description() -> str:
    base = shared_reference_dir()
    path = base / "interface-description-9.7.txt" if base else None
    if path is None or not path.is_file():
        pytest.skip("../shared/reference/interface-description-9.7.txt is not present")
    return path.read_text(encoding="utf-8")


def _live_wsdl() -> Path:
    base = shared_reference_dir()
    path = base / "live-wsdl" / "OpenMediaService.wsdl" if base else None
    if path is None or not path.is_file():
        pytest.skip("../shared/reference/live-wsdl/OpenMediaService.wsdl is not present")
    return path


def _headings(text: str) -> list[tuple[int, str]]:
    """Upper-case lines standing alone between blank lines: the description's headings."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        alone = (number == 0 or not lines[number - 1].strip()) and (
            number + 1 == len(lines) or not lines[number + 1].strip()
        )
        if alone and "\t" not in line and re.fullmatch(r"[A-Z][A-Z ,]*[A-Z]", stripped):
            found.append((number, stripped))
    return found


def _section_headings(text: str) -> list[tuple[int, str]]:
    return [
        (number, heading)
        for number, heading in _headings(text)
        if heading not in NOT_SECTIONS and not heading.endswith(" PARAMETERS")
    ]


def _description_faults(text: str) -> dict[str, set[str]]:
    """Fault names of each section's FAULT table, keyed by the section's heading."""
    lines = text.splitlines()
    headings = _section_headings(text)
    faults: dict[str, set[str]] = {}
    for index, (start, heading) in enumerate(headings):
        end = headings[index + 1][0] if index + 1 < len(headings) else len(lines)
        for line in lines[start:end]:
            match = re.match(r"^(\w+(?:Fault|Exception))\t", line)
            if match:
                name = DESCRIPTION_FAULT_ALIASES.get(match.group(1), match.group(1))
                faults.setdefault(heading, set()).add(name)
    return faults


def _wsdl_faults(path: Path) -> dict[str, tuple[str, ...]]:
    """Per portType operation, the local names of its fault detail elements."""
    root = parse(path.read_bytes())
    wsdl = {"w": ns.WSDL}
    parts = {}
    for message in root.iterfind("w:message", wsdl):
        part = message.find("w:part", wsdl)
        if part is not None and part.get("element"):
            parts[message.get("name")] = part.get("element", "").split(":")[-1]
    declared = {}
    for op in root.iterfind("w:portType/w:operation", wsdl):
        names = [parts[f.get("message", "").split(":")[-1]] for f in op.iterfind("w:fault", wsdl)]
        declared[op.get("name", "")] = tuple(names)
    return declared


def _anchor_map() -> dict[str, str]:
    return {s.anchor: s.key for s in CATALOGUE.sections if s.anchor}


# --------------------------------------------------------------------------- soundness


def test_catalogue_validates_clean() -> None:
    """validate() finds no problem, expected names checked against our schemas' vocabulary."""
    assert validate(CATALOGUE, expectable_names(CATALOGUE)) == []


def test_ids_are_unique() -> None:
    ids = [item.id for item in CATALOGUE.requirements]
    assert len(ids) == len(set(ids))


def test_catalogue_is_complete_enough() -> None:
    """Every testable statement one entry each: well over a hundred of them."""
    assert len(CATALOGUE.requirements) >= 120


def test_section_keys_are_exactly_the_agreed_ones() -> None:
    assert {section.key for section in CATALOGUE.sections} == SECTION_KEYS


@pytest.mark.parametrize("requirement_id", CITED_ELSEWHERE)
def test_ids_cited_by_other_code_exist(requirement_id: str) -> None:
    assert req(requirement_id) == requirement_id


def test_req_refuses_an_unknown_id_naming_the_file() -> None:
    with pytest.raises(KeyError, match=r"unknown requirement ID 'ADD-NO-SUCH'.*requirements\.toml"):
        req("ADD-NO-SUCH")


def test_lookups() -> None:
    """get/requirement/by_section/section_for_operation agree with the file."""
    first = CATALOGUE.requirements[0]
    assert CATALOGUE.get(first.id) is first
    assert CATALOGUE.get("NOPE-NOPE") is None
    assert CATALOGUE.requirement(first.id) is first
    with pytest.raises(KeyError):
        CATALOGUE.requirement("NOPE-NOPE")
    add = CATALOGUE.by_section("add")
    assert add and all(item.section == "add" for item in add)
    assert "ADD-LIMIT-LABEL" in {item.id for item in add}
    section = CATALOGUE.section_for_operation("AddRequest")
    assert section is not None and section.key == "add"
    assert CATALOGUE.section_for_operation("NoSuchOperation") is None
    assert "Success" in CATALOGUE.expected_names("add")


def test_load_is_cached() -> None:
    assert load_catalogue() is load_catalogue()
    assert load_catalogue() == CATALOGUE


def test_every_reading_is_cited() -> None:
    cited = {reading for item in CATALOGUE.requirements for reading in item.readings}
    assert set(KNOWN_READINGS) - cited == set()


def test_every_level_is_used_and_open_rests_on_open_readings() -> None:
    assert {item.level for item in CATALOGUE.requirements} == set(LEVELS)
    for reading in OPEN_READINGS:
        assert any(
            reading in item.readings and item.level == "OPEN" for item in CATALOGUE.requirements
        ), f"no OPEN requirement rests on {reading}"


def test_every_operation_of_our_wsdl_has_a_section() -> None:
    for op in operations.OPERATIONS:
        assert CATALOGUE.section_for_operation(op.name) is not None, op.name


@pytest.mark.parametrize(
    ("section", "statuses"),
    [("add", ADD_REQUEST_STATUSES), ("divert", DIVERT_REQUEST_STATUSES)],
)
def test_every_request_status_is_expected(section: str, statuses: tuple[str, ...]) -> None:
    assert set(statuses) <= set(schema.enumeration("OpenMediaRequestStatus"))
    assert set(statuses) - CATALOGUE.expected_names(section) == set()


def test_every_status_except_unknown_and_clerical_is_expected() -> None:
    """Each Status a request can reach is expected by some requirement (R1)."""
    expected = {name for item in CATALOGUE.requirements for name in item.expects}
    reachable = set(schema.enumeration("OpenMediaStatus")) - {"Unknown", "Clerical"}
    assert reachable - expected == set()


# --------------------------------------------------------------------------- faults


def _assert_faults_expected(declared: dict[str, tuple[str, ...]]) -> None:
    missing = []
    for operation, faults in declared.items():
        section = CATALOGUE.section_for_operation(operation)
        assert section is not None, operation
        for fault in faults:
            where = CROSS_CUTTING_FAULTS.get(fault, section.key)
            if fault not in CATALOGUE.expected_names(where):
                missing.append(f"{operation}: {fault} (section {where})")
    assert missing == []


def test_faults_declared_in_our_wsdl_are_expected() -> None:
    _assert_faults_expected({op.name: op.fault_names for op in operations.OPERATIONS})


def test_faults_declared_in_the_live_wsdl_are_expected() -> None:
    declared = _wsdl_faults(_live_wsdl())
    assert len(declared) == len(operations.OPERATIONS)
    _assert_faults_expected(declared)


def test_faults_the_description_names_are_expected() -> None:
    faults = _description_faults(_description())
    anchors = _anchor_map()
    assert faults, "no FAULT table found: the heading extraction is broken"
    missing = []
    for heading, names in faults.items():
        for fault in names:
            where = CROSS_CUTTING_FAULTS.get(fault, anchors[heading])
            if fault not in CATALOGUE.expected_names(where):
                missing.append(f"{heading}: {fault} (section {where})")
    assert missing == []


def test_undeclared_faults_are_exactly_those_the_wsdl_lacks() -> None:
    """R4: the description names faults the WSDL does not declare; the catalogue lists them."""
    named = set().union(*_description_faults(_description()).values())
    declared = {fault for faults in _wsdl_faults(_live_wsdl()).values() for fault in faults}
    assert named - declared == set(CATALOGUE.undeclared_faults)


def test_expected_faults_are_declared_by_the_operation() -> None:
    """A requirement never expects a fault its operation cannot raise on the wire."""
    stray = []
    for section in CATALOGUE.sections:
        if section.operation is None:
            continue
        declared = set(operations.operation(section.operation).fault_names)
        allowed = declared | set(CATALOGUE.undeclared_faults)
        for name in CATALOGUE.expected_names(section.key):
            is_fault = name.endswith(("Fault", "Exception"))
            if is_fault and name not in allowed and (section.key, name) != MODIFY_INVALID_DATA:
                stray.append(f"{section.key}: {name}")
    assert stray == []


# --------------------------------------------------------------------------- headings


def test_every_description_heading_maps_to_a_section() -> None:
    headings = [heading for _, heading in _section_headings(_description())]
    anchors = _anchor_map()
    assert len(headings) >= 15, headings
    assert [h for h in headings if h not in anchors] == []


def test_every_description_section_anchor_is_a_heading_of_the_description() -> None:
    lines = {line.strip() for line in _description().splitlines()}
    for section in CATALOGUE.sections:
        if section.source == "description":
            assert section.anchor in lines, section.key


def test_heading_extraction_sees_the_structure() -> None:
    """The extraction finds the known structural headings (else the mapping test is hollow)."""
    found = {heading for _, heading in _headings(_description())}
    assert set(NOT_SECTIONS) <= found
    assert {"ADDREQUEST", "DATA CACHE", "SERVICE INFORMATION, SOAP"} <= found


# --------------------------------------------------------------------------- validate()


def _with(**changes: object) -> Callable[[Catalogue], Catalogue]:
    def change_first_add(catalogue: Catalogue) -> Catalogue:
        items = list(catalogue.requirements)
        index = next(i for i, item in enumerate(items) if item.section == "add")
        items[index] = dataclasses.replace(items[index], **changes)  # type: ignore[arg-type]
        return dataclasses.replace(catalogue, requirements=tuple(items))

    return change_first_add


def _append_requirement(item: Requirement) -> Callable[[Catalogue], Catalogue]:
    return lambda c: dataclasses.replace(c, requirements=(*c.requirements, item))


def _append_section(section: Section) -> Callable[[Catalogue], Catalogue]:
    return lambda c: dataclasses.replace(c, sections=(*c.sections, section))


_SPARE = Requirement(
    "ADD-SPARE-EXAMPLE", "add", "MUST", (), (), "An example.", sources=("description: ADDREQUEST",)
)

BROKEN = [
    ("duplicate ID", _append_requirement(CATALOGUE.requirements[0]), "duplicate requirement ID"),
    ("unknown level", _with(level="MAY"), "unknown level 'MAY'"),
    ("unknown reading", _with(readings=("R23",)), "unknown reading 'R23'"),
    ("no source", _with(sources=()), "no sources"),
    ("source of no kind", _with(sources=("rumour: heard it",)), "does not start with one of"),
    ("source without where", _with(sources=("description:",)), "says not where"),
    ("MUST on the live server only", _with(level="MUST", sources=("live-server: WCF does it",)),
     "MUST resting only on live-server"),
    ("MUST on a reading only", _with(level="MUST", sources=("reading: R8",)),
     "MUST resting only on reading"),
    ("MUST on this project only", _with(level="MUST", sources=("project: we like it",)),
     "MUST resting only on project"),
    ("reading twice", _with(readings=("R2", "R2")), "cited twice"),
    ("unknown section", _append_requirement(dataclasses.replace(_SPARE, section="nowhere")),
     "unknown section 'nowhere'"),
    ("prefix mismatch", _append_requirement(dataclasses.replace(_SPARE, section="cancel")),
     "does not start with CAN-"),
    ("empty text", _with(text="  "), "empty text"),
    ("positional ID", _append_requirement(dataclasses.replace(_SPARE, id="ADD-LIMIT-3")),
     "ends in a number"),
    ("lower-case ID", _append_requirement(dataclasses.replace(_SPARE, id="ADD-spare")),
     "not PREFIX-WORDS"),
    ("OPEN without open reading", _with(level="OPEN", readings=("R2",)), "cites no open reading"),
    ("empty section", _append_section(Section("spare", "SPARE", "Spare", "Spare", "project")),
     "section spare has no requirement"),
    ("duplicate prefix", _append_section(Section("spare", "ADD", "Spare", "Spare", "project")),
     "duplicate section prefix ADD"),
    ("unknown source", _append_section(Section("spare", "SPARE", "Spare", "Spare", "rumour")),
     "unknown source 'rumour'"),
    ("retired ID reused",
     lambda c: dataclasses.replace(c, retired=(c.requirements[0].id,)), "is retired"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "break_it", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_validate_catches(
    kind: str, break_it: Callable[[Catalogue], Catalogue], expected: str
) -> None:
    problems = validate(break_it(CATALOGUE))
    if kind == "empty section":
        assert problems == ["section spare has no requirement"]
        return
    matching = [problem for problem in problems if expected in problem]
    assert matching, problems
    assert len(problems) <= 2, problems  # the defect and at most its direct consequence


def test_a_should_may_rest_on_the_live_server_alone() -> None:
    """R21: behaviour copied from the live server is SHOULD; that is no problem."""
    assert validate(_with(level="SHOULD", sources=("live-server: WCF does it",))(CATALOGUE)) == []


def test_every_must_cites_a_source_that_can_require_it() -> None:
    """The audit's result, stated from the data: no MUST rests only on "this project"."""
    weak = [
        item.id
        for item in CATALOGUE.requirements
        if item.level == "MUST" and not any(c.kind.can_require for c in item.citations)
    ]
    assert weak == []


def test_the_requirements_table_in_the_docs_is_current() -> None:
    """docs/requirements.md is generated; a catalogue edit without regenerating it fails here."""
    from conformance.traceability.requirements_table import TABLE, render

    assert TABLE.read_text(encoding="utf-8") == render(), (
        "run python -m conformance.traceability.requirements_table"
    )


def test_validate_checks_expected_names_when_given_a_vocabulary() -> None:
    broken = _with(expects=("Sucess",))(CATALOGUE)
    assert validate(broken) == []
    assert validate(broken, frozenset({"Success"})) != []
    problems = validate(broken, expectable_names(CATALOGUE))
    assert problems == [
        f"requirement {CATALOGUE.by_section('add')[0].id}: unknown expected name 'Sucess'"
    ]


def test_parse_and_load_from_a_file(tmp_path: Path) -> None:
    """A minimal file round-trips through load_catalogue(path) and parse_catalogue()."""
    path = tmp_path / "requirements.toml"
    path.write_text(
        'undeclared_faults = ["XFault"]\n'
        '[[section]]\nkey = "add"\nprefix = "ADD"\ntitle = "AddRequest"\n'
        'chapter = "Requests"\nsource = "description"\noperation = "AddRequest"\n'
        '[[requirement]]\nid = "ADD-EXAMPLE"\nsection = "add"\nlevel = "MUST"\n'
        'sources = ["description: ADDREQUEST"]\n'
        'readings = ["R1"]\nexpects = ["Success"]\ntext = "An example."\n',
        encoding="utf-8",
    )
    loaded = load_catalogue(path)
    assert validate(loaded) == []
    assert loaded.requirement("ADD-EXAMPLE").readings == ("R1",)
    assert loaded.section("add").operation == "AddRequest"
    assert loaded.undeclared_faults == ("XFault",)
    assert parse_catalogue({"section": [], "requirement": []}).requirements == ()


def test_catalogue_file_parses_as_the_module_says() -> None:
    """No stray keys: every requirement table has exactly the agreed fields."""
    raw = tomllib.loads((schemas_dir() / "requirements.toml").read_text(encoding="utf-8"))
    fields = {"id", "section", "level", "sources", "readings", "expects", "text"}
    assert [r["id"] for r in raw["requirement"] if set(r) - {"planted"} != fields] == []
    allowed = {"key", "prefix", "title", "chapter", "source", "operation", "anchor"}
    assert [s["key"] for s in raw["section"] if not set(s) <= allowed] == []
