"""The mutation matrix's report: killed / planted per requirement and overall, as JSON,
Markdown and a console table (``reports/mutation/``).

Pure functions of a ``MatrixReport`` (``conformance.mutation``): reporting reads results and
runs nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from conformance.contract.catalogue import CATALOGUE
from conformance.mutation.results import (
    REPORT_DIR,
    DefectResult,
    MatrixReport,
    one_line,
    passed,
)
from conformance.mutation.runs import SuiteRun, counts_line


def per_requirement(report: MatrixReport) -> list[dict[str, Any]]:
    """One row per catalogue requirement that has a planted defect: killed / planted."""
    rows: dict[str, dict[str, Any]] = {}
    for result in report.results:
        row = rows.setdefault(
            result.requirement,
            {
                "requirement": result.requirement,
                "level": CATALOGUE.requirement(result.requirement).level,
                "planted": 0,
                "killed": 0,
                "survivors": [],
            },
        )
        row["planted"] += 1
        if result.killed:
            row["killed"] += 1
        else:
            row["survivors"].append(result.name)
    order = {r.id: i for i, r in enumerate(CATALOGUE.requirements)}
    return sorted(rows.values(), key=lambda row: order[row["requirement"]])


_PER_TEST = ("tests", "not_applicable", "durations", "fixtures")
"""A run's per-test tables: what the matrix decides with, too long for the report."""


