"""The mutation matrix as a self-test: every planted defect is killed, the clean emulator passes.

This is the evidence that the suite can fail: for each fault flag of the reference emulator
(``conformance.emulator.faults``) the suite runs against an emulator with that one defect, and at
least one failing test must cite the requirement the defect is planted against; with no fault
the whole suite must pass. A defect that survives names a requirement without an effective
check. The runs go in parallel (one per CPU) and each stops at its first citing failure; the
report is written under ``reports/mutation/`` either way.

Set ``OPENMEDIA_MUTATION_JOBS`` to choose the parallelism. The small tests first drive the
selection plugin (``conformance.mutation.select``) through pytester.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.emulator.faults import DEFECTS
from conformance.mutation import matrix as mutation
from conformance.mutation import observable
from conformance.mutation.matrix import SuiteRun, run_matrix
from conformance.mutation.report import to_json, to_table, write_reports
from conformance.mutation.results import NOT_OBSERVABLE, DefectResult, MatrixReport

pytest_plugins = ["pytester"]

_TESTS = """
import pytest
from conformance.verdicts import ConformanceFailure

@pytest.mark.requirement("ADD-EWT", "ADD-VALID-BY-GROUP-ID", "ADD-QUEUE-POSITION-QUEUED")
def test_broad():
    raise ConformanceFailure("ADD-VALID-BY-GROUP-ID", "e", "a")

@pytest.mark.requirement("ADD-EWT")
def test_specific():
    raise ConformanceFailure("ADD-EWT", "EWT >= 0", "EWT -1")

@pytest.mark.requirement("ADD-EWT")
def test_after_the_kill():
    pass

@pytest.mark.requirement("ADD-GROUP-CLOSED")
def test_other():
    pass
"""


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:  # type: ignore[type-arg]
    pytester.makepyfile(test_cases=_TESTS)
    out = pytester.path / "out.json"
    result = pytester.runpytest_subprocess(
        "-p", "conformance.mutation.select", "--om-mutation-json", str(out), *args
    )
    return result, json.loads(out.read_text(encoding="utf-8"))


def test_only_requirement_selects_citing_tests_most_specific_first(
    pytester: pytest.Pytester,
) -> None:
    result, data = _run(pytester, "--om-only-requirement", "ADD-EWT")
    ran = [item["nodeid"].split("::")[1] for item in data["collected"]]
    assert ran == ["test_specific", "test_after_the_kill", "test_broad"]
    assert [f["nodeid"].split("::")[1] for f in data["failures"]] == ["test_specific", "test_broad"]
    result.assert_outcomes(passed=1, failed=2, deselected=1)


def test_stop_on_requirement_stops_at_a_failure_naming_it(pytester: pytest.Pytester) -> None:
    """The broad test cites ADD-VALID-BY-GROUP-ID only by marker: the run goes on past it."""
    _, data = _run(pytester, "--om-stop-on-requirement", "ADD-EWT")
    failures = {f["nodeid"].split("::")[1]: f for f in data["failures"]}
    assert list(failures) == ["test_broad", "test_specific"]
    assert failures["test_specific"]["failure_requirement"] == "ADD-EWT"
    assert failures["test_broad"]["failure_requirement"] == "ADD-VALID-BY-GROUP-ID"
    assert failures["test_broad"]["requirements"] == [
        "ADD-EWT",
        "ADD-VALID-BY-GROUP-ID",
        "ADD-QUEUE-POSITION-QUEUED",
    ]
    assert "EWT -1" in failures["test_specific"]["message"]
    assert data["counts"] == {"failed": 2}  # test_after_the_kill and test_other never ran


def test_the_json_says_which_tests_did_not_apply_and_what_each_used(
    pytester: pytest.Pytester,
) -> None:
    """What the observable run decides with: each test's reason when it did not apply, its
    fixtures, and how long it took."""
    pytester.makepyfile(
        test_cases="""
import pytest

