"""The mutation matrix: run the suite once per planted defect and prove every check can fail.

For each defect of ``conformance.emulator.faults`` the suite runs in a subprocess
(``conformance.mutation.runs``) against an embedded emulator with that one fault
(``--om-emulator-fault NAME``). The defect is
*killed* when at least one failing test cites the requirement it is planted against, by its
``requirement`` marker or by the requirement of the ``ConformanceFailure`` it raised. A clean run
(no fault) must pass with zero failures, or a kill would prove nothing.

Cost control (the matrix must fit in CI):

* one collection pass learns which modules cite which requirement, so a defect's run collects
  only those modules and selects only the tests citing its requirement
  (``conformance.mutation.select``: ``--om-only-requirement``);
* a run stops at the first failure citing the requirement (``--om-stop-on-requirement``);
* a requirement no test cites by marker (the ``WIRE-*`` rules, checked on every exchange by
  ``check_exchange``) is run *wide*: the whole suite, stopping at the first failure citing it;
  a ``WIRE-*`` defect that survives its selected run gets a wide run too;
* runs go in parallel (threads waiting on subprocesses), ``--jobs`` at a time (default: CPUs).

Trust in the verdict: Hypothesis is derandomized in these runs, so the same code gets the same
verdict every time; a run that ends with errors only (it could not test: a loaded machine, an
emulator that did not start) is repeated once, and the report says so.

SHOULD and OPEN requirements only warn unless ``--om-strict``; their defects run with
``--om-strict`` so that a check that notices the defect fails the run.

The observable run (``--observable``, issue 13): a server without a control plane gets only
the tests that need none, so the matrix also runs each defect against the emulator on its own,
started without its control plane, on the observable profile (``conformance.mutation.observable``:
safe mode off, authentication on, agentless groups, DataExpiration 1 minute, ``--om-real-time``),
and expects it killed there too. Which defects that profile can see is read from results, not
listed: a clean run there says which tests apply, the full run which test killed the defect. A
defect none of whose tests applies is not run; one whose full-run killer does not apply and
that the tests which do apply miss is listed too: *not observable* (it needs a control feature),
neither killed nor survived. The rest must be killed. It is not the default: it adds a second
run per observable defect and a clean run that waits for DataExpiration.

Output (``conformance.mutation.report``): ``reports/mutation/mutation.json`` and
``mutation.md`` (killed / planted per requirement and overall, survivors with the requirement
that has no effective check, and the catalogue requirements without any planted defect), and a
table on stdout. Exit status 0 when every defect is killed and the clean run passes, 1
otherwise, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from conformance.contract.catalogue import CATALOGUE
from conformance.emulator.faults import DEFECTS, PlantedDefect
from conformance.mutation import observable
from conformance.mutation.report import to_table, write_reports
from conformance.mutation.results import (
    NOT_OBSERVABLE,
    REPORT_DIR,
    DefectResult,
    MatrixReport,
    one_line,
    passed,
)
from conformance.mutation.runs import (
    PROJECT_ROOT,
    RUN_TIMEOUT_S,
    SUITE_PACKAGE,
    SuiteRun,
    collect_citations,
    counts_line,
    run_clean,
    run_suite,
)
from conformance.plugin.options import (
    ONLY_REQUIREMENT,
    STOP_ON_REQUIREMENT,
    STRICT,
)
from conformance.verdicts import Verdict

WIDE_PREFIX = "WIRE-"
"""Requirements whose checks run on every exchange (``check_exchange``), whatever the test."""


def _kills(run: SuiteRun, requirement: str) -> dict[str, Any] | None:
    """The first *fail* that cites ``requirement`` (its ConformanceFailure, else its marker).

    An error (a ``SuiteError``, a precondition the target did not meet) is no verdict on the
    target, so it kills nothing even when the test cites the requirement.
    """
    fails = [f for f in run.failures if f.get("verdict") == Verdict.FAIL]
    for failure in fails:
        if failure.get("failure_requirement") == requirement:
            return failure
    for failure in fails:
        if requirement in failure.get("requirements", ()):
            return failure
    return None


@functools.cache
def strict_baseline(
    rid: str,
    targets: tuple[str, ...],
    select: tuple[str, ...],
    on: observable.Files | None = None,
) -> str:
    """For a SHOULD/OPEN requirement (run with ``--om-strict``): what the clean emulator (``on``
    the observable profile) already fails of it under ``--om-strict`` ("" when nothing); a kill
    would prove nothing then."""
    options = [*select, STOP_ON_REQUIREMENT.flag, rid, STRICT.flag]
    run = run_suite(list(targets), options, RUN_TIMEOUT_S, on=on)
    failure = _kills(run, rid)
    return "" if failure is None else f"{failure['nodeid']}: {one_line(failure['message'], 240)}"


def _strict(requirement: str) -> list[str]:
    level = CATALOGUE.requirement(requirement).level
    return [] if level == "MUST" else [STRICT.flag]


def named_in_sources() -> frozenset[str]:
    """Requirement IDs written anywhere in the suite or the checks (a check may cite one that no
    marker does); a requirement named nowhere cannot fail, so its defect is not run wide."""
    text = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("suite", "suite_support", "checks")
        for path in (PROJECT_ROOT / "conformance" / folder).rglob("*.py")
    )
    return frozenset(r.id for r in CATALOGUE.requirements if f'"{r.id}"' in text)


def run_defect(
    defect: PlantedDefect,
    citations: dict[str, tuple[str, ...]],
    named: frozenset[str] | None = None,
    on: observable.Files | None = None,
) -> DefectResult:
    """Run the suite against the emulator with ``defect`` planted (``on`` the observable
    profile: the emulator on its own, without control plane); say whether it was killed."""
    rid = defect.requirement
    common = [STOP_ON_REQUIREMENT.flag, rid, *_strict(rid)]
    modules = citations.get(rid, ())
    attempts: list[tuple[str, list[str], list[str]]] = []
    if modules:
        attempts.append(("selected", list(modules), [ONLY_REQUIREMENT.flag, rid]))
    reachable = named is None or rid in named
    if (not modules or rid.startswith(WIDE_PREFIX)) and reachable:
        attempts.append(("wide", ["--pyargs", SUITE_PACKAGE], []))
    if not attempts:
        return DefectResult(
            defect.name, rid, defect.summary, "survived", "none",
            detail=f"no suite test cites {rid} (no marker) and no check names it",
        )  # fmt: skip
    if _strict(rid):
        scope, targets, select = attempts[0]
        baseline = strict_baseline(rid, tuple(targets), tuple(select), on)
        if baseline:
            return DefectResult(
                defect.name, rid, defect.summary, "survived", scope,
                detail=f"under --om-strict the clean emulator already fails {rid}: {baseline}",
            )  # fmt: skip
    seconds = cpu = 0.0
    result: DefectResult | None = None
    for scope, targets, select in attempts:
        retried = ""
        while True:
            run = run_suite(
                targets, [*select, *common], RUN_TIMEOUT_S, faults=(defect.name,), on=on
            )
            seconds += run.seconds
            cpu += run.cpu_seconds
            killer = _kills(run, rid)
            if killer is not None or retried or not _could_not_test(run):
                break
            # An error is no verdict on the target (a loaded machine, a start that failed):
            # the run is repeated once, and the result says so.
            retried = f"retried after: {_why_not_killed(run)}; "
        if killer is not None:
            return DefectResult(
                defect.name,
                rid,
                defect.summary,
                "killed",
                scope,
                killer["nodeid"],
                killer.get("failure_requirement") == rid,
                str(killer.get("message", "")),
                seconds,
                len(run.failures),
                detail=retried.removesuffix("; "),
                cpu_seconds=cpu,
            )
        outcome = "error" if run.error or run.exitstatus not in (0, 1) else "survived"
        if run.error == "" and run.exitstatus == 2 and not run.failures:
            outcome = "error"
        detail = retried + (run.error or _why_not_killed(run))
        result = DefectResult(
            defect.name, rid, defect.summary, outcome, scope, seconds=seconds,
            failures=len(run.failures), detail=detail, cpu_seconds=cpu,
        )  # fmt: skip
    assert result is not None
    return result


def _could_not_test(run: SuiteRun) -> bool:
    """The run ended without any *fail*: it timed out, crashed, or every failure was an error."""
    if run.error or run.exitstatus not in (0, 1, 2):
        return True
    return bool(run.failures) and all(f.get("verdict") != Verdict.FAIL for f in run.failures)


def gist(text: str, limit: int = 400) -> str:
    """An error message on one line: its first line (what went wrong) and, when it has more,
    its last (often the cause), shortened."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    joined = lines[0] if len(lines) == 1 else f"{lines[0]} … {lines[-1]}"
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


