"""Re-running a suite test that failed: the *flaky* verdict (``--om-reruns N``, default 1).

On a real network a check may fail once and pass the next time; reported as a plain *fail*
that is indistinguishable from a defect. So a suite test whose attempt ends in

* *fail* or *expected failure (baseline)*: the target broke a requirement (a ``Blocked``
  step included), or
* *error* from a transport problem that a network or a busy server causes now and not the
  next time (``RERUN_TRANSPORT_REASONS``: timed out, connection refused, reset, closed
  without an answer or mid-response), or a Hypothesis report that its failure did not repeat
  (``FlakyFailure``) whose every failure was one of those,

runs again, up to ``--om-reruns`` more times, until an attempt passes. Never re-run: *pass*,
*warning* (a SHOULD/OPEN reading not met passed), *not applicable*, a plain skip, and any other
*error*: a malformed or oversized answer, a TLS or name-resolution error, a non-SOAP answer, a
broken profile or a bug of the suite says the same the next time, and a re-run would only hide
it or double its cost. A run that is stopping (``-x``, ``--maxfail``, the target gone silent,
Ctrl-C) re-runs nothing.

Then the last attempt speaks: one that passed (or warned) after a failed one is *flaky*: it
does not fail the run unless ``--om-strict`` (``conformance.plugin.exit_status``); one that did
not pass keeps its own verdict (*fail* on every attempt stays *fail*, and an error after a
fail is an error: a failure that did not repeat is no finding). Its reports carry the earlier
attempts (``conformance.reporting.attempts``) for the console, JUnit and the certificate;
Allure gets each earlier attempt as a result of its own as it ends (``plugin.allure``).

Each attempt is a whole run of the test's protocol (setup, call, teardown), so its function
fixtures, and in safe mode the requests it created, are torn down and cleaned after it like any
test's (``plugin.safe_mode`` cleans at every teardown); the broader fixtures (session, module)
stay for the re-run, as for the next test. Whether another attempt follows is decided from the
setup and the call, before the teardown (which must know): a test that passed and then met
trouble in its teardown is not re-run. Only the last attempt is logged to pytest, so the
console, JUnit, ``-x`` and xdist count a test once. A broader fixture whose setup
failed is set up afresh for the re-run (pytest would otherwise replay its cached error).
Every attempt counts towards "silent tests in a row" (``SessionRuntime.note_outcome``), so a
target that has gone silent still stops the run after three unanswered attempts, the same wait
as without re-runs.

Hypothesis: the run forces one seed (``plugin.summary.prepare_hypothesis``), so a re-run of a
property test generates the same examples in the same order and repeats the failing example
itself; and with a forced seed Hypothesis neither saves to nor replays from its example
database, so no attempt is steered by what an earlier attempt (or an earlier run) found.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from _pytest.runner import call_and_report

from conformance.plugin.allure import close_attempt
from conformance.plugin.runtime import (
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    SessionRuntime,
    set_verdict,
    verdict_of,
)
from conformance.plugin.summary import BASELINE_ATTR, BLAMED_KEY
from conformance.reporting.attempts import Attempt, attempt_text, set_attempts, summary_of
from conformance.reporting.categories import final_verdict
from conformance.verdicts import Verdict

RERUN_TRANSPORT_REASONS = frozenset(
    {
        "timed out",
        "connection refused",
        "connection reset",
        "connection closed without an answer",
        "connection closed mid-response",
    }
)
"""The ``TransportError`` reasons (``conformance.wire.transport``) that a network or a busy
server causes now and not the next time: an attempt ending in one is re-run."""
RERUN_VERDICTS = frozenset({Verdict.FAIL, Verdict.BASELINE})
"""Verdicts of an attempt that is always re-run (an *error* only for a transport reason)."""
PASSED_TITLE = "openmedia exchanges of the attempt that passed"
"""The report section of a flaky test with its passing attempt's exchanges."""
PASSED = frozenset({Verdict.PASS, Verdict.WARNING})
"""A last attempt with one of these after a failed one makes the test *flaky*."""


@dataclass
class _Phase:
    verdict: Verdict | None
    exception: BaseException | None


OUTCOMES_KEY = pytest.StashKey[list[_Phase]]()
"""The current attempt's phases: verdict and exception of each report."""


def transient(exc: BaseException | None) -> bool:
    """Whether an error may not happen again: a transport reason of
    ``RERUN_TRANSPORT_REASONS``, or Hypothesis' report that a failure did not repeat whose
    every failure was transient or an assertion."""
    from conformance.wire.transport import TransportError

    if isinstance(exc, TransportError):
        return exc.reason in RERUN_TRANSPORT_REASONS
    if exc is not None and _hypothesis_flaky(exc):
        leaves = _leaves(exc)
        return bool(leaves) and all(isinstance(e, AssertionError) or transient(e) for e in leaves)
    return False


