"""The run's exchange log (``reports/exchanges.jsonl.gz``): which runs write it, where, when.

Each finished suite test becomes one record of ``conformance.reporting.exchange_log`` (its
verdict, cited requirements and exchanges), written from the evidence the runtime already keeps
per test (``SessionRuntime.evidence``, the same record the Allure attachments are made from), as
soon as its teardown is reported. Which runs write one: those that write Allure results
(``conformance.plugin.allure`` decides: a run that collects the suite, or one given
``--alluredir``; not ``--collect-only``, not the mutation matrix's many runs, not
``--om-no-allure``, which asks for a run that leaves no results behind), always to
``reports/exchanges.jsonl.gz`` of the folder the run starts in (where the leak audit goes too);
``--om-exchange-log FILE`` writes it there in any run, ``--om-exchange-log none`` in none.

Under xdist each worker writes its part; the controller assembles the log when the session ends,
after xdist has stopped its workers (``_Assembler``), as the leak audit does.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.allure import SETTINGS_KEY as ALLURE_SETTINGS_KEY
from conformance.plugin.options import option_values
from conformance.plugin.runtime import RUNTIME_KEY, SUITE_ITEM_KEY, SessionRuntime, verdict_of
from conformance.reporting.categories import VERDICT_LABEL
from conformance.reporting.exchange_log import (
    DEFAULT_LOG,
    LoggedExchange,
    LoggedTest,
    PartWriter,
    RunRecord,
    assemble,
    cut_message,
    logged_exchanges,
    part_path,
    process_record,
    stale_parts,
)
from conformance.reporting.junit_properties import ATTEMPTS_PROPERTY
from conformance.verdicts import ConformanceFailure, Verdict

OFF = "none"
"""``--om-exchange-log none``: no log."""
WORKER_INPUT_KEY = "openmedia_exchange_log"
XDIST_CONTROLLER = "dsession"
"""The plugin xdist registers in the process that hands tests to its workers (and sees their
reports, but not their exchanges)."""


@dataclass(frozen=True)
class LogSettings:
    """Where this run's log goes (``None``: nowhere)."""

    path: Path | None


SETTINGS_KEY = pytest.StashKey[LogSettings]()


def _decide(config: pytest.Config) -> Path | None:
    given = option_values(config).exchange_log
    if given is not None:
        return None if given.strip().lower() == OFF else (config.invocation_params.dir / given)
    worker = getattr(config, "workerinput", {}).get(WORKER_INPUT_KEY)
    if worker or hasattr(config, "workerinput"):  # a worker writes where its controller decided
        return Path(worker) if worker else None
    allure = config.stash.get(ALLURE_SETTINGS_KEY, None)
    if allure is None or allure.results_dir is None:  # a run that writes no results
        return None
    return config.invocation_params.dir / DEFAULT_LOG