def _why_not_killed(run: SuiteRun) -> str:
    if not run.failures:
        return f"every selected test passed ({counts_line(run.counts)})"
    errors = [f for f in run.failures if f.get("verdict") != Verdict.FAIL]
    if errors:
        first = errors[0]
        return (
            f"{len(errors)} error(s), no fail: the suite could not test; first: "
            f"{first['nodeid']}: {gist(str(first.get('message', '')))}"
        )
    others = sorted({str(f.get("failure_requirement")) for f in run.failures} - {"None"})
    return f"{len(run.failures)} failure(s) citing other requirements: {', '.join(others)}"


def observable_verdict(
    defect: PlantedDefect,
    full: DefectResult,
    clean: SuiteRun,
    citations: dict[str, tuple[str, ...]],
    named: frozenset[str] | None,
    on: observable.Files,
) -> DefectResult:
    """The defect on the observable profile, given its full run and the observable clean run.

    Not run, and ``NOT_OBSERVABLE``, when no test citing its requirement applied in the clean
    run (for a ``WIRE-*`` defect, checked on every exchange: when none applied at all). Else it
    is run there and must be killed; when it is not, and the test that killed it in the full run
    was not applicable there, only a control feature shows it: ``NOT_OBSERVABLE`` too, naming
    that test and its reason; so, too, when the defect table says only a control feature shows
    it (``seen_through``). Otherwise a survivor is one: a test that applies there missed it.
    """
    rid = defect.requirement
    name, summary = defect.name, defect.summary
    if not passed(clean) and not clean.tests:
        return DefectResult(name, rid, summary, "error", "none", detail=_clean_failed(clean))
    wide = rid.startswith(WIDE_PREFIX) or rid not in citations
    applicable = clean.applicable(None if wide else rid)
    if not applicable:
        citing = [t for t, cited in clean.tests.items() if rid in cited]
        reasons = sorted({clean.not_applicable.get(t, "") for t in citing} - {""})
        return DefectResult(
            name, rid, summary, NOT_OBSERVABLE, "none",
            detail=f"none of the {len(citing)} tests citing {rid} applies there: "
            + "; ".join(reasons[:3]),
        )  # fmt: skip
    result = run_defect(defect, citations, named, on)
    if result.killed or result.outcome == "error":
        return result
    if full.killed and full.killer in clean.not_applicable:
        why = clean.not_applicable[full.killer]
        detail = (
            f"killed in the full run by {full.killer}, not applicable there ({why}); the "
            f"{len(applicable)} tests citing {rid} that apply do not see it"
        )
        return dataclasses.replace(result, outcome=NOT_OBSERVABLE, detail=detail)
    if defect.seen_through is not None:
        detail = (
            f"only the control feature '{defect.seen_through}' shows it (the emulator's defect "
            f"table says so); the {len(applicable)} tests citing {rid} that apply do not see it"
        )
        return dataclasses.replace(result, outcome=NOT_OBSERVABLE, detail=detail)
    return result