def _hypothesis_flaky(exc: BaseException) -> bool:
    try:
        from hypothesis.errors import Flaky
    except ImportError:  # pragma: no cover - Hypothesis is a dependency of the suite
        return False
    return isinstance(exc, Flaky)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions an exception group holds, at any depth (``[]``: not a group)."""
    leaves: list[BaseException] = []
    for inner in getattr(exc, "exceptions", ()):
        leaves += _leaves(inner) if hasattr(inner, "exceptions") else [inner]
    return leaves


def attempt_verdict(phases: list[_Phase]) -> Verdict | None:
    """The verdict of one attempt, from its phases (as the JUnit property names it)."""
    return final_verdict(p.verdict for p in phases if p.verdict is not None)


def rerun_wanted(phases: list[_Phase]) -> bool:
    """Whether an attempt that ended so is run again (the module's rules)."""
    verdict = attempt_verdict(phases)
    if verdict in RERUN_VERDICTS:
        return True
    if verdict is Verdict.ERROR:
        errors = [p.exception for p in phases if p.verdict is Verdict.ERROR]
        return bool(errors) and all(transient(exc) for exc in errors)
    return False


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Note each phase's verdict and exception (outermost: baseline and verdict are set)."""
    report = yield
    phases = item.stash.get(OUTCOMES_KEY, None)
    if phases is not None:
        exc = call.excinfo.value if call.excinfo is not None else None
        phases.append(_Phase(verdict_of(report), exc))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run a suite test, and again while an attempt ends so that a re-run may tell more."""
    runtime = item.config.stash.get(RUNTIME_KEY, None)
    if runtime is None or not item.stash.get(SUITE_ITEM_KEY, False):
        return None
    if runtime.settings.reruns <= 0:
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    earlier: list[Attempt] = []
    while True:
        may_rerun = len(earlier) < runtime.settings.reruns
        reports, phases, again = _run_once(item, nextitem, may_rerun)
        if not again:
            break
        verdict = attempt_verdict(phases) or Verdict.ERROR
        earlier.append(_attempt(runtime, len(earlier) + 1, verdict, reports, phases))
        close_attempt(item, verdict)
        _fresh_start(item)
    if earlier:
        _last_attempt(runtime, reports, earlier)
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


class _SameTestAgain:
    """The same test again, as the next item of an attempt's teardown: pytest tears down what
    the next item does not share, so the test's own fixtures go and the broader ones (session,
    package, module, class) stay for the re-run, as they would for the next test."""

    def __init__(self, item: pytest.Item) -> None:
        self._chain = [*item.listchain()[:-1], self]

    def listchain(self) -> list[object]:
        return self._chain


def _run_once(
    item: pytest.Item, nextitem: pytest.Item | None, may_rerun: bool
) -> tuple[list[pytest.TestReport], list[_Phase], bool]:
    """One attempt: pytest's ``runtestprotocol`` without logging, deciding before the teardown
    whether another attempt follows (its teardown then keeps the broader fixtures). Returns its
    reports, its phases and whether to run it again."""
    phases: list[_Phase] = []
    item.stash[OUTCOMES_KEY] = phases
    if hasattr(item, "_request") and not item._request:
        # a re-run: the item was torn down (pytest's runtestprotocol does the same)
        item._initrequest()  # type: ignore[attr-defined]
    again = False
    try:
        report = call_and_report(item, "setup", log=False)
        reports = [report]
        if report.passed and not item.config.getoption("setuponly", False):
            reports.append(call_and_report(item, "call", log=False))
        session = item.session
        if session.shouldfail or session.shouldstop:
            nextitem = None
        else:
            again = may_rerun and rerun_wanted(phases)
        after: Any = _SameTestAgain(item) if again else nextitem
        reports.append(call_and_report(item, "teardown", log=False, nextitem=after))
    finally:
        if hasattr(item, "_request"):
            item._request = False
            item.funcargs = None  # type: ignore[attr-defined]
        del item.stash[OUTCOMES_KEY]
    return reports, phases, again


def _attempt(
    runtime: SessionRuntime,
    number: int,
    verdict: Verdict,
    reports: list[pytest.TestReport],
    phases: list[_Phase],
) -> Attempt:
    """The record of an attempt that did not pass, from its failed report (secrets already
    masked there: ``verdict_hooks`` masks every report)."""
    failed = next((r for r in reports if r.failed or verdict_of(r) is verdict), reports[-1])
    exc = next((p.exception for p in phases if p.exception is not None), None)
    exchanges = dict(failed.sections).get("openmedia exchanges", "")
    return Attempt(
        number=number,
        verdict=verdict,
        failure=failed.longreprtext,
        exception="" if exc is None else type(exc).__name__,
        exchanges=exchanges,
        baseline=str(getattr(failed, BASELINE_ATTR, "") or ""),
        summary=runtime.redact(summary_of(exc)),
    )


def _fresh_start(item: pytest.Item) -> None:
    """Forget what the last attempt left on the item: a broader fixture's cached setup error
    (set up afresh, as pytest-rerunfailures does) and the notes of its verdict."""
    from conformance.plugin.verdict_hooks import NOT_APPLICABLE_KEY

    info = getattr(item, "_fixtureinfo", None)
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        for definition in definitions:
            cached = getattr(definition, "cached_result", None)
            if cached is not None and cached[2] is not None:
                definition.cached_result = None
    if BLAMED_KEY in item.stash:
        del item.stash[BLAMED_KEY]
    if NOT_APPLICABLE_KEY in item.stash:
        del item.stash[NOT_APPLICABLE_KEY]


def _last_attempt(
    runtime: SessionRuntime, reports: list[pytest.TestReport], earlier: list[Attempt]
) -> None:
    """The last attempt's reports, with the earlier ones: *flaky* when it passed."""
    total = len(earlier) + 1
    carrier = next((r for r in reports if verdict_of(r) is not None), reports[-1])
    for report in reports:
        set_attempts(report, earlier)
    for attempt in earlier:
        carrier.sections.append((f"openmedia {attempt.title(total)}", attempt_text(attempt)))
    if verdict_of(carrier) in PASSED:
        set_verdict(carrier, Verdict.FLAKY)
        listed = next((a.baseline for a in earlier if a.baseline), "")
        if listed:  # the listed failure still happens, now and then: its entry is not stale
            setattr(carrier, BASELINE_ATTR, listed)
        exchanges = runtime.exchanges or []
        if exchanges:
            title = f"{PASSED_TITLE} ({total} of {total})"
            carrier.sections.append((title, runtime.render_exchanges(exchanges)))
