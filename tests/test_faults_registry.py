"""The planted-defect registry (``conformance.emulator.faults``) and how the emulator takes it.

A defect that cites no catalogue requirement, shares a name, has no hook, or leaks into the
default behaviour would make the mutation matrix prove nothing; these tests keep it sound. The
matrix itself (every defect killed, the clean emulator passing) is tests/test_mutation_matrix.py.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.contract.catalogue import CATALOGUE, req
from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator import faults, traceability
from conformance.emulator.engine import Engine
from conformance.emulator.engine.model import AddInput, IvrItem, RequestStatus
from conformance.emulator.engine.scenario import demo_scenario
from conformance.emulator.fault_table import Admission, Count, Length, OneOff, Range
from conformance.emulator.faults import Check, Defect

ROOT = Path(__file__).resolve().parent.parent
EMULATOR = ROOT / "conformance" / "emulator"
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
MINIMUM_DEFECTS = 80


def test_every_defect_cites_a_catalogue_requirement() -> None:
    unknown = [(d.name, d.requirement) for d in faults.DEFECTS if d.requirement not in CATALOGUE]
    assert unknown == []


def test_names_are_unique_stable_kebab_case() -> None:
    names = [d.name for d in faults.DEFECTS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert [n for n in names if not KEBAB.match(n)] == []
    assert set(faults.FAULTS) == set(names) == set(faults.BY_NAME)


def test_enough_defects_and_each_says_what_it_breaks() -> None:
    assert len(faults.DEFECTS) >= MINIMUM_DEFECTS
    assert [d.name for d in faults.DEFECTS if len(d.summary) < 15] == []


def test_catalogue_planted_marks_equal_the_registry() -> None:
    """The catalogue's ``planted = true`` marks are exactly the requirements defects cite."""
    marked = {r.id for r in CATALOGUE.requirements if r.planted}
    assert marked == faults.planted_requirements(), {
        "marked, no defect": sorted(marked - faults.planted_requirements()),
        "defect, not marked": sorted(faults.planted_requirements() - marked),
    }


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_one_off_defect_has_a_hook_and_every_hook_a_defect() -> None:
    """A hook naming a defect the table lacks would be dead code; so would a flag spelt as a
    string: hooks name defects as ``Defect.NAME`` only, and each names a member."""
    hooked = traceability.hooks()
    one_off = {row for row in Defect if isinstance(row, OneOff)}
    assert {row.flag for row in one_off - set(hooked)} == set(), "defects without a hook"
    tabled = {row.name for row in Defect if not isinstance(row, OneOff)}
    named = {ref.name for ref in traceability.references(traceability.sources())}
    assert named & tabled == set(), "table-driven defects are read through faults.py only"
    assert traceability.unknown_references() == (), "hooks naming defects the table lacks"
    hook_files = [
        p for p in EMULATOR.rglob("*.py") if p.name not in ("faults.py", "fault_table.py")
    ]
    literals = set().union(*(_string_literals(p) for p in hook_files))
    flags = {text for text in literals if KEBAB.match(text) and text in faults.FAULTS}
    assert flags == set(), "hooks testing a flag's string instead of its Defect member"
    suspicious = {
        text
        for text in literals
        if KEBAB.match(text) and text not in faults.FAULTS and _looks_like_a_flag(text)
    }
    assert suspicious == set(), "hooks testing names the registry does not know"


def _looks_like_a_flag(text: str) -> bool:
    """Kebab literals in the emulator that are not flags: control features, timer kinds."""
    return text.count("-") >= 2 and text not in {"preferred-timeout"}


def test_every_registered_defect_has_a_hook_that_can_fire() -> None:
    """A one-off defect is named by a hook; a family's hook function is called by the emulator
    and bends its answer for each defect of the family."""
    assert traceability.unhooked() == ()
    for row in Defect:
        planted = frozenset({row})
        if isinstance(row, Length):
            limit = 100
            assert faults.length_limit(planted, row.type_name, row.field, limit) != limit
        elif isinstance(row, Count):
            assert faults.count_limit(planted, row.type_name, 3) != 3
        elif isinstance(row, Range):
            span = next(
                s
                for s in CONSTRAINTS.ranges_for(row.type_name)
                if (s.type, s.field) == (row.type_name, row.field)
            )
            assert faults.bend_range(planted, span) != span, row
        elif isinstance(row, Admission):
            assert faults.skips(planted, row.check, row.operation), row


def test_a_defect_without_a_hook_is_reported() -> None:
    """The scan above can fail: without the engine module, its defects have no hook."""
    without_engine = [p for p in traceability.sources() if p.name != "engine.py"]
    missing = traceability.unhooked(without_engine)
    assert Defect.EWT_NEGATIVE in missing and Defect.ADD_IGNORES_LICENSE_LOSS in missing
    assert Defect.SOAP12_ENVELOPE not in missing


