"""The planted-defect registry (``conformance.emulator.faults``) and how the emulator takes it.

A defect that cites no catalogue requirement, shares a name, has no hook, or leaks into the
default behaviour would make the mutation matrix prove nothing; these tests keep it sound. The
matrix itself (every defect killed, the clean emulator passing) is tests/test_mutation_matrix.py.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from conformance.contract.catalogue import CATALOGUE
from conformance.emulator import faults
from conformance.emulator.engine import Engine
from conformance.emulator.engine.model import AddInput, IvrItem, RequestStatus
from conformance.emulator.engine.scenario import demo_scenario
from conformance.emulator.fault_table import ADMISSION, COUNTS, LENGTHS, RANGES, SINGLE

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
    """A hook testing a misspelt name would be dead code and its defect would do nothing."""
    hook_files = [p for p in EMULATOR.rglob("*.py") if p.name not in ("faults.py", "fault_table.py")]
    literals = set().union(*(_string_literals(p) for p in hook_files))
    named = {text for text in literals if KEBAB.match(text) and text in faults.FAULTS}
    one_off = {name for name, _, _ in SINGLE}
    assert one_off - named == set(), "defects without a hook"
    tabled = {row[0] for table in (LENGTHS, COUNTS, RANGES, ADMISSION) for row in table}
    assert named & tabled == set(), "table-driven defects are read through faults.py only"
    suspicious = {
        text
        for text in literals
        if KEBAB.match(text) and text not in faults.FAULTS and _looks_like_a_flag(text)
    }
    assert suspicious == set(), "hooks testing names the registry does not know"


def _looks_like_a_flag(text: str) -> bool:
    """Kebab literals in the emulator that are not flags: control features, timer kinds."""
    return text.count("-") >= 2 and text not in {"preferred-timeout"}


def test_tables_bend_only_what_they_name() -> None:
    """Table lookups act only for the named defect, input type and field."""
    assert faults.length_limit(frozenset(), "AddOpenMediaRequest", "Label", 100) == 100
    assert (
        faults.length_limit(
            frozenset({"add-label-limit-refused"}), "AddOpenMediaRequest", "Label", 100
        )
        == 99
    )
    assert (
        faults.length_limit(
            frozenset({"add-label-limit-refused"}), "ModifyOpenMediaRequest", "Label", 100
        )
        == 100
    )
    assert faults.skips(frozenset({"add-ignores-license-loss"}), "license", "AddRequest")
    assert not faults.skips(frozenset({"add-ignores-license-loss"}), "router", "AddRequest")
    assert not faults.skips(frozenset({"add-ignores-license-loss"}), "license", "SetOptions")


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
    result = bent.add_request(request)
    assert (result.open_media_id, result.request_status) == (0, RequestStatus.SUCCESS)
