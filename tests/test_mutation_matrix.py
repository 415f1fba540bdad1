"""The mutation matrix as a self-test: every planted defect is killed, the clean emulator passes.

This is the evidence that the suite can fail: for each fault flag of the reference emulator
(``conformance.emulator.faults``) the suite runs against an emulator with that one defect, and at
least one failing test must cite the requirement the defect is planted against; with no fault
the whole suite must pass. A defect that survives names a requirement without an effective
check. The runs go in parallel (one per CPU) and each stops at its first citing failure; the
report is written under ``reports/mutation/`` either way.

Set ``OPENMEDIA_MUTATION_JOBS`` to choose the parallelism.
"""

from __future__ import annotations

import os

from conformance.emulator.faults import DEFECTS
from conformance.mutation import run_matrix, to_table, write_reports


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