@pytest.fixture
def waiting():
    return 1

@pytest.mark.requirement("ADD-EWT")
def test_applies(waiting):
    pass

@pytest.mark.requirement("ADD-EWT")
def test_needs_agents():
    pytest.skip("not applicable: target lacks control feature 'agents'")
"""
    )
    out = pytester.path / "out.json"
    pytester.runpytest_subprocess(
        "-p", "conformance.mutation.select", "--om-mutation-json", str(out)
    ).assert_outcomes(passed=1, skipped=1)
    data = json.loads(out.read_text(encoding="utf-8"))
    run = {item["nodeid"].split("::")[1]: item for item in data["collected"]}
    assert "waiting" in run["test_applies"]["fixtures"]
    skipped = {k.split("::")[1]: v for k, v in data["not_applicable"].items()}
    assert skipped == {"test_needs_agents": "not applicable: target lacks control feature 'agents'"}
    assert {k.split("::")[1] for k in data["durations"]} == {"test_applies", "test_needs_agents"}


def _suite_run(*failures: dict[str, object]) -> SuiteRun:
    return SuiteRun(1 if failures else 0, 1.0, {}, tuple(failures))


_ERROR = {"nodeid": "t.py::a", "verdict": "error", "message": "SuiteError: start\nits stdout"}
_FAIL = {"nodeid": "t.py::a", "verdict": "fail", "failure_requirement": "STA-LATEST"}


@pytest.mark.parametrize(
    ("runs", "outcome", "detail"),
    [
        ([_suite_run(_ERROR), _suite_run(_FAIL)], "killed", "retried after: 1 error(s), no fail"),
        ([_suite_run(_ERROR), _suite_run(_ERROR)], "survived", "retried after: 1 error(s)"),
        ([_suite_run()], "survived", "every selected test passed"),
        ([_suite_run(_FAIL)], "killed", ""),
    ],
    ids=["error-then-kill", "error-twice", "passed-no-retry", "kill-no-retry"],
)
def test_a_run_that_could_not_test_is_repeated_once_and_says_so(
    monkeypatch: pytest.MonkeyPatch, runs: list[SuiteRun], outcome: str, detail: str
) -> None:
    pending = list(runs)
    monkeypatch.setattr(mutation, "run_suite", lambda *_args, **_kw: pending.pop(0))
    defect = next(d for d in DEFECTS if d.requirement == "STA-LATEST")
    result = mutation.run_defect(defect, {"STA-LATEST": ("t.py",)}, frozenset())
    assert pending == []  # a kill or a pass is never repeated; an error-only run once
    assert result.outcome == outcome
    assert result.detail.startswith(detail)
    if len(runs) == 2:
        assert "SuiteError: start … its stdout" in result.detail  # first and last line


def test_every_planted_defect_is_killed_and_the_clean_emulator_passes() -> None:
    jobs = int(os.environ.get("OPENMEDIA_MUTATION_JOBS", "0")) or None
    report = run_matrix(jobs=jobs)
    write_reports(report)
    table = to_table(report)
    assert len(report.results) == len(DEFECTS)
    assert report.clean_passed, table
    survivors = [
        f"{r.name} ({r.requirement}): {r.outcome}, {r.detail}"
        for r in report.results
        if not r.killed
    ]
    assert survivors == [], "defects no check catches:\n" + "\n".join(survivors)


# -- the observable run ----------------------------------------------------------------------

_KILLER = "conformance/suite/test_status_by_id.py::test_latest"
_OTHER = "conformance/suite/test_status_by_id.py::test_other"
_FILES = observable.Files(observable.ALL_ON, Path("scenario.json"), Path("profile.toml"))


def _observable_clean(not_applicable: dict[str, str]) -> SuiteRun:
    """An observable clean run: two tests cite STA-LATEST, ``not_applicable`` did not apply."""
    tests = {_KILLER: ("STA-LATEST",), _OTHER: ("STA-LATEST",), "t.py::b": ("AUTH-VALID",)}
    return SuiteRun(0, 1.0, {}, (), tests=tests, not_applicable=not_applicable)


def _full(killer: str) -> DefectResult:
    return DefectResult("x", "STA-LATEST", "s", "killed", "selected", killer=killer)


@pytest.mark.parametrize(
    ("not_applicable", "runs", "outcome", "detail"),
    [
        (
            {_KILLER: "lacks control feature 'agents'", _OTHER: "lacks control feature 'clock'"},
            [],
            NOT_OBSERVABLE,
            "none of the 2 tests citing STA-LATEST applies there: lacks control feature "
            "'agents'; lacks control feature 'clock'",
        ),
        ({}, [_suite_run(_FAIL)], "killed", ""),
        (
            {_KILLER: "lacks 'agents'"},
            [_suite_run()],
            NOT_OBSERVABLE,
            f"killed in the full run by {_KILLER}, not applicable there (lacks 'agents'); the 1 "
            "tests citing STA-LATEST that apply do not see it",
        ),
        ({_OTHER: "lacks 'agents'"}, [_suite_run()], "survived", "every selected test passed"),
    ],
    ids=["no-test-applies", "killed", "only-its-killer-sees-it", "missed-by-its-killer"],
)
def test_the_observable_run_decides_from_results_whether_it_can_see_a_defect(
    monkeypatch: pytest.MonkeyPatch,
    not_applicable: dict[str, str],
    runs: list[SuiteRun],
    outcome: str,
    detail: str,
) -> None:
    """Not run when no test citing the requirement applied in the observable clean run; else
    run there, and a defect it misses is *not observable* only when the test that killed it in
    the full run did not apply there (a test that did apply and missed it is a survivor)."""
    pending = list(runs)
    on: list[object] = []

    def run_suite(*_args: object, **kwargs: object) -> SuiteRun:
        on.append(kwargs.get("on"))
        return pending.pop(0)

    monkeypatch.setattr(mutation, "run_suite", run_suite)
    defect = next(d for d in DEFECTS if d.requirement == "STA-LATEST")
    clean = _observable_clean(not_applicable)
    result = mutation.observable_verdict(
        defect, _full(_KILLER), clean, {"STA-LATEST": ("t.py",)}, frozenset(), _FILES
    )
    assert pending == []
    assert on == [_FILES] * len(runs)  # run against the observable emulator, never embedded
    assert (result.outcome, result.detail[: len(detail)]) == (outcome, detail)
    assert result.observable is (outcome != NOT_OBSERVABLE)


def test_a_defect_only_a_control_feature_shows_is_not_observable_when_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A survivor whose defect table row says only ``statistics`` shows it is *not observable*
    (the tests of its requirement apply without the counters); killed, it is killed."""
    monkeypatch.setattr(mutation, "run_suite", lambda *_a, **_k: _suite_run())
    assert [d.name for d in DEFECTS if d.seen_through] == ["refused-divert-counts-overflow"]
    plain = next(d for d in DEFECTS if d.requirement == "STA-LATEST")
    seen = dataclasses.replace(plain, seen_through="statistics")
    clean = _observable_clean({_OTHER: "lacks 'agents'"})
    citations = {"STA-LATEST": ("t.py",)}
    result = mutation.observable_verdict(
        seen, _full(_KILLER), clean, citations, frozenset(), _FILES
    )
    assert (result.outcome, result.observable) == (NOT_OBSERVABLE, False)
    assert "only the control feature 'statistics' shows it" in result.detail
    result = mutation.observable_verdict(
        plain, _full(_KILLER), clean, citations, frozenset(), _FILES
    )
    assert result.outcome == "survived"


