"""The soak's end: one result (``SoakResult``) shown as a summary table and written as JSON
with the same figures (``--json FILE``).

JSON keys (stable; the self-tests and the benchmark read them): ``target``, ``profile``,
``safe_mode``, ``clients``, ``seed``, ``bounds`` (``duration_s``, ``requests``), ``stopped``
(why it ended), ``interrupted``, ``elapsed_s``, ``requests``, ``per_s``, ``latency_ms``
(``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``), ``operations`` (per operation: ``requests``,
``per_s``, the latency figures, ``results`` counted by outcome), ``not_sent``, ``violations``
(each: ``invariant``, ``description``, ``requirement``, ``level``, ``count``, ``first``:
``detail``, ``operation``, ``at_s``, ``exchange``), ``violation_count``, ``failing``,
``leak_audit`` (safe mode: the audit, else ``null``), ``exit_status``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.safemode.audit import Audit
from conformance.soak.model import Violation
from conformance.soak.stats import Histogram, SoakStats


@dataclass(frozen=True)
class SoakResult:
    """Everything the summary and the JSON say."""

    target: str
    profile: str
    safe_mode: bool
    clients: int
    seed: int
    duration_s: float | None
    requests_bound: int | None
    stopped: str
    interrupted: bool
    elapsed_s: float
    overall: Histogram
    operations: dict[str, dict[str, Any]]
    not_sent: dict[str, str]
    violations: tuple[Violation, ...]
    strict: bool
    audit: Audit | None
    exit_status: int

    @classmethod
    def collect(cls, stats: SoakStats, elapsed_s: float, **facts: Any) -> SoakResult:
        return cls(
            overall=stats.overall(),
            operations=stats.per_operation(elapsed_s),
            elapsed_s=elapsed_s,
            **facts,
        )

    @property
    def per_s(self) -> float:
        return self.overall.count / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def failing(self) -> int:
        return sum(v.count for v in self.violations if self.strict or v.fails)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "profile": self.profile,
            "safe_mode": self.safe_mode,
            "clients": self.clients,
            "seed": self.seed,
            "bounds": {"duration_s": self.duration_s, "requests": self.requests_bound},
            "stopped": self.stopped,
            "interrupted": self.interrupted,
            "elapsed_s": round(self.elapsed_s, 3),
            "requests": self.overall.count,
            "per_s": round(self.per_s, 1),
            "latency_ms": self.overall.figures_ms(),
            "operations": self.operations,
            "not_sent": self.not_sent,
            "violations": [v.as_dict() for v in self.violations],
            "violation_count": sum(v.count for v in self.violations),
            "failing": self.failing,
            "strict": self.strict,
            "leak_audit": None if self.audit is None else self.audit.as_dict(),
            "exit_status": self.exit_status,
        }

    def write_json(self, path: Path) -> str:
        """Write the JSON; say where (or why not)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            return f"openmedia soak: could not write {path}: {exc.strerror or exc}"
        return f"openmedia soak: figures written to {path}"

    def summary(self) -> list[str]:
        """The table at the end: per operation, then the violations with their first example."""
        figures = self.overall.figures_ms()
        how = "interrupted" if self.interrupted else f"finished ({self.stopped})"
        head = (
            f"openmedia soak {how}: {self.overall.count:,} requests in {self.elapsed_s:.1f} s, "
            f"{self.per_s:,.0f}/s, {self.clients} clients, seed {self.seed}; latency p50 "
            f"{figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, p99 "
            f"{figures['p99_ms']:.2f} ms, max {figures['max_ms']:.2f} ms"
        )
        width = max(len(name) for name in self.operations)
        lines = [
            head,
            f"  {'operation':<{width}}  {'requests':>9}  {'per s':>7}  {'p50 ms':>7}  "
            f"{'p95 ms':>7}  {'p99 ms':>7}  results",
        ]
        for name, op in self.operations.items():
            results = ", ".join(f"{k} {v:,}" for k, v in op["results"].items()) or "-"
            if name in self.not_sent:
                results = f"not sent: {self.not_sent[name]}"
            lines.append(
                f"  {name:<{width}}  {op['requests']:>9,}  {op['per_s']:>7,.1f}  "
                f"{op['p50_ms']:>7.2f}  {op['p95_ms']:>7.2f}  {op['p99_ms']:>7.2f}  {results}"
            )
        total = sum(v.count for v in self.violations)
        if not self.violations:
            lines.append("violations: none")
        else:
            lines.append(f"violations: {total} ({self.failing} failing)")
            for v in self.violations:
                verdict = "FAIL" if self.strict or v.fails else "warning"
                lines.append(
                    f"  {verdict} [{v.requirement or 'no answer'}] {v.invariant.value}: "
                    f"{v.count} time(s); first at {v.at_s:.1f} s in {v.operation}: {v.detail}"
                )
                if v.example is not None:
                    lines.append(f"    reproduce: {v.example['curl']}")
        if self.audit is not None:
            lines.append(self.audit.line())
        return lines
