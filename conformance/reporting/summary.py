"""The run's reporting hooks: progress, summary table, baseline, reproduction, certificate.

Loaded by ``conformance.plugin`` (``pytest_plugins``). It never decides a verdict's cause
(``conformance.plugin.verdict_hooks`` does); it reads the verdict on each report and:

* adds to every failing suite test the requirement's section and the lines that reproduce it
  (``conformance.reporting.reproduce``);
* turns a failure the ``--om-baseline`` lists into an *expected failure (baseline)* (pytest's
  xfail: not a pass, and it does not fail the run); at the end, a stale or expired entry fails
  the run (exit 1), and every new failure gets a ready-to-paste entry;
* prints a line per suite module as it completes (section, count, verdicts) and, at the end, a
  table of verdicts by catalogue section and what was not tested, grouped by reason;
* writes the certificate (``conformance.reporting.certificate``; its header describing the run:
  ``conformance.reporting.run_header``): by default only for a complete run of the whole suite
  (``reports/certificate``); an incomplete one (a selection, ``-x``, interrupted) writes one only
  into ``--om-certificate DIR``, marked INCOMPLETE, and never over a complete run's certificate;
  ``--om-sign-with KEY`` signs it.

Verdicts travel on reports as plain attributes (``openmedia_verdict``, ``openmedia_blamed``,
``openmedia_baseline``) so that all of this works under pytest-xdist: the
workers annotate, the controller counts, prints and writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.runtime import (
    NOT_APPLICABLE_FEATURE_ATTR,
    NOT_APPLICABLE_REASON_ATTR,
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    VERDICT_ATTR,
    SessionRuntime,
)
from conformance.reporting import baseline as baseline_mod
from conformance.reporting.certificate import TestResult, selection_reasons, stop_reasons
from conformance.reporting.reproduce import (
    SEED_INPUT,
    prepare_hypothesis,
    replayed_exchange,
    reproduction,
    requirement_lines,
    restore_hypothesis,
)
from conformance.reporting.run_header import certificate_header
from conformance.verdicts import ConformanceFailure, NotApplicableReason

BLAMED_ATTR = "openmedia_blamed"
BASELINE_ATTR = "openmedia_baseline"
COLUMNS = ("pass", "fail", "warning", "not applicable", "error", "baseline")
BLAMED_KEY = pytest.StashKey[str]()
REPORTING_KEY = pytest.StashKey["Reporting"]()


# -- module hooks: every pytest run with the plugin --------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is None:
        return
    seed = prepare_hypothesis(config, runtime.settings.hypothesis_seed)
    reporting = Reporting(config, runtime, seed)
    config.stash[REPORTING_KEY] = reporting
    config.pluginmanager.register(reporting, "openmedia-reporting")


def pytest_unconfigure(config: pytest.Config) -> None:
    restore_hypothesis(config)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Note the requirement a ``ConformanceFailure`` names (a warning swallows it further out)."""
    try:
        return (yield)
    except ConformanceFailure as exc:
        item.stash[BLAMED_KEY] = exc.requirement
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Annotate, explain, and apply the baseline.

    A plain wrapper registered after ``conformance.plugin.verdict_hooks``: outer to it, so the
    verdict is set when we look; the Allure/JUnit wrappers (``tryfirst``) are outer to this one, so
    they see *baseline* where the baseline turned a failure into an expected one.
    """
    report = yield
    reporting = item.config.stash.get(REPORTING_KEY, None)
    if reporting is not None and item.stash.get(SUITE_ITEM_KEY, False):
        reporting.annotate(item, report, call)
    return report


def _cited(item: pytest.Item) -> tuple[str, ...]:
    ids = [arg for mark in item.iter_markers("requirement") for arg in mark.args]
    return tuple(dict.fromkeys(str(i) for i in ids))


def _cited_in(report: Any) -> tuple[str, ...]:
    for key, value in getattr(report, "user_properties", ()):
        if key == "requirements":
            return tuple(str(value).split())
    return ()


def _section_of(requirements: tuple[str, ...]) -> str:
    from conformance.contract.catalogue import CATALOGUE

    for rid in requirements:
        item = CATALOGUE.get(rid)
        if item is not None:
            return item.section
    return ""


def _not_applicable_reason(report: Any) -> str:
    """The reason a *not applicable* report gives, after ``not applicable:``."""
    longrepr = report.longrepr
    text = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
    return text.split("not applicable:", 1)[-1].strip()


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _section_title(key: str) -> str:
    from conformance.contract.catalogue import CATALOGUE

    try:
        return CATALOGUE.section(key).title
    except KeyError:
        return "(collection errors)"


def section_table(results: list[TestResult], collection_errors: int = 0) -> list[str]:
    """Verdict counts by catalogue section (rows, in catalogue order) and verdict (columns)."""
    from conformance.contract.catalogue import CATALOGUE

    rows: dict[str, Counter[str]] = {}
    for result in results:
        rows.setdefault(_section_of(result.requirements), Counter())[result.verdict] += 1
    if collection_errors:
        rows.setdefault("", Counter())["error"] += collection_errors
    columns = [*COLUMNS, *(["skipped"] if any(c["skipped"] for c in rows.values()) else [])]
    order = [s.key for s in CATALOGUE.sections if s.key in rows] + [k for k in rows if k == ""]
    names = {key: _section_title(key) for key in order}
    width = max([len("section"), len("total"), *(len(n) for n in names.values())])

    def line(name: str, counts: Counter[str]) -> str:
        cells = "  ".join(f"{counts[c]:>{len(c)}}" for c in columns)
        return f"{name:<{width}}  {cells}  {sum(counts[c] for c in columns):>5}"

    total: Counter[str] = Counter()
    for counts in rows.values():
        total.update(counts)
    header = f"{'section':<{width}}  " + "  ".join(columns) + "  total"
    return [
        header,
        *(line(names[key], rows[key]) for key in order),
        "-" * len(header),
        line("total", total),
    ]


def not_tested_lines(counts: Mapping[tuple[NotApplicableReason, str], int]) -> list[str]:
    """What was not tested, one line per reason (most tests first), in the reason's wording,
    with what the tests needed: ``no control plane: 427 tests (agents 44, router 31, ...)``."""
    by_reason: dict[NotApplicableReason, Counter[str]] = {}
    for (reason, feature), count in counts.items():
        by_reason.setdefault(reason, Counter())[feature] += count
    lines = []
    for reason, features in sorted(by_reason.items(), key=lambda r: -sum(r[1].values())):
        total = sum(features.values())
        ranked = sorted(features.items(), key=lambda f: (-f[1], f[0]))
        needs = (
            f"needs {ranked[0][0]}"
            if len(ranked) == 1
            else ", ".join(f"{feature} {count}" for feature, count in ranked)
        )
        lines.append(f"{reason.value}: {total} test{'s' if total != 1 else ''} ({needs})")
    return lines


class Reporting:
    """The reporting state of one pytest process (registered as a plugin per run)."""

    def __init__(self, config: pytest.Config, runtime: SessionRuntime, seed: str | None) -> None:
        self.config = config
        self.runtime = runtime
        self.settings = runtime.settings
        self.seed = seed
        self.results: list[TestResult] = []
        self.collection_errors = 0
        self.outcome: baseline_mod.Outcome | None = None
        self.certificate: tuple[dict[str, Any], Path] | str | None = None
        """The certificate written and where, or why it could not be."""
        self.no_certificate: str | None = None
        """Why none was written (an incomplete run not asked for one)."""
        self.totals: dict[str, int] = {}
        self.done: Counter[str] = Counter()
        self.by_module: dict[str, Counter[str]] = {}
        self.not_tested: Counter[tuple[NotApplicableReason, str]] = Counter()

    # -- per report, in the process that ran the test ----------------------------------------
    def annotate(self, item: pytest.Item, report: pytest.TestReport, call: Any) -> None:
        verdict = getattr(report, VERDICT_ATTR, None)
        if verdict is None:
            return
        exc = call.excinfo.value if call.excinfo is not None else None
        blamed = exc.requirement if isinstance(exc, ConformanceFailure) else None
        if verdict in ("fail", "warning"):
            blamed = blamed or item.stash.get(BLAMED_KEY, None)
        if blamed:
            setattr(report, BLAMED_ATTR, blamed)
        if not report.failed:
            return
        cited = _cited(item)
        self._explain(item, report, exc, (blamed,) if blamed else cited)
        baseline = self.settings.baseline if verdict == "fail" else None
        entry = baseline.match(item.nodeid, blamed, cited) if baseline else None
        if entry is not None:
            report.outcome = "skipped"  # pytest's xfail: not a pass, and not a failure
            report.wasxfail = (  # type: ignore[attr-defined]
                f"expected failure (baseline): {entry.key}: {entry.reason} "
                f"(owner {entry.owner}, expires {entry.expires.isoformat()})"
            )
            setattr(report, VERDICT_ATTR, "baseline")
            setattr(report, BASELINE_ATTR, entry.key)

    def _explain(
        self, item: pytest.Item, report: Any, exc: BaseException | None, rids: tuple[str, ...]
    ) -> None:
        """The requirement's section (before the exchanges) and the reproduction lines."""
        lines = requirement_lines(rids)
        if lines:
            names = [name for name, _ in report.sections]
            at = next((i for i, n in enumerate(names) if n.startswith("openmedia")), len(names))
            text = self.runtime.redact("\n".join(lines))
            report.sections.insert(at, ("openmedia requirement", text))
        notes = [str(note) for note in getattr(exc, "__notes__", None) or ()]
        text = reproduction(
            self.settings,
            item.nodeid,
            item.path,
            seed=self.seed,
            notes=notes,
            exchange=replayed_exchange(exc, self.runtime.exchanges or []),
        )
        report.sections.append(("openmedia reproduce", self.runtime.redact(text)))

    # -- counting: in the controller under xdist ---------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        verdict = getattr(report, VERDICT_ATTR, None)
        if verdict is None:
            return
        self.results.append(
            TestResult(
                nodeid=report.nodeid,
                verdict=verdict,
                requirements=_cited_in(report),
                blamed=getattr(report, BLAMED_ATTR, None),
                baseline=getattr(report, BASELINE_ATTR, None),
                reason=_not_applicable_reason(report) if verdict == "not applicable" else None,
            )
        )
        self.by_module.setdefault(_module(report.nodeid), Counter())[verdict] += 1
        reason = getattr(report, NOT_APPLICABLE_REASON_ATTR, None)
        if verdict == "not applicable" and reason is not None:
            feature = str(getattr(report, NOT_APPLICABLE_FEATURE_ATTR, ""))
            self.not_tested[NotApplicableReason[reason], feature] += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and getattr(report, VERDICT_ATTR, None) == "error":
            self.collection_errors += 1

    # -- progress: one line per suite module as it completes ---------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        suite = [i for i in session.items if i.stash.get(SUITE_ITEM_KEY, False)]
        self.totals = dict(Counter(_module(i.nodeid) for i in suite))

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Hand the run's seed to an xdist worker (workers do not re-read changed options)."""
        if self.seed is not None:
            node.workerinput[SEED_INPUT] = self.seed

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.totals:
            self.totals = dict(Counter(_module(nodeid) for nodeid in ids))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        module = _module(nodeid)
        if module not in self.totals or module not in self.by_module:
            return
        self.done[module] += 1
        if self.done[module] == self.totals[module]:
            self._progress_line(module)

    def _progress_line(self, module: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self.config.get_verbosity() < -1:
            return
        counts = self.by_module[module]
        sections = Counter(
            _section_of(r.requirements) for r in self.results if _module(r.nodeid) == module
        )
        title = _section_title(sections.most_common(1)[0][0] if sections else "")
        shown = ", ".join(f"{counts[v]} {v}" for v in (*COLUMNS, "skipped") if counts[v])
        if self.config.pluginmanager.has_plugin("dsession"):
            reporter.write("\n")  # xdist writes its letters without ending the line
        reporter.write_line(
            f"openmedia [{title}] {Path(module).name}: {self.done[module]}/{self.totals[module]} "
            f"({shown}); suite {sum(self.done.values())}/{sum(self.totals.values())}"
        )

    # -- the end: baseline, exit status, certificate ------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """After the verdict hooks set 0/1/3: a stale or expired baseline entry makes it 1."""
        if not self.runtime.tally.suite_seen or hasattr(self.config, "workerinput"):
            return
        if self.settings.baseline is not None:
            self.outcome = self._evaluate_baseline()
            if self.outcome.fails_run and session.exitstatus in (0, 3):
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        incomplete = self._incomplete(session, exitstatus)
        directory = self.settings.certificate_dir
        if directory is None and not incomplete:
            directory = self.config.invocation_params.dir / "reports" / "certificate"
        if directory is None:
            self.no_certificate = (
                f"none written: an incomplete run ({'; '.join(incomplete)}) writes one only when "
                "asked (--om-certificate DIR); the last complete run's certificate is untouched"
            )
        else:
            self.certificate = self._write_certificate(
                Path(directory), int(session.exitstatus), incomplete
            )

    def _incomplete(self, session: pytest.Session, exitstatus: int) -> list[str]:
        """Why this run proves less than the whole suite run to its end (``[]``: it does not)."""
        option = self.config.option
        return [
            *selection_reasons(self.config),
            *stop_reasons(
                should_fail=session.shouldfail,
                should_stop=session.shouldstop,
                interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
                maxfail=int(getattr(option, "maxfail", 0) or 0),
                failures=self.runtime.tally.failures + self.runtime.tally.errors,
                ran=len({result.nodeid for result in self.results}),
                collected=sum(self.totals.values()),
            ),
        ]

    def _evaluate_baseline(self) -> baseline_mod.Outcome:
        from conformance.reporting.certificate import requirement_matrix

        assert self.settings.baseline is not None
        rows = requirement_matrix(self.results)
        return baseline_mod.evaluate(
            self.settings.baseline,
            matched_keys=[r.baseline for r in self.results if r.baseline],
            passed_tests=[r.nodeid for r in self.results if r.verdict in ("pass", "warning")],
            passed_requirements=[row["id"] for row in rows if row["pass"]],
            failed_requirements=[row["id"] for row in rows if row["fail"] or row["baseline"]],
            today=date.today(),
        )

    def _write_certificate(self, directory: Path, exit_status: int, incomplete: list[str]) -> Any:
        from conformance.reporting.certificate import (
            build_certificate,
            complete_certificate_in,
            sign,
            write_certificate,
        )

        if incomplete and complete_certificate_in(directory):
            return (
                f"not written to {directory}: it holds a complete run's certificate, which an "
                "incomplete run never replaces; give another --om-certificate DIR"
            )
        header = certificate_header(self.config, self.runtime, self.seed, self.results, exit_status)
        document = build_certificate(
            self.results,
            header=header,
            incomplete=incomplete,
            collection_errors=self.collection_errors,
            features_used=header["profile"]["control_features_used"],
            safe_mode=self.settings.profile.target.safe_mode,
        )
        if self.settings.signing_key is not None:
            document = sign(document, self.settings.signing_key)
        try:
            json_path, _ = write_certificate(document, directory)
        except OSError as exc:
            return f"not written to {directory}: {exc}"
        return document, json_path

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.runtime.tally.suite_seen or not (self.results or self.collection_errors):
            return
        terminalreporter.section("openmedia verdicts by section")
        for line in section_table(self.results, self.collection_errors):
            terminalreporter.line(line)
        if self.not_tested:
            total = sum(self.not_tested.values())
            terminalreporter.section(f"openmedia not tested: {total} not applicable, by reason")
            for line in not_tested_lines(self.not_tested):
                terminalreporter.line(line)
        for line, markup in baseline_mod.report_lines(self.results, self.outcome, date.today()):
            terminalreporter.line(line, **markup)
        self._certificate_lines(terminalreporter)

    def _certificate_lines(self, terminalreporter: Any) -> None:
        if self.no_certificate is not None:
            terminalreporter.line(f"openmedia certificate {self.no_certificate}")
        if isinstance(self.certificate, str):
            terminalreporter.line(f"openmedia certificate {self.certificate}", red=True)
        if not isinstance(self.certificate, tuple):
            return
        document, path = self.certificate
        good = document["verdict"] == "certified"
        terminalreporter.line(
            f"openmedia certificate: {document['headline']}", green=good, red=not good
        )
        signed = document.get("signature")
        terminalreporter.line(
            f"  {path} (and .html); content sha256 {document['sha256']}; "
            + (f"signed by key sha256 {signed['key_sha256']}" if signed else "not signed")
        )
        lines = [f"  - {reason}" for reason in document["reasons"]]
        lines += [
            f"  - not applicable: {entry['id']} ({entry['level']}): {entry['why']}"
            for entry in document["not_applicable"]
        ]
        for line in lines[:10]:
            terminalreporter.line(line)
        if len(lines) > 10:
            terminalreporter.line(f"  ... and {len(lines) - 10} more in the file")
