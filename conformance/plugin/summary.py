"""The run's reporting hooks: progress, summary table, baseline, reproduction, certificate.

They hand the run's records (``TestResult``) and settings to the pure functions of
``conformance.reporting``, which decide nothing about the run either.

Loaded by ``conformance.plugin`` (``pytest_plugins``). It never decides a verdict's cause
(``conformance.plugin.verdict_hooks`` does); it reads the verdict on each report and:

* adds to every failing suite test the requirement's section and the lines that reproduce it
  (``conformance.reporting.reproduce``), and fixes the run's Hypothesis seed so they can;
* turns a failure the ``--om-baseline`` lists into an *expected failure (baseline)* (pytest's
  xfail: not a pass, and it does not fail the run); at the end, a stale or expired entry fails
  the run (exit 1: ``conformance.plugin.exit_status``, fed by ``verdict_hooks``), and every new
  failure gets a ready-to-paste entry;
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

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.exit_status import translate_exit_code
from conformance.plugin.fingerprint import fingerprints
from conformance.plugin.options import CERTIFICATE, PASSWORD
from conformance.plugin.runtime import (
    NOT_APPLICABLE_FEATURE_ATTR,
    NOT_APPLICABLE_REASON_ATTR,
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    SessionRuntime,
    set_verdict,
    verdict_of,
)
from conformance.profile.session import SAFE_MODE_WITHHELD
from conformance.reporting import baseline as baseline_mod
from conformance.reporting.certificate import TestResult, selection_reasons, stop_reasons
from conformance.reporting.reproduce import (
    command_line,
    needs_password_env,
    replayed_exchange,
    reproduction,
    requirement_lines,
)
from conformance.reporting.run_header import RunRecord, certificate_header
from conformance.reporting.summary import (
    COLUMNS,
    OCCASIONAL,
    module_of,
    not_tested_lines,
    section_of,
    section_table,
    section_title,
)
from conformance.verdicts import ConformanceFailure, NotApplicableReason, Verdict

BLAMED_ATTR = "openmedia_blamed"
BASELINE_ATTR = "openmedia_baseline"
BLAMED_KEY = pytest.StashKey[str]()
REPORTING_KEY = pytest.StashKey["Reporting"]()
_RESTORE_KEY = pytest.StashKey[tuple]()
SEED_INPUT = "openmedia_hypothesis_seed"
"""Where an xdist worker finds the controller's seed (``workerinput``)."""


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


def _not_applicable_reason(report: Any) -> str:
    """The reason a *not applicable* report gives, after ``not applicable:``."""
    longrepr = report.longrepr
    text = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
    return text.split("not applicable:", 1)[-1].strip()


# -- a reproducible run: the Hypothesis seed --------------------------------------------------
def restore_hypothesis(config: pytest.Config) -> None:
    """Undo :func:`prepare_hypothesis` (an in-process pytest run must leave no trace)."""
    restore = config.stash.get(_RESTORE_KEY, None)
    if restore is not None:
        from hypothesis import core, settings

        core.global_force_seed, profile = restore
        settings.load_profile(profile)


def prepare_hypothesis(config: pytest.Config, given: str | None) -> str | None:
    """Make every run reproducible: a recorded seed, and ``@reproduce_failure`` blobs printed.

    Without ``--hypothesis-seed`` the run picks one and forces it (as that option does), so the
    certificate and every failure can name it (Hypothesis then also leaves its example database
    alone, so a replay does not depend on an earlier run's leftovers).
    """
    if not config.pluginmanager.hasplugin("hypothesispytest"):
        return given
    from hypothesis import core, settings

    config.stash[_RESTORE_KEY] = (core.global_force_seed, settings.get_current_profile_name())
    worker = getattr(config, "workerinput", None)
    seed = given if given is not None else (worker or {}).get(SEED_INPUT)
    if seed is None and worker is None:
        seed = str(random.SystemRandom().randrange(2**32))
        config.option.hypothesis_seed = seed  # for whoever reads the option later
    if seed is not None:
        forced: Any = int(seed) if seed.isdigit() else seed
        core.global_force_seed = forced
    current = settings.default
    if current is not None and not current.print_blob:
        name = f"{settings.get_current_profile_name()}+openmedia"
        settings.register_profile(name, current, print_blob=True)
        settings.load_profile(name)
    return seed


