"""How an outcome becomes a verdict: the run-time half of the plugin (``conformance.plugin``).

``ConformanceFailure`` of a SHOULD/OPEN requirement → *warning* (passed, with a
``ConformanceWarning``; failed under ``--om-strict``); ``NotApplicable`` → *not
applicable* (skipped, reason ``not applicable: ...``); ``ConformanceFailure`` of a MUST
requirement or any assertion → *fail*; any other exception (``SuiteError``, ``TransportError``,
a bug) → *error*; a test that failed, then passed on a re-run → *flaky*
(``conformance.plugin.reruns`` runs the attempts and sets it). The verdict travels on the
report (``openmedia_verdict``) so that it survives pytest-xdist, and the tally of verdicts,
with the baseline's outcome, is what the session's exit status is decided from, here (the
policy: ``conformance.plugin.exit_status``).
Only suite tests are touched; any other test keeps pytest's own outcome.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import warnings
from datetime import date
from typing import Any

import pytest

from conformance.plugin.exit_status import RunFacts, SessionFacts, exit_status
from conformance.plugin.reruns import PASSED_TITLE
from conformance.plugin.runtime import (
    NOT_APPLICABLE_FEATURE_ATTR,
    NOT_APPLICABLE_REASON_ATTR,
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    ConformanceWarning,
    SessionRuntime,
    set_verdict,
    verdict_of,
)
from conformance.profile import CONTROL_FEATURES
from conformance.reporting.attempts import attempts_of, flaky_lines
from conformance.reporting.baseline import evaluate_results
from conformance.verdicts import ConformanceFailure, NotApplicable, SuiteError, Verdict


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the session hooks once ``conformance.plugin`` has built the runtime."""
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        config.pluginmanager.register(SessionHooks(runtime), "openmedia-session")


def _is_suite_item(item: pytest.Item) -> bool:
    return item.stash.get(SUITE_ITEM_KEY, False)


# -- running: verdicts -----------------------------------------------------------------------
WARNING_PROPERTY = ("verdict", Verdict.WARNING.value)
"""The user property that marks a test whose failure was a warning (plain strings: it travels
to JUnit and, under xdist, between processes)."""
NOT_APPLICABLE_KEY = pytest.StashKey[NotApplicable]()
"""The ``NotApplicable`` a test ended with: its typed reason goes on the report from here."""


def _not_applicable(item: pytest.Item, exc: NotApplicable) -> BaseException:
    """Note why the test is not applicable; the pytest skip that reports it."""
    item.stash[NOT_APPLICABLE_KEY] = exc
    reason = str(exc)
    lacks = f"target lacks {exc.feature!r}"
    if exc.feature in CONTROL_FEATURES and lacks in reason:
        reason = reason.replace(lacks, f"target lacks control feature {exc.feature!r}", 1)
    return _skip(reason)


def _skip(reason: str) -> BaseException:
    try:  # report the test's own location, as skip markers do
        return pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # pragma: no cover - a pytest without the keyword
        return pytest.skip.Exception(reason)


def _is_warning(exc: ConformanceFailure, strict: bool) -> bool:
    from conformance.contract.catalogue import CATALOGUE

    requirement = CATALOGUE.get(exc.requirement)
    return not strict and requirement is not None and requirement.level in ("SHOULD", "OPEN")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    runtime = item.config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.begin_test()
    try:
        return (yield)
    except NotApplicable as exc:
        raise _not_applicable(item, exc) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except NotApplicable as exc:
        raise _not_applicable(item, exc) from None
    except ConformanceFailure as exc:
        runtime = item.config.stash.get(RUNTIME_KEY, None)
        if runtime is None or not _is_warning(exc, runtime.settings.strict):
            raise
        text = runtime.redact(f"{item.nodeid}: {exc.describe()}")
        item.user_properties.append(WARNING_PROPERTY)
        item.user_properties.append(("warning", text))
        filename, lineno = str(item.path), (item.location[1] or 0) + 1
        warnings.warn_explicit(ConformanceWarning(text), ConformanceWarning, filename, lineno)
        return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    runtime = item.config.stash.get(RUNTIME_KEY, None)
    if runtime is None or not _is_suite_item(item):
        return report
    verdict = _verdict_of(report, call, item)
    if verdict is not None:
        set_verdict(report, verdict)
    if verdict is Verdict.NOT_APPLICABLE:
        lacking = item.stash[NOT_APPLICABLE_KEY]
        setattr(report, NOT_APPLICABLE_REASON_ATTR, lacking.reason.name)
        setattr(report, NOT_APPLICABLE_FEATURE_ATTR, lacking.feature)
    if verdict is Verdict.ERROR and call.excinfo is not None:
        exc = call.excinfo.value
        if isinstance(exc, SuiteError):  # the wire's internals are noise here: say what happened
            report.longrepr = (
                f"{type(exc).__name__}: {exc}\n"
                "(an error: the suite could not test, which is no verdict on the target)"
            )
    if verdict is Verdict.FAIL and call.excinfo is not None:
        exc = call.excinfo.value
        if isinstance(exc, ConformanceFailure):  # Expected / Actual say it all: no code listing
            path, line, name = item.location
            report.longrepr = f"{exc.describe()}\n(checked by {name} at {path}:{(line or 0) + 1})"
    if report.when == "call" or report.failed:
        _watch_for_silence(item, runtime, verdict, call)
    if report.failed:
        exchanges = runtime.exchanges or []
        if exchanges:
            report.sections.append(("openmedia exchanges", runtime.render_exchanges(exchanges)))
    _mask(report, runtime)
    return report