def test_an_unknown_defect_name_fails_at_import(tmp_path: Path) -> None:
    """A misspelt defect is an error where it is named, never a hook that silently never fires."""
    with pytest.raises(faults.UnknownFault, match="no-such-defect"):
        faults.planted(["ewt-negative", "no-such-defect"])
    with pytest.raises(faults.UnknownFault):
        Engine(demo_scenario(), faults=["no-such-defect"])
    module = tmp_path / "misspelt_hook.py"
    module.write_text(
        "from conformance.emulator.faults import Defect\nHOOK = Defect.EWT_NEGATIV\n",
        encoding="utf-8",
    )
    spec = importlib.util.spec_from_file_location("misspelt_hook", module)
    assert spec is not None and spec.loader is not None
    with pytest.raises(AttributeError, match="EWT_NEGATIV"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert traceability.unknown_references([module]) == (
        traceability.Reference(
            "EWT_NEGATIV", traceability.Location(str(module.resolve().as_posix()), 2)
        ),
    )


def test_mypy_refuses_a_misspelt_defect(tmp_path: Path) -> None:
    """The type checker names a misspelt defect before anything runs."""
    if importlib.util.find_spec("mypy") is None:  # pragma: no cover - a dev dependency
        pytest.skip("mypy is not installed")
    hook = tmp_path / "misspelt_hook.py"
    hook.write_text(
        "from conformance.emulator.faults import NONE, Defect\nBENT = Defect.EWT_NEGATIV in NONE\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(hook)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'has no attribute "EWT_NEGATIV"' in done.stdout


def test_the_table_refuses_an_unsound_defect_at_definition() -> None:
    """Two defects with one row would be one defect under two names: defining them fails."""
    with pytest.raises(ValueError, match="duplicate defects in Twice: A and B"):

        class Twice(metaclass=type(Defect)):
            A = OneOff("ADD-EWT", "EWT is negative")
            B = OneOff("ADD-EWT", "EWT is negative")

    with pytest.raises(KeyError):  # what the registry calls for each defect's requirement
        req("NO-SUCH-REQUIREMENT")
    assert Defect.EWT_NEGATIVE.flag == "ewt-negative" and len(Defect) == len(faults.DEFECTS)


def test_every_hook_names_its_requirement() -> None:
    """Each hook carries ``# implements <its defect's requirement>`` (traceability)."""
    untagged = [(m.flag, str(where)) for m, where in traceability.untagged_hooks()]
    assert untagged == []


def test_implementations_and_defects_for_trace_a_requirement() -> None:
    places = traceability.implementations("ADD-LIMIT-LABEL")
    assert places and all(p.path.startswith("conformance/emulator/") for p in places)
    lines = (ROOT / places[0].path).read_text(encoding="utf-8").splitlines()
    assert "ADD-LIMIT-LABEL" in lines[places[0].line - 1]
    assert {d.name for d in traceability.defects_for("ADD-LIMIT-LABEL")} == {
        "add-label-limit-refused",
        "add-label-over-limit-accepted",
    }
    assert traceability.implementations("NO-SUCH-REQUIREMENT") == []
    assert traceability.defects_for("NO-SUCH-REQUIREMENT") == ()


def test_every_planted_requirement_is_implemented_somewhere() -> None:
    """Every requirement a defect breaks has an ``# implements`` tag; every tag a real ID."""
    tags = traceability.tags(traceability.sources())
    assert sorted(faults.planted_requirements() - set(tags)) == []
    assert sorted(rid for rid in tags if rid not in CATALOGUE) == []


def test_tables_bend_only_what_they_name() -> None:
    """Table lookups act only for the named defect, input type and field."""
    label_refused = faults.planted(["add-label-limit-refused"])
    assert faults.length_limit(faults.NONE, "AddOpenMediaRequest", "Label", 100) == 100
    assert faults.length_limit(label_refused, "AddOpenMediaRequest", "Label", 100) == 99
    assert faults.length_limit(label_refused, "ModifyOpenMediaRequest", "Label", 100) == 100
    license_ignored = faults.planted(["add-ignores-license-loss"])
    assert faults.skips(license_ignored, Check.LICENSE, "AddRequest")
    assert not faults.skips(license_ignored, Check.ROUTER, "AddRequest")
    assert not faults.skips(license_ignored, Check.LICENSE, "SetOptions")


def test_emulator_refuses_an_unknown_fault_name() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.emulator", "--port", "0", "--fault", "no-such-defect"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no-such-defect" in done.stderr
    assert "wsdl-address-not-rewritten" in done.stderr  # the known names are listed


def test_validate_accepts_known_names_and_names_the_unknown_one() -> None:
    assert faults.validate(["ewt-negative"]) == frozenset({"ewt-negative"})
    try:
        faults.validate(["ewt-negative", "nope"])
    except faults.UnknownFault as exc:
        assert "'nope'" in str(exc)
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("an unknown fault name was accepted")


def test_no_fault_means_no_bent_behaviour() -> None:
    """Without a fault the engine's state carries no fault; with one, exactly that one acts."""
    clean = Engine(demo_scenario())
    assert clean.faults == frozenset()
    assert clean._world.faults == frozenset() and clean._world.options.faults == frozenset()
    request = AddInput(ivr_info=(IvrItem("1", "Case"),), service_group_id=10)
    assert clean.add_request(request).open_media_id > 0
    bent = Engine(demo_scenario(), faults=["add-success-id-zero"])
    assert bent.faults == frozenset({Defect.ADD_SUCCESS_ID_ZERO})
    result = bent.add_request(request)
    assert (result.open_media_id, result.request_status) == (0, RequestStatus.SUCCESS)


def test_the_faults_document_is_current() -> None:
    """docs/faults.md is generated; a registry edit without regenerating it fails here."""
    from conformance.emulator.fault_docs import DOCUMENT, render

    text = render()
    assert DOCUMENT.read_text(encoding="utf-8") == text, (
        "run python -m conformance.emulator.fault_docs"
    )
    listed = [line.split("`")[3] for line in text.splitlines() if line.startswith("| `")]
    assert sorted(listed) == sorted(d.name for d in faults.DEFECTS)