class Reporting:
    """The reporting state of one pytest process (registered as a plugin per run)."""

    def __init__(self, config: pytest.Config, runtime: SessionRuntime, seed: str | None) -> None:
        self.config = config
        self.runtime = runtime
        self.settings = runtime.settings
        self.seed = seed
        self.results: list[TestResult] = runtime.results
        self.collection_errors = 0
        self.outcome: baseline_mod.Outcome | None = None
        self.certificate: tuple[dict[str, Any], Path] | str | None = None
        """The certificate written and where, or why it could not be."""
        self.no_certificate: str | None = None
        """Why none was written (an incomplete run not asked for one)."""
        self.totals: dict[str, int] = {}
        self.done: Counter[str] = Counter()
        self.by_module: dict[str, Counter[Verdict]] = {}
        self.not_tested: Counter[tuple[NotApplicableReason, str]] = Counter()

    # -- per report, in the process that ran the test ----------------------------------------
    def annotate(self, item: pytest.Item, report: pytest.TestReport, call: Any) -> None:
        verdict = verdict_of(report)
        if verdict is None:
            return
        exc = call.excinfo.value if call.excinfo is not None else None
        blamed = exc.requirement if isinstance(exc, ConformanceFailure) else None
        if verdict in (Verdict.FAIL, Verdict.WARNING):
            blamed = blamed or item.stash.get(BLAMED_KEY, None)
        if blamed:
            setattr(report, BLAMED_ATTR, blamed)
        if not report.failed:
            return
        cited = _cited(item)
        self._explain(item, report, exc, (blamed,) if blamed else cited)
        baseline = self.settings.baseline if verdict is Verdict.FAIL else None
        entry = baseline.match(item.nodeid, blamed, cited) if baseline else None
        if entry is not None:
            report.outcome = "skipped"  # pytest's xfail: not a pass, and not a failure
            report.wasxfail = (  # type: ignore[attr-defined]
                f"expected failure (baseline): {entry.key}: {entry.reason} "
                f"(owner {entry.owner}, expires {entry.expires.isoformat()})"
            )
            set_verdict(report, Verdict.BASELINE)
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
        verdict = verdict_of(report)
        if verdict is None:
            return
        self.results.append(
            TestResult(
                nodeid=report.nodeid,
                verdict=verdict,
                requirements=_cited_in(report),
                blamed=getattr(report, BLAMED_ATTR, None),
                baseline=getattr(report, BASELINE_ATTR, None),
                reason=(
                    _not_applicable_reason(report) if verdict is Verdict.NOT_APPLICABLE else None
                ),
            )
        )
        self.by_module.setdefault(module_of(report.nodeid), Counter())[verdict] += 1
        reason = getattr(report, NOT_APPLICABLE_REASON_ATTR, None)
        if verdict is Verdict.NOT_APPLICABLE and reason is not None:
            feature = str(getattr(report, NOT_APPLICABLE_FEATURE_ATTR, ""))
            self.not_tested[NotApplicableReason[reason], feature] += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and verdict_of(report) is Verdict.ERROR:
            self.collection_errors += 1

    # -- progress: one line per suite module as it completes ---------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        suite = [i for i in session.items if i.stash.get(SUITE_ITEM_KEY, False)]
        self.totals = dict(Counter(module_of(i.nodeid) for i in suite))

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Hand the run's seed to an xdist worker (workers do not re-read changed options)."""
        if self.seed is not None:
            node.workerinput[SEED_INPUT] = self.seed

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.totals:
            self.totals = dict(Counter(module_of(nodeid) for nodeid in ids))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        module = module_of(nodeid)
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
            section_of(r.requirements) for r in self.results if module_of(r.nodeid) == module
        )
        title = section_title(sections.most_common(1)[0][0] if sections else "")
        shown = ", ".join(f"{counts[v]} {v}" for v in (*COLUMNS, *OCCASIONAL) if counts[v])
        if self.config.pluginmanager.has_plugin("dsession"):
            reporter.write("\n")  # xdist writes its letters without ending the line
        reporter.write_line(
            f"openmedia [{title}] {Path(module).name}: {self.done[module]}/{self.totals[module]} "
            f"({shown}); suite {sum(self.done.values())}/{sum(self.totals.values())}"
        )

    # -- the end: baseline, exit status, certificate ------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """The certificate, once the exit status is decided (``plugin.verdict_hooks``)."""
        if not self.runtime.tally.suite_seen or hasattr(self.config, "workerinput"):
            return
        self.outcome = self.runtime.baseline_outcome
        incomplete = self._incomplete(session, exitstatus)
        directory = self.settings.certificate_dir
        if directory is None and not incomplete:
            directory = self.config.invocation_params.dir / "reports" / "certificate"
        if directory is None:
            self.no_certificate = (
                f"none written: an incomplete run ({'; '.join(incomplete)}) writes one only when "
                f"asked ({CERTIFICATE.flag} DIR); the last complete run's certificate is untouched"
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
                f"incomplete run never replaces; give another {CERTIFICATE.flag} DIR"
            )
        header = certificate_header(self.settings, self._run_record(exit_status), self.results)
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

    def _run_record(self, exit_status: int) -> RunRecord:
        """What the certificate's header says of the run beyond its settings."""
        args = self.config.invocation_params.args
        secret = (PASSWORD.flag, PASSWORD.alias)
        command = command_line(args, self.seed, needs_password_env(self.settings), secret)
        session = self.runtime.target  # None in an xdist controller: the workers reached it
        return RunRecord(
            command_line=self.runtime.redact(command),
            seed=self.seed,
            exit_status=translate_exit_code(exit_status),
            fingerprints=fingerprints(self.config),
            reached=session is not None,
            control_url=session.control_url if session is not None else None,
            usable_features=session.usable if session is not None else frozenset(),
            withheld_features=SAFE_MODE_WITHHELD,
        )

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