def _mask(report: pytest.TestReport, runtime: SessionRuntime) -> None:
    """The run's secrets masked in all a report carries to the console, JUnit and Allure: the
    failure (or skip reason), the captured output and log, the properties."""
    if report.longrepr is not None:
        if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
            path, line, reason = report.longrepr
            report.longrepr = (path, line, runtime.redact(reason))
        else:
            text = str(report.longrepr)
            masked = runtime.redact(text)
            if masked != text:
                report.longrepr = masked
    report.sections = [(title, runtime.redact(content)) for title, content in report.sections]
    report.user_properties = [
        (name, runtime.redact(value) if isinstance(value, str) else value)
        for name, value in report.user_properties
    ]


def _watch_for_silence(
    item: pytest.Item,
    runtime: SessionRuntime,
    verdict: Verdict | None,
    call: pytest.CallInfo[None],
) -> None:
    """Stop the run when the target has stopped answering (``SessionRuntime.note_outcome``)."""
    if verdict in (None, Verdict.NOT_APPLICABLE, Verdict.SKIPPED):
        return  # nothing asked of the target: no evidence either way
    from conformance.wire.transport import TransportError  # loaded by then: a test ran

    exc = call.excinfo.value if call.excinfo is not None else None
    silent = None
    if verdict is Verdict.ERROR and isinstance(exc, TransportError):
        silent = f"{exc.reason} at {exc.url}"
    reason = runtime.note_outcome(silent)
    if reason is not None:
        item.session.shouldstop = reason


def _verdict_of(
    report: pytest.TestReport, call: pytest.CallInfo[None], item: Any
) -> Verdict | None:
    if report.failed:
        exc = call.excinfo.value if call.excinfo is not None else None
        return Verdict.FAIL if isinstance(exc, AssertionError) else Verdict.ERROR
    if report.skipped and report.when in ("setup", "call"):
        return Verdict.NOT_APPLICABLE if NOT_APPLICABLE_KEY in item.stash else Verdict.SKIPPED
    if report.passed and report.when == "call":
        return Verdict.WARNING if WARNING_PROPERTY in item.user_properties else Verdict.PASS
    return None


def pytest_report_teststatus(report: Any, config: pytest.Config) -> Any:
    verdict = verdict_of(report)
    if verdict is Verdict.ERROR and report.when == "call":
        return "error", "E", ("ERROR", {"red": True})
    if verdict is Verdict.WARNING:
        return "passed", "W", ("PASSED (warning)", {"yellow": True})
    if verdict is Verdict.FLAKY:  # its own tally word: "3 passed, 1 flaky"
        return "flaky", "R", ("FLAKY (passed on a re-run)", {"yellow": True})
    return None


class SessionHooks:
    """Hooks that need the session's runtime but receive no ``config`` (registered per run)."""

    def __init__(self, runtime: SessionRuntime) -> None:
        self.runtime = runtime

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._count(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._count(report)

    def _count(self, report: Any) -> None:
        tally = self.runtime.tally
        verdict = verdict_of(report)
        if verdict is None:
            if report.failed:
                tally.failures += 1
            return
        tally.suite_seen = True
        if report.when != "collect":
            tally.add(verdict)
        if verdict in (Verdict.WARNING, Verdict.FLAKY):  # a flaky test's last attempt may warn
            tally.warnings += [v for k, v in report.user_properties if k == "warning"]
        if verdict is Verdict.FLAKY:
            passed = next((text for title, text in report.sections if PASSED_TITLE in title), "")
            tally.flaky.append(flaky_lines(report.nodeid, attempts_of(report), passed))
        if report.failed:
            if verdict is Verdict.ERROR:
                tally.errors += 1
            else:
                tally.failures += 1

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """The session's exit status, from its facts (``conformance.plugin.exit_status``): the
        tally and, in the process that saw every result, the baseline's outcome. The reports
        written at the end (``trylast``: the summary, the certificate) read it from here."""
        runtime, tally = self.runtime, self.runtime.tally
        baseline = runtime.settings.baseline
        if baseline is not None and tally.suite_seen and not hasattr(session.config, "workerinput"):
            runtime.baseline_outcome = evaluate_results(baseline, runtime.results, date.today())
        outcome = runtime.baseline_outcome
        facts = SessionFacts(
            suite_seen=tally.suite_seen,
            failures=tally.failures,
            errors=tally.errors,
            stale_baseline=outcome is not None and outcome.fails_run,
            flaky=tally.counts.get(Verdict.FLAKY, 0),
            strict=runtime.settings.strict,
        )
        status = exit_status(RunFacts(exitstatus, session=facts))
        if status != exitstatus:
            session.exitstatus = status

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tally = self.runtime.tally
        if not tally.suite_seen:
            return
        if tally.warnings:
            terminalreporter.section("openmedia warnings (SHOULD/OPEN not met)", yellow=True)
            for line in tally.warnings:
                terminalreporter.line(line)
        if tally.flaky:
            strict = self.runtime.settings.strict
            terminalreporter.section(
                "openmedia flaky (failed, then passed on a re-run"
                + ("; --om-strict: they fail the run)" if strict else ")"),
                yellow=True,
            )
            for lines in tally.flaky:
                for line in lines:
                    terminalreporter.line(line)
        terminalreporter.section("openmedia")
        target = self.runtime.target
        if target is not None:
            features = ", ".join(sorted(target.features)) or "none"
            terminalreporter.line(f"target {target.url}; control features: {features}")
        terminalreporter.line(f"verdicts: {tally.line()}")
