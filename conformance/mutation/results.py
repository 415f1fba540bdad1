"""What the mutation matrix found: one verdict per planted defect, and the whole matrix.

Values only: ``matrix`` produces them, ``report`` renders them; neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.mutation.runs import PROJECT_ROOT, SuiteRun

REPORT_DIR = PROJECT_ROOT / "reports" / "mutation"
NOT_OBSERVABLE = "not observable"
"""The outcome, on the observable profile, of a defect only a test needing a control feature
sees: listed as such, neither killed nor survived."""


@dataclass(frozen=True)
class DefectResult:
    """The verdict on one planted defect."""

    name: str
    requirement: str
    summary: str
    outcome: str
    """``killed``, ``survived`` (the run completed and nothing cited the requirement) or
    ``error`` (the run could not complete: no verdict); on the observable profile also
    ``NOT_OBSERVABLE`` (only a test that needs a control feature sees the defect)."""
    scope: str
    """``selected`` (the tests citing the requirement), ``wide`` (the whole suite) or ``none``
    (not run)."""
    killer: str = ""
    exact: bool = False
    """The killing failure's ``ConformanceFailure`` names the requirement itself (not only the
    test's marker)."""
    message: str = ""
    seconds: float = 0.0
    failures: int = 0
    detail: str = ""
    cpu_seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.outcome == "killed"

    @property
    def observable(self) -> bool:
        """On the observable profile: a test that applies there can see the defect."""
        return self.outcome != NOT_OBSERVABLE


@dataclass(frozen=True)
class MatrixReport:
    """The whole matrix: every defect's verdict, the clean run, and the catalogue's gaps."""

    results: tuple[DefectResult, ...]
    clean: SuiteRun | None
    seconds: float
    jobs: int
    gaps: tuple[str, ...] = ()
    uncited: tuple[str, ...] = field(default=())
    """Planted requirements that no suite test cites by marker (run wide)."""
    collect_cpu_seconds: float = 0.0
    observable: tuple[DefectResult, ...] | None = None
    """The observable run (``--observable``): each defect against the emulator without control
    plane on the observable profile; None when it was not asked for."""
    observable_clean: SuiteRun | None = None

    @property
    def killed(self) -> int:
        return sum(1 for r in self.results if r.killed)

    @property
    def observable_planted(self) -> list[DefectResult]:
        """The observable run's defects that a test applying there can see."""
        return [r for r in self.observable or () if r.observable]

    @property
    def observable_killed(self) -> int:
        return sum(1 for r in self.observable_planted if r.killed)

    @property
    def cpu_seconds(self) -> float:
        """CPU time of every run (suite + emulator), clean runs included."""
        runs = [self.clean, self.observable_clean]
        clean = sum(run.cpu_seconds for run in runs if run is not None)
        results = (*self.results, *(self.observable or ()))
        return self.collect_cpu_seconds + clean + sum(r.cpu_seconds for r in results)

    def estimated_seconds(self, cpus: int = 2) -> float:
        """The wall time the matrix needs on an otherwise idle machine with ``cpus`` CPUs."""
        return self.cpu_seconds / cpus

    @property
    def clean_passed(self) -> bool:
        return passed(self.clean)

    @property
    def observable_clean_passed(self) -> bool:
        return self.observable is None or passed(self.observable_clean)

    @property
    def observable_ok(self) -> bool:
        """Every defect the observable profile can see is killed there, and its clean run
        passed (true when the observable run was not asked for)."""
        planted = self.observable_planted
        return self.observable_killed == len(planted) and self.observable_clean_passed

    @property
    def ok(self) -> bool:
        return self.killed == len(self.results) and self.clean_passed and self.observable_ok


def passed(run: SuiteRun | None) -> bool:
    """A clean run passed (or was skipped: None)."""
    return run is None or (run.exitstatus == 0 and not run.failures and not run.error)


def one_line(text: str, limit: int = 160) -> str:
    """The last non-empty line of ``text``, shortened: a traceback's verdict, not its body."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return last if len(last) <= limit else last[: limit - 3] + "..."