def test_a_defect_not_observable_counts_neither_killed_nor_survived() -> None:
    def result(name: str, outcome: str) -> DefectResult:
        return DefectResult(name, "STA-LATEST", "s", outcome, "selected")

    report = MatrixReport(
        results=(result("a", "killed"), result("b", "killed")),
        clean=None,
        seconds=1.0,
        jobs=1,
        observable=(result("a", "killed"), result("b", NOT_OBSERVABLE)),
        observable_clean=SuiteRun(0, 1.0, {}, ()),
    )
    assert report.ok and report.observable_killed == 1
    summary = to_json(report)["observable"]["summary"]
    assert summary["observable"] == 1 and summary["not_observable"] == ["b"]
    assert summary["survived"] == [] and summary["score"] == "100.0%"
    assert "observable profile: killed/observable 1/1 (100.0%); 1 not observable" in to_table(
        report
    )
    survived = MatrixReport(
        results=report.results,
        clean=None,
        seconds=1.0,
        jobs=1,
        observable=(result("a", "survived"), result("b", NOT_OBSERVABLE)),
        observable_clean=SuiteRun(0, 1.0, {}, ()),
    )
    assert not survived.ok and "observable SURVIVED a: no effective check" in to_table(survived)


OBSERVABLE_DEFECT = "auth-password-not-checked"
CONTROL_DEFECT = "router-loss-skips-allocated"