@pytest.hookimpl(trylast=True)  # after ``configuration`` has built the runtime
def pytest_configure(config: pytest.Config) -> None:
    runtime = config.stash.get(RUNTIME_KEY, None)
    path = None if runtime is None or config.option.help else _decide(config)
    settings = LogSettings(None if path is None else path.resolve())
    config.stash[SETTINGS_KEY] = settings
    if settings.path is not None and not hasattr(config, "workerinput"):
        for stale in stale_parts(settings.path):  # before any xdist worker starts its own
            stale.unlink(missing_ok=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: a worker parses the command line afresh; tell it the log chosen here."""
    settings = node.config.stash.get(SETTINGS_KEY, None)
    if settings is not None and settings.path is not None:
        node.workerinput[WORKER_INPUT_KEY] = str(settings.path)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    settings = config.stash.get(SETTINGS_KEY, None)
    runtime = config.stash.get(RUNTIME_KEY, None)
    if settings is None or settings.path is None or runtime is None:
        return
    worker = getattr(config, "workerinput", {}).get("workerid")
    part: PartWriter | None = None
    if not config.pluginmanager.has_plugin(XDIST_CONTROLLER):  # the controller runs no test
        part = PartWriter(part_path(settings.path, worker))
        config.pluginmanager.register(_TestLogger(runtime, part, worker), "openmedia-exchange-log")
    if worker is None:
        assembler = _Assembler(settings.path, runtime, part)
        config.pluginmanager.register(assembler, "openmedia-log-assembler")


class _TestLogger:
    """Notes what the log needs of each test while it runs, and writes its record at teardown."""

    def __init__(self, runtime: SessionRuntime, writer: PartWriter, worker: str | None) -> None:
        self.runtime = runtime
        self.writer = writer
        self.worker = worker
        self.started_process = False
        self._requirements: tuple[str, ...] = ()
        self._hypothesis = False
        self._failed_requirement: str | None = None
        self._message: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._requirements = tuple(
            dict.fromkeys(rid for mark in item.iter_markers("requirement") for rid in mark.args)
        )
        self._hypothesis = bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))
        self._failed_requirement = None
        self._message = None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        """Notes whether Hypothesis ran inside the test, also where the test is no ``@given``
        test itself (a ``@given`` inside it, a state machine): its data depend on the seed."""
        with _hypothesis_runs(self._note_hypothesis):
            return (yield)

    def _note_hypothesis(self) -> None:
        self._hypothesis = True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, ConformanceFailure) and item.stash.get(SUITE_ITEM_KEY, False):
            self._failed_requirement = exc.requirement
        return report

    @pytest.hookimpl(trylast=True)  # after the JUnit hook has put the verdict on the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        verdict = verdict_of(report)
        if verdict is not None and verdict is not Verdict.PASS and self._message is None:
            self._message = _message(report, verdict)
        if report.when != "teardown":
            return
        properties = dict(report.user_properties)
        label = properties.get(VERDICT_LABEL)
        if label is None:
            return
        # a re-run test reaches pytest with its last attempt only (``plugin.reruns``), which
        # names how many there were
        attempt = int(str(properties.get(ATTEMPTS_PROPERTY, 1)))
        self._write(report.nodeid, Verdict(label), attempt)

    def _write(self, nodeid: str, verdict: Verdict, attempt: int) -> None:
        runtime = self.runtime
        target = runtime.target
        if not self.started_process and target is not None:
            self.writer.write(process_record(target.url, target.control_url, self.worker))
            self.started_process = True
        evidence = runtime.evidence
        exchanges: tuple[LoggedExchange, ...] = ()
        count = 0
        if evidence is not None and evidence.count:
            notes, _ = evidence.notes()
            count = evidence.count
            exchanges = logged_exchanges(
                evidence.exchanges,
                evidence.first_kept,
                notes,
                runtime.redact,
                control_url=None if target is None else target.control_url,
            )
        test = LoggedTest(
            test=nodeid,
            verdict=verdict,
            requirements=self._requirements,
            failed_requirement=self._failed_requirement,
            message=cut_message(self._message),
            hypothesis=self._hypothesis,
            attempt=attempt,
            count=count,
            exchanges=exchanges,
        )
        self.writer.write(test.to_json())

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.writer.close()


@contextlib.contextmanager
def _hypothesis_runs(noted: Callable[[], None]) -> Iterator[None]:
    """``noted()`` whenever a Hypothesis run ends inside the block (the statistics callback the
    Hypothesis pytest plugin also uses; an earlier callback still gets its call)."""
    if "hypothesis" not in sys.modules:  # the suite's tests import it where they use it
        yield
        return
    try:
        from hypothesis.statistics import collector
    except ImportError:  # pragma: no cover - a Hypothesis without it: nothing is noted
        yield
        return
    variable: Any = collector  # typed by Hypothesis as holding None only
    before = variable.value

    def callback(stats: Any) -> None:
        noted()
        if before is not None:
            before(stats)

    with variable.with_value(callback):
        yield


def _message(report: pytest.TestReport, verdict: Verdict) -> str | None:
    """What the report says about a verdict that is not a pass (already masked by then)."""
    if verdict is Verdict.WARNING:
        warning = dict(report.user_properties).get("warning")
        return None if warning is None else str(warning).removeprefix(f"{report.nodeid}: ")
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return str(longrepr[2])
    return str(longrepr)


class _Assembler:
    """The main process's last word on the log, after xdist has stopped its workers."""

    def __init__(self, path: Path, runtime: SessionRuntime, own: PartWriter | None) -> None:
        self.path = path
        self.runtime = runtime
        self.own = own
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from conformance import __version__

        config = session.config
        if self.own is not None:  # this process's own part (the tests it ran without xdist)
            self.own.close()
        parts = stale_parts(self.path)
        if not parts:
            return
        seed = getattr(config.option, "hypothesis_seed", None)
        run = RunRecord(
            suite_version=__version__,
            started=self.started,
            seed=None if seed is None else str(seed),
            profile=str(self.runtime.settings.profile_path),
            command=self.runtime.redact(" ".join(config.invocation_params.args)),
        )
        assemble(self.path, run, parts)
