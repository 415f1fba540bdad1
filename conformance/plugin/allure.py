"""Allure results of a suite run (by default in ``reports/allure-results``): which, where, when.

A suite run (one that collects from ``conformance/suite`` or an ``openmedia_suite_dirs``
folder) writes Allure results without being asked: the folder is emptied when the session
starts, and allure-pytest's listener is switched on by setting its ``--alluredir`` when the user
gave none. ``--alluredir DIR`` writes elsewhere (and is not emptied: allure-pytest's own
``--clean-alluredir`` does that); ``--om-no-allure`` writes nothing. Runs of the mutation matrix and
``--collect-only`` runs write nothing by default: they are many runs, or no run, of the suite.

Tests contain no reporting calls. This plugin puts the catalogue's labels and section links on
each suite test as allure markers at collection (so allure-pytest's ``--allure-features`` and
friends select by them too); notes how each test ended (``FinishedTest``) and hands it to
``conformance.reporting.allure_results`` when allure-pytest reports the finished test
(allure-commons' ``report_result`` hook, ahead of its file writer), so the result file is written
once and complete; and writes ``categories.json`` and ``environment.properties`` when the
session ends.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure_commons
import pytest

from conformance.plugin.fingerprint import fingerprints
from conformance.plugin.node_ids import targets_suite
from conformance.plugin.options import option_values
from conformance.plugin.runtime import (
    NOT_APPLICABLE_REASON_ATTR,
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    Evidence,
    SessionRuntime,
    verdict_of,
)
from conformance.reporting.allure_results import (
    DEFAULT_RESULTS_DIR,
    FinishedTest,
    apply_verdict,
    fresh_results_dir,
)
from conformance.reporting.attempts import attempts_of, flaky_message
from conformance.reporting.categories import VERDICT_LABEL, categories_json
from conformance.reporting.environment import environment_values, render_properties
from conformance.reporting.labels import LINK_TYPE, labels_for
from conformance.verdicts import NotApplicableReason, Verdict

ALLURE_PLUGIN = "allure_pytest"
ALLURE_LISTENER = "allure_listener"
"""The name allure-pytest registers its listener under (the one that writes each result)."""
HOOKS_NAME = "openmedia-allure"
_NOT_BY_DEFAULT = ("conformance.mutation.select",)
"""Plugins of runs that write no Allure results unless asked (many runs of the same suite)."""


@dataclass(frozen=True)
class AllureSettings:
    """Where this run writes Allure results (``None``: nowhere) and whether we chose it."""

    results_dir: Path | None
    default: bool
    attach_all: bool = False
    """``--om-attach-all-exchanges``: full exchanges on passed tests too (an audit)."""


SETTINGS_KEY = pytest.StashKey[AllureSettings]()
WORKER_INPUT_KEY = "openmedia_allure_dir"


# -- which runs write results, and where -----------------------------------------------------


def _decide(config: pytest.Config) -> AllureSettings:
    option = config.option
    if option_values(config).no_allure:
        option.allure_report_dir = None
        return AllureSettings(None, default=False)
    given = getattr(option, "allure_report_dir", None)
    if given:
        return AllureSettings(Path(given).resolve(), default=False)
    worker_dir = getattr(config, "workerinput", {}).get(WORKER_INPUT_KEY)
    if worker_dir:  # an xdist worker writes where its controller decided
        option.allure_report_dir = worker_dir
        return AllureSettings(Path(worker_dir), default=True)
    if (
        hasattr(config, "workerinput")
        or option.collectonly
        or any(config.pluginmanager.hasplugin(name) for name in _NOT_BY_DEFAULT)
        or not targets_suite(config)
    ):
        return AllureSettings(None, default=False)
    results = (config.invocation_params.dir / DEFAULT_RESULTS_DIR).resolve()
    option.allure_report_dir = str(results)
    return AllureSettings(results, default=True)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before allure-pytest's own configure, which reads ``--alluredir``."""
    if not config.pluginmanager.hasplugin(ALLURE_PLUGIN) or config.option.help:
        config.stash[SETTINGS_KEY] = AllureSettings(None, default=False)
        return
    settings = _decide(config)
    if option_values(config).attach_all_exchanges:
        settings = dataclasses.replace(settings, attach_all=True)
    config.stash[SETTINGS_KEY] = settings


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: a worker parses the command line afresh; tell it the folder chosen here."""
    settings = node.config.stash.get(SETTINGS_KEY, None)
    if settings is not None and settings.default and settings.results_dir is not None:
        node.workerinput[WORKER_INPUT_KEY] = str(settings.results_dir)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    settings = config.stash.get(SETTINGS_KEY, None)
    runtime = config.stash.get(RUNTIME_KEY, None)
    if settings is None or settings.results_dir is None or runtime is None:
        return
    if settings.default and not hasattr(config, "workerinput"):
        fresh_results_dir(settings.results_dir)
    hooks = AllureResultHooks(runtime, attach_all=settings.attach_all)
    config.pluginmanager.register(hooks, HOOKS_NAME)
    allure_commons.plugin_manager.register(hooks)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(hooks))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Labels and section links as allure markers (before allure-pytest selects by label)."""
    if not config.pluginmanager.hasplugin(ALLURE_PLUGIN):
        return
    from allure_pytest.utils import ALLURE_LABEL_MARK, ALLURE_LINK_MARK, format_allure_link

    label_mark = getattr(pytest.mark, ALLURE_LABEL_MARK)
    link_mark = getattr(pytest.mark, ALLURE_LINK_MARK)
    patterns = dict(getattr(config.option, "allure_link_pattern", None) or [])
    for item in items:
        if not item.stash.get(SUITE_ITEM_KEY, False):
            continue
        ids = [rid for mark in item.iter_markers("requirement") for rid in mark.args]
        labels = labels_for(ids)
        for name, value in labels.pairs():
            item.add_marker(label_mark(value, label_type=name))
        for link in labels.links:
            url = (
                format_allure_link(config, link.key, LINK_TYPE)
                if LINK_TYPE in patterns
                else link.default_url
            )
            item.add_marker(link_mark(url, link_type=LINK_TYPE, name=link.name))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """``categories.json`` and ``environment.properties`` (by the controller, not a worker)."""
    config = session.config
    settings = config.stash.get(SETTINGS_KEY, None)
    runtime = config.stash.get(RUNTIME_KEY, None)
    if settings is None or settings.results_dir is None or runtime is None:
        return
    if hasattr(config, "workerinput") or not settings.results_dir.is_dir():
        return
    from conformance import __version__

    (settings.results_dir / "categories.json").write_text(
        json.dumps(categories_json(), indent=2) + "\n", encoding="utf-8"
    )
    values = environment_values(
        version=__version__,
        settings=runtime.settings,
        fingerprints=fingerprints(config),
        seed=getattr(config.option, "hypothesis_seed", None),
    )
    masked = {key: runtime.redact(value) for key, value in values.items()}  # a path may hold one
    (settings.results_dir / "environment.properties").write_text(
        render_properties(masked), encoding="ascii"
    )