def test_mutation_observable_kills_on_both_runs_or_names_the_control_feature(
    tmp_path: Path,
) -> None:
    """``openmedia-conformance mutation --observable --only`` two defects, as a user runs it:
    one that a server without control plane can show is killed in the full run and on the
    observable profile; one only router loss shows is killed in the full run and listed as
    needing a control feature there, not as a survivor."""
    command = [
        sys.executable, "-m", "conformance.cli", "mutation", "--observable", "--no-clean",
        "--jobs", "2", "--output", str(tmp_path), "--only", OBSERVABLE_DEFECT, CONTROL_DEFECT,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    data = json.loads((tmp_path / "mutation.json").read_text(encoding="utf-8"))
    assert [d["outcome"] for d in data["defects"]] == ["killed", "killed"], output[-3000:]
    seen = {d["name"]: d for d in data["observable"]["defects"]}
    assert seen[OBSERVABLE_DEFECT]["outcome"] == "killed", seen[OBSERVABLE_DEFECT]
    assert "test_authentication.py" in seen[OBSERVABLE_DEFECT]["killer"]
    assert seen[CONTROL_DEFECT]["outcome"] == NOT_OBSERVABLE
    assert "control feature 'router'" in seen[CONTROL_DEFECT]["detail"]
    summary = data["observable"]["summary"]
    assert (summary["observable"], summary["killed"], summary["survived"]) == (1, 1, [])
    assert summary["not_observable"] == [CONTROL_DEFECT] and summary["clean_passed"]
    assert data["observable"]["clean"]["tests_applicable"] > 0
    assert "observable profile: killed/observable 1/1 (100.0%); 1 not observable" in output
    assert "## The observable profile" in (tmp_path / "mutation.md").read_text(encoding="utf-8")


def test_a_run_of_the_real_time_cache_tier_goes_in_the_waiting_lane() -> None:
    """Its tests' durations in the clean run do not show the wait (the tier overlaps it with
    the rest of the run); the fixture they use does."""
    defect = next(d for d in DEFECTS if d.requirement == "STA-LATEST")
    tests = {_KILLER: ("STA-LATEST",), _OTHER: ("STA-LATEST",)}
    quick = SuiteRun(0, 1.0, {}, (), tests=tests, durations={_KILLER: 0.1, _OTHER: 0.2})
    assert not mutation._waits(defect, quick)
    tier = {_OTHER: ("env", mutation.WAITING_FIXTURE)}
    assert mutation._waits(defect, SuiteRun(0, 1.0, {}, (), tests=tests, fixtures=tier))
    slow = SuiteRun(0, 1.0, {}, (), tests=tests, durations={_KILLER: mutation.WAITING_S})
    assert mutation._waits(defect, slow)