def _clean_failed(clean: SuiteRun) -> str:
    return f"the observable clean run did not complete: {clean.error or counts_line(clean.counts)}"


WAITING_FIXTURE = "real_time_cache"
"""The fixture of the data cache's real-time tier (``--om-real-time``): a run of a test using it
waits for DataExpiration to pass (about 1.5 minutes on the observable profile)."""
WAITING_S = 20.0
"""Or a defect whose tests took this long in the observable clean run."""
WAITING_JOBS = 6
"""Runs that mostly wait go in a lane of their own, this many at a time, beside the ``--jobs``
lane: they would otherwise hold a CPU's slot while sleeping."""


def _waits(defect: PlantedDefect, clean: SuiteRun) -> bool:
    tests = clean.applicable(defect.requirement)
    if any(WAITING_FIXTURE in clean.fixtures.get(t, ()) for t in tests):
        return True
    return sum(clean.durations.get(t, 0.0) for t in tests) >= WAITING_S


def run_matrix(
    names: Iterable[str] | None = None,
    *,
    jobs: int | None = None,
    clean: bool = True,
    progress: Callable[[str], None] | None = None,
    observable_run: observable.Observable | None = None,
) -> MatrixReport:
    """Run the matrix (all defects, or ``names``) and the clean run, ``jobs`` at a time; with
    ``observable_run`` (the observable profile: ``observable.ALL_ON``) also each defect there,
    after its full run and the observable clean run, which decide whether that profile can see
    it."""
    chosen = _choose(names)
    workers = max(1, jobs or os.cpu_count() or 1)
    started = time.monotonic()
    citations, collect_cpu = collect_citations()
    named = named_in_sources()
    wide_first = sorted(chosen, key=lambda d: bool(citations.get(d.requirement)))
    results: list[DefectResult] = []
    seen: list[DefectResult] = []
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=workers))
        on: observable.Files | None = None
        waiting = pool
        if observable_run is not None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="openmedia-obs-"))
            on = observable.write(Path(folder), observable_run)
            waiting = stack.enter_context(ThreadPoolExecutor(max_workers=WAITING_JOBS))
        clean_future = pool.submit(run_clean) if clean else None
        # the observable clean run waits for DataExpiration most of its time
        observable_clean = waiting.submit(run_clean, on) if on is not None else None
        full: dict[Future[DefectResult], PlantedDefect] = {
            pool.submit(run_defect, d, citations, named): d for d in wide_first
        }
        pending: set[Future[Any]] = set(full)
        if observable_clean is not None:
            pending.add(observable_clean)
        killed_by: dict[str, DefectResult] = {}
        later: list[PlantedDefect] = []
        second: set[Future[DefectResult]] = set()

        def observe(defect: PlantedDefect) -> Future[DefectResult]:
            assert observable_clean is not None and on is not None
            baseline = observable_clean.result()
            lane = waiting if _waits(defect, baseline) else pool
            args = (defect, killed_by[defect.name], baseline, citations, named, on)
            return lane.submit(observable_verdict, *args)

        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            ready: list[PlantedDefect] = []
            for future in done:
                if future is observable_clean:
                    ready += later
                    continue
                result = future.result()
                (results if future in full else seen).append(result)
                if progress is not None:
                    where = "observable " if future in second else ""
                    progress(f"{where}{result.outcome:8} {result.name} ({result.requirement}, "
                             f"{result.scope}, {result.seconds:.1f}s)")  # fmt: skip
                if future in full and observable_clean is not None:
                    killed_by[result.name] = result
                    (ready if observable_clean.done() else later).append(full[future])
            for defect in ready:
                future = observe(defect)
                second.add(future)
                pending.add(future)
        clean_run = clean_future.result() if clean_future is not None else None
        obs_clean = observable_clean.result() if observable_clean is not None else None
    order = {d.name: i for i, d in enumerate(DEFECTS)}
    planted = {d.requirement for d in DEFECTS}
    return MatrixReport(
        results=tuple(sorted(results, key=lambda r: order[r.name])),
        clean=clean_run,
        seconds=time.monotonic() - started,
        jobs=workers,
        gaps=tuple(r.id for r in CATALOGUE.requirements if r.id not in planted),
        uncited=tuple(sorted({d.requirement for d in chosen} - set(citations))),
        collect_cpu_seconds=collect_cpu,
        observable=None if on is None else tuple(sorted(seen, key=lambda r: order[r.name])),
        observable_clean=obs_clean,
    )