# -- each finished test ----------------------------------------------------------------------
def finished_test(
    verdict: Verdict, message: str | None, reason: str | None, evidence: Evidence
) -> FinishedTest:
    """The record of a finished test that ``apply_verdict`` reads (its evidence as it ended)."""
    if not evidence.count:
        return FinishedTest(verdict, message, reason)
    notes, unlisted = evidence.notes()
    return FinishedTest(
        verdict,
        message,
        reason,
        count=evidence.count,
        first_kept=evidence.first_kept,
        exchanges=tuple(evidence.exchanges),
        notes=tuple(notes),
        unlisted=unlisted,
        older_unlisted=evidence.unlisted.copy(),
    )


class AllureResultHooks:
    """pytest hooks that note how a test ended, and the allure-commons hook that applies it.

    allure-pytest reports a test (``report_result``) right after its teardown report, before
    the next test starts; ``_finished`` carries the note across and is dropped at the next
    test's start, so a note can never land on another test's result.
    """

    def __init__(self, runtime: SessionRuntime, *, attach_all: bool = False) -> None:
        self.runtime = runtime
        self.attach_all = attach_all
        self._reason: str | None = None
        self._not_applicable: str | None = None
        self._finished: FinishedTest | None = None

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._reason = None
        self._not_applicable = None
        self._finished = None

    @pytest.hookimpl(trylast=True)  # after the JUnit hook has put the verdict on the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if verdict_of(report) is Verdict.NOT_APPLICABLE:
            longrepr = report.longrepr
            self._reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
            name = getattr(report, NOT_APPLICABLE_REASON_ATTR, None)
            self._not_applicable = None if name is None else NotApplicableReason[name].value
        if report.when != "teardown":
            return
        properties = dict(report.user_properties)
        label = properties.get(VERDICT_LABEL)
        if label is None:
            return
        verdict = Verdict(label)
        message = properties.get("warning") if verdict is Verdict.WARNING else self._reason
        if verdict is Verdict.FLAKY:
            message = flaky_message(attempts_of(report))
        if message is not None:  # the warning line starts with the test's ID: Allure shows it
            message = str(message).removeprefix(f"{report.nodeid}: ")
        self._finished = finished_test(
            verdict,
            None if message is None else str(message),
            self._not_applicable,
            self.runtime.evidence or Evidence(),
        )

    def attempt_ended(self, verdict: Verdict) -> None:
        """An earlier attempt of a re-run test ended with ``verdict``: its result is next."""
        evidence = self.runtime.evidence or Evidence()
        self._finished = finished_test(verdict, None, None, evidence)

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        finished, self._finished = self._finished, None
        if finished is not None:
            apply_verdict(result, finished, self.runtime.redact, attach_all=self.attach_all)


def close_attempt(item: pytest.Item, verdict: Verdict) -> None:
    """Write an earlier attempt of a re-run test (``conformance.plugin.reruns``) as an Allure
    result of its own, now, with its verdict and its exchanges.

    allure-pytest writes a test's result when it is logged as finished; an earlier attempt is
    never logged to pytest (the console and JUnit count a test once), so only allure-pytest's
    listener is told that it finished. The next attempt then starts a new result of the same
    test: the same ``historyId``, which Allure shows as the retries of the last attempt.
    """
    manager = item.config.pluginmanager
    hooks = manager.get_plugin(HOOKS_NAME)
    listener = manager.get_plugin(ALLURE_LISTENER)
    if listener is None:
        return
    if isinstance(hooks, AllureResultHooks):
        hooks.attempt_ended(verdict)
    others = [plugin for plugin in manager.get_plugins() if plugin is not listener]
    finished = manager.subset_hook_caller("pytest_runtest_logfinish", others)
    finished(nodeid=item.nodeid, location=item.location)
