"""How an outcome becomes a verdict: the run-time half of the plugin (``conformance.plugin``).

``ConformanceFailure`` of a SHOULD/OPEN requirement → *warning* (passed, with a
``ConformanceWarning``; failed under ``--om-strict``); ``NotApplicable`` → *not
applicable* (skipped, reason ``not applicable: ...``); ``ConformanceFailure`` of a MUST
requirement or any assertion → *fail*; any other exception (``SuiteError``, ``TransportError``,
a bug) → *error*. The verdict travels on the report (``openmedia_verdict``) so that it survives
pytest-xdist, and the tally of verdicts decides the exit status (see ``conformance.plugin``).
Only suite tests are touched; any other test keeps pytest's own outcome.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from conformance.plugin.runtime import (
    NOT_APPLICABLE_FEATURE_ATTR,
    NOT_APPLICABLE_REASON_ATTR,
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    VERDICT_ATTR,
    ConformanceWarning,
    SessionRuntime,
)
from conformance.profile import CONTROL_FEATURES
from conformance.verdicts import ConformanceFailure, NotApplicable, SuiteError


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the session hooks once ``conformance.plugin`` has built the runtime."""
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        config.pluginmanager.register(SessionHooks(runtime), "openmedia-session")


def _is_suite_item(item: pytest.Item) -> bool:
    return item.stash.get(SUITE_ITEM_KEY, False)


# -- running: verdicts -----------------------------------------------------------------------
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
        item.user_properties.append(("verdict", "warning"))
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
        setattr(report, VERDICT_ATTR, verdict)
    if verdict == "not applicable":
        lacking = item.stash[NOT_APPLICABLE_KEY]
        setattr(report, NOT_APPLICABLE_REASON_ATTR, lacking.reason.name)
        setattr(report, NOT_APPLICABLE_FEATURE_ATTR, lacking.feature)
    if verdict == "error" and call.excinfo is not None:
        exc = call.excinfo.value
        if isinstance(exc, SuiteError):  # the wire's internals are noise here: say what happened
            report.longrepr = (
                f"{type(exc).__name__}: {exc}\n"
                "(an error: the suite could not test, which is no verdict on the target)"
            )
    if verdict == "fail" and call.excinfo is not None:
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
    item: pytest.Item, runtime: SessionRuntime, verdict: str | None, call: pytest.CallInfo[None]
) -> None:
    """Stop the run when the target has stopped answering (``SessionRuntime.note_outcome``)."""
    if verdict in (None, "not applicable", "skipped"):
        return  # nothing asked of the target: no evidence either way
    from conformance.wire.transport import TransportError  # loaded by then: a test ran

    exc = call.excinfo.value if call.excinfo is not None else None
    silent = None
    if verdict == "error" and isinstance(exc, TransportError):
        silent = f"{exc.reason} at {exc.url}"
    reason = runtime.note_outcome(silent)
    if reason is not None:
        item.session.shouldstop = reason


def _verdict_of(report: pytest.TestReport, call: pytest.CallInfo[None], item: Any) -> str | None:
    if report.failed:
        exc = call.excinfo.value if call.excinfo is not None else None
        return "fail" if isinstance(exc, AssertionError) else "error"
    if report.skipped and report.when in ("setup", "call"):
        return "not applicable" if NOT_APPLICABLE_KEY in item.stash else "skipped"
    if report.passed and report.when == "call":
        return "warning" if ("verdict", "warning") in item.user_properties else "pass"
    return None


def pytest_report_teststatus(report: Any, config: pytest.Config) -> Any:
    verdict = getattr(report, VERDICT_ATTR, None)
    if verdict == "error" and report.when == "call":
        return "error", "E", ("ERROR", {"red": True})
    if verdict == "warning":
        return "passed", "W", ("PASSED (warning)", {"yellow": True})
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
        verdict = getattr(report, VERDICT_ATTR, None)
        if verdict is None:
            if report.failed:
                tally.failures += 1
            return
        tally.suite_seen = True
        if report.when != "collect":
            tally.add(verdict)
        if verdict == "warning":
            tally.warnings += [v for k, v in report.user_properties if k == "warning"]
        if report.failed:
            if verdict == "error":
                tally.errors += 1
            else:
                tally.failures += 1

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Map the outcome to 0 / 1 / 3 (2, usage, is decided at configure)."""
        tally = self.runtime.tally
        if exitstatus == pytest.ExitCode.INTERRUPTED and not tally.failures:
            session.exitstatus = 3  # also when stopped before a suite test reported (collection)
            return
        if not tally.suite_seen or exitstatus not in (0, 1, 2):
            return
        if tally.failures:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif tally.errors or exitstatus == pytest.ExitCode.INTERRUPTED:
            session.exitstatus = 3

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tally = self.runtime.tally
        if not tally.suite_seen:
            return
        if tally.warnings:
            terminalreporter.section("openmedia warnings (SHOULD/OPEN not met)", yellow=True)
            for line in tally.warnings:
                terminalreporter.line(line)
        terminalreporter.section("openmedia")
        target = self.runtime.target
        if target is not None:
            features = ", ".join(sorted(target.features)) or "none"
            terminalreporter.line(f"target {target.url}; control features: {features}")
        terminalreporter.line(f"verdicts: {tally.line()}")
