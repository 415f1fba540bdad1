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

import json
import os

import pytest

from conformance.emulator.faults import DEFECTS
from conformance.mutation import matrix as mutation
from conformance.mutation.matrix import SuiteRun, run_matrix
from conformance.mutation.report import to_table, write_reports

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
    monkeypatch.setattr(mutation, "run_suite", lambda *_args: pending.pop(0))
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