def _run_json(run: SuiteRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    data = asdict(run)
    for key in _PER_TEST:
        data.pop(key)
    data["tests_applicable"] = len(run.applicable())
    return data


def observable_json(report: MatrixReport) -> dict[str, Any] | None:
    """The observable run: killed / observable, and every defect's verdict there."""
    if report.observable is None:
        return None
    planted = report.observable_planted
    return {
        "summary": {
            "defects": len(report.observable),
            "observable": len(planted),
            "killed": report.observable_killed,
            "not_observable": [r.name for r in report.observable if not r.observable],
            "survived": [r.name for r in planted if not r.killed],
            "score": _percent(report.observable_killed, len(planted)),
            "clean_passed": report.observable_clean_passed,
            "ok": report.observable_ok,
        },
        "clean": _run_json(report.observable_clean),
        "defects": [asdict(r) | {"killed": r.killed} for r in report.observable],
    }


def to_json(report: MatrixReport) -> dict[str, Any]:
    clean = _run_json(report.clean)
    return {
        "summary": {
            "planted": len(report.results),
            "killed": report.killed,
            "killed_exactly": sum(1 for r in report.results if r.killed and r.exact),
            "survived": [r.name for r in report.results if not r.killed],
            "score": _percent(report.killed, len(report.results)),
            "clean_passed": report.clean_passed,
            "seconds": round(report.seconds, 1),
            "cpu_seconds": round(report.cpu_seconds, 1),
            "estimated_seconds_on_2_idle_cpus": round(report.estimated_seconds(2), 1),
            "jobs": report.jobs,
            "ok": report.ok,
        },
        "clean": clean,
        "requirements": per_requirement(report),
        "defects": [asdict(r) | {"killed": r.killed} for r in report.results],
        "gaps": list(report.gaps),
        "uncited": list(report.uncited),
        "observable": observable_json(report),
    }


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def _clean_line(report: MatrixReport, *, observable: bool = False) -> str:
    clean = report.observable_clean if observable else report.clean
    label = "observable clean run" if observable else "clean run"
    if clean is None:
        return f"{label}: skipped"
    verdict = "passed" if passed(clean) else "FAILED"
    failed = [f["nodeid"] for f in clean.failures]
    extra = f"; failures: {', '.join(failed[:5])}" if failed else ""
    extra += f"; {clean.error}" if clean.error else ""
    return f"{label}: {verdict} ({counts_line(clean.counts)}, {clean.seconds:.1f}s){extra}"


def _observable_line(report: MatrixReport) -> str:
    planted = report.observable_planted
    assert report.observable is not None
    return (
        f"observable profile: killed/observable {report.observable_killed}/{len(planted)} "
        f"({_percent(report.observable_killed, len(planted))}); "
        f"{len(report.observable) - len(planted)} not observable (need a control feature)"
    )


def to_markdown(report: MatrixReport) -> str:
    lines = [
        "# Mutation matrix",
        "",
        f"Killed / planted: **{report.killed} / {len(report.results)}** "
        f"({_percent(report.killed, len(report.results))}); {_clean_line(report)}.",
        f"Wall time {report.seconds:.1f}s with {report.jobs} parallel runs; CPU time "
        f"{report.cpu_seconds:.0f}s (about {report.estimated_seconds(2):.0f}s on 2 idle CPUs).",
        "",
        "| requirement | level | killed / planted | survivors |",
        "|---|---|---|---|",
    ]
    for row in per_requirement(report):
        names = ", ".join(row["survivors"])
        lines.append(
            f"| {row['requirement']} | {row['level']} | {row['killed']} / {row['planted']} "
            f"| {names} |"
        )
    survivors = [r for r in report.results if not r.killed]
    lines += ["", "## Survivors (a requirement without an effective check)", ""]
    lines += [
        f"- `{r.name}` ({r.outcome}, {r.scope}): **{r.requirement}** has no check that catches "
        f"it: {r.summary}. {one_line(r.detail, 400)}"
        for r in survivors
    ] or ["None."]
    retried = [r for r in report.results if r.killed and r.detail]
    lines += ["", "## Killed on a second run (the first could not test)", ""]
    lines += [f"- `{r.name}` ({r.requirement}): {one_line(r.detail, 400)}" for r in retried] or [
        "None."
    ]
    lines += ["", "## Requirements without a planted defect (coverage gaps)", ""]
    lines += [
        f"- {rid} ({CATALOGUE.requirement(rid).level}): {CATALOGUE.requirement(rid).text}"
        for rid in report.gaps
    ] or ["None."]
    lines += ["", "## Every defect", "", "| defect | requirement | outcome | scope | killed by |"]
    lines += ["|---|---|---|---|---|"]
    lines += [
        f"| {r.name} | {r.requirement} | {r.outcome} | {r.scope} | {_killed_by(r)} |"
        for r in report.results
    ]
    if report.observable is not None:
        lines += ["", "## The observable profile (emulator without control plane)", ""]
        lines += [f"{_observable_line(report)}; {_clean_line(report, observable=True)}.", ""]
        lines += ["| defect | requirement | outcome | scope | killed by, or why not |"]
        lines += ["|---|---|---|---|---|"]
        lines += [
            f"| {r.name} | {r.requirement} | {r.outcome} | {r.scope} | {_killed_by(r)} |"
            for r in report.observable
        ]
    return "\n".join(lines) + "\n"


def _killed_by(result: DefectResult) -> str:
    if not result.killed:
        return one_line(result.detail).replace("|", "/")
    how = "" if result.exact else " (by its marker; the failure cites another requirement)"
    return f"{result.killer}{how}"


def to_table(report: MatrixReport) -> str:
    """The console summary: per requirement, then survivors, gaps and the overall line."""
    width = max((len(r.requirement) for r in report.results), default=10)
    lines = [f"{'requirement':<{width}}  level   killed/planted"]
    for row in per_requirement(report):
        mark = "" if row["killed"] == row["planted"] else "   <- " + ", ".join(row["survivors"])
        score = f"{row['killed']:>3}/{row['planted']:<3}"
        lines.append(f"{row['requirement']:<{width}}  {row['level']:<6}  {score}{mark}")
    for r in report.results:
        if not r.killed:
            lines.append(
                f"{r.outcome.upper()} {r.name}: no effective check for {r.requirement} "
                f"({one_line(r.detail)})"
            )
    for r in report.results:
        if r.killed and r.detail:
            lines.append(f"killed on a second run {r.name}: {one_line(r.detail)}")
    if report.gaps:
        lines.append(f"coverage gaps (no planted defect): {', '.join(report.gaps)}")
    lines.append(_clean_line(report))
    if report.observable is not None:
        for r in report.observable:
            if not r.killed:
                what = "needs a control feature" if not r.observable else "no effective check"
                lines.append(
                    f"observable {r.outcome.upper()} {r.name}: {what} ({one_line(r.detail)})"
                )
        lines.append(_clean_line(report, observable=True))
        lines.append(_observable_line(report))
    lines.append(
        f"killed/planted: {report.killed}/{len(report.results)} "
        f"({_percent(report.killed, len(report.results))}) in {report.seconds:.1f}s, "
        f"{report.jobs} jobs; CPU {report.cpu_seconds:.0f}s "
        f"(~{report.estimated_seconds(2):.0f}s on 2 idle CPUs)"
    )
    return "\n".join(lines)


def write_reports(report: MatrixReport, directory: Path = REPORT_DIR) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "mutation.json", directory / "mutation.md"
    json_path.write_text(json.dumps(to_json(report), indent=1) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(report), encoding="utf-8")
    return json_path, md_path