def _choose(names: Iterable[str] | None) -> list[PlantedDefect]:
    if names is None:
        return list(DEFECTS)
    by_name = {d.name: d for d in DEFECTS}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise KeyError(f"unknown defect(s): {', '.join(unknown)}")
    return [by_name[n] for n in dict.fromkeys(names)]


# -- command line ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="parallel runs (default: CPUs)"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these defects (fault names)"
    )
    parser.add_argument(
        "--no-clean",
        action="store_true",
        help="skip the clean run (with --observable, the observable profile's clean run still "
        "runs: it says which tests apply there)",
    )
    parser.add_argument(
        "--output", type=Path, default=REPORT_DIR, help=f"report folder (default {REPORT_DIR})"
    )
    parser.add_argument("--quiet", action="store_true", help="no line per finished defect")
    parser.add_argument(
        "--observable",
        action="store_true",
        help="also run each defect against the emulator without its control plane on the "
        "observable profile (safe mode off, authentication on, agentless groups, DataExpiration 1 "
        "minute, --om-real-time): it must be killed there too, unless only a test needing a "
        "control feature sees it",
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        report = run_matrix(
            args.only,
            jobs=args.jobs,
            clean=not args.no_clean,
            progress=None if args.quiet else lambda line: print(line, flush=True),
            observable_run=observable.ALL_ON if args.observable else None,
        )
    except KeyError as exc:
        parser.error(str(exc.args[0]))
    json_path, md_path = write_reports(report, args.output)
    print(to_table(report))
    print(f"reports: {json_path} {md_path}")
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``openmedia-conformance mutation`` (called by ``conformance.cli``)."""
    parser = subparsers.add_parser(
        "mutation",
        help="run the suite once per planted defect and report killed / planted",
        description="The mutation matrix: every planted defect of the reference emulator must "
        "be caught by a failing test citing its requirement; the clean emulator must pass.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run, subparser=parser)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.mutation")
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
