"""What the mutation matrix found: one verdict per planted defect, and the whole matrix.

Values only: ``matrix`` produces them, ``report`` renders them; neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.mutation.runs import PROJECT_ROOT, SuiteRun

REPORT_DIR = PROJECT_ROOT / "reports" / "mutation"


@dataclass(frozen=True)
class DefectResult:
    """The verdict on one planted defect."""

    name: str
    requirement: str
    summary: str
    outcome: str
    """``killed``, ``survived`` (the run completed and nothing cited the requirement) or
    ``error`` (the run could not complete: no verdict)."""
    scope: str
    """``selected`` (the tests citing the requirement) or ``wide`` (the whole suite)."""
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

    @property
    def killed(self) -> int:
        return sum(1 for r in self.results if r.killed)

    @property
    def cpu_seconds(self) -> float:
        """CPU time of every run (suite + emulator), clean run included."""
        clean = self.clean.cpu_seconds if self.clean is not None else 0.0
        return self.collect_cpu_seconds + clean + sum(r.cpu_seconds for r in self.results)

    def estimated_seconds(self, cpus: int = 2) -> float:
        """The wall time the matrix needs on an otherwise idle machine with ``cpus`` CPUs."""
        return self.cpu_seconds / cpus

    @property
    def clean_passed(self) -> bool:
        return self.clean is None or (
            self.clean.exitstatus == 0 and not self.clean.failures and not self.clean.error
        )

    @property
    def ok(self) -> bool:
        return self.killed == len(self.results) and self.clean_passed


def one_line(text: str, limit: int = 160) -> str:
    """The last non-empty line of ``text``, shortened: a traceback's verdict, not its body."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return last if len(last) <= limit else last[: limit - 3] + "..."
