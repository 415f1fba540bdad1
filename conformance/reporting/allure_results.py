"""Allure results of a suite run, by default in ``reports/allure-results`` (pytest plugin).

A suite run (one that collects from ``conformance/suite`` or an ``openmedia_suite_dirs``
folder) writes Allure results without being asked: the folder is emptied when the session
starts, and allure-pytest's listener is switched on by setting its ``--alluredir`` when the user
gave none. ``--alluredir DIR`` writes elsewhere (and is not emptied: allure-pytest's own
``--clean-alluredir`` does that); ``--om-no-allure`` writes nothing. Runs of the mutation matrix and
``--collect-only`` runs write nothing by default: they are many runs, or no run, of the suite.

Tests contain no reporting calls. What this plugin adds to allure-pytest's results:

* labels from the catalogue (``conformance.reporting.labels``): epic, feature, story,
  severity, and a link to the section, put on each suite test as allure markers at collection
  (so allure-pytest's ``--allure-features`` and friends select by them too);
* the verdict: a ``verdict`` label, and the Allure status that is the verdict's own
  (``conformance.reporting.categories``: a warning is ``unknown``, never ``passed``);
* the evidence (``conformance.reporting.attachments``): a test that did not pass gets the
  request and response of every exchange it made, a passed one a compact record of them (one
  line each), and ``--om-attach-all-exchanges`` gives every test the full exchanges; passwords
  redacted, in the failure message too;
* a not-applicable test's reason (``NotApplicableReason``) as a ``tag``;
* ``categories.json`` and ``environment.properties`` when the session ends.

The verdict, the attachments and the status are applied when allure-pytest reports the finished
test (allure-commons' ``report_result`` hook, ahead of its file writer), so the result file is
written once and complete. It also loads the fingerprint and JUnit-property plugins.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure_commons
import pytest
from allure_commons.model2 import Attachment, Label, StatusDetails, TestStepResult

from conformance.plugin.node_ids import SUITE_DIR, collects_from
from conformance.plugin.options import option_values
from conformance.plugin.runtime import (
    NOT_APPLICABLE_REASON_ATTR,
    RUNTIME_KEY,
    SUITE_ITEM_KEY,
    VERDICT_ATTR,
    Evidence,
    SessionRuntime,
)
from conformance.reporting.categories import (
    MESSAGE_PREFIX,
    STATUS_BY_VERDICT,
    VERDICT_LABEL,
    categories_json,
    status_message,
)
from conformance.reporting.environment import environment_values, render_properties
from conformance.reporting.labels import LINK_TYPE, labels_for
from conformance.verdicts import NotApplicableReason

DEFAULT_RESULTS_DIR = Path("reports") / "allure-results"
ALLURE_PLUGIN = "allure_pytest"
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
def targets_suite(config: pytest.Config) -> bool:
    """True when the run collects from a suite folder (or from a folder holding one)."""
    suite_dirs = [SUITE_DIR, *(Path(p).resolve() for p in config.getini("openmedia_suite_dirs"))]
    return collects_from(
        config.args, config.invocation_params.dir, bool(config.option.pyargs), suite_dirs
    )


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


def fresh_results_dir(results_dir: Path) -> None:
    """An empty ``results_dir`` for this run, as a *new* directory; subfolders (an Allure
    ``history``) are kept.

    Emptying the old directory file by file is not enough: a directory keeps the size its most
    crowded day gave it (ext4 never shrinks one), and creating some 20,000 result files in a
    directory that held them before cost about twice the time of a new one (and ~20 s of system
    CPU under ``-n 2``, measured on this project's CI machine kind).
    """
    results_dir.parent.mkdir(parents=True, exist_ok=True)
    if not results_dir.exists():
        results_dir.mkdir()
        return
    old = results_dir.with_name(f".{results_dir.name}-old-{os.getpid()}")
    results_dir.rename(old)
    results_dir.mkdir()
    for entry in old.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            entry.rename(results_dir / entry.name)
    shutil.rmtree(old, ignore_errors=True)


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
    config.pluginmanager.register(hooks, "openmedia-allure")
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
    from conformance.reporting.fingerprint import fingerprints  # a plugin: not imported early

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
@dataclass(frozen=True)
class _Finished:
    """A suite test as it ended: its verdict, the message for it, its evidence, and why it was
    not applicable (the reason's wording), if it was."""

    verdict: str
    message: str | None
    evidence: Evidence
    reason: str | None = None

    @property
    def exchanges(self) -> tuple[Any, ...]:
        return tuple(self.evidence.exchanges)


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
        self._finished: _Finished | None = None

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._reason = None
        self._not_applicable = None
        self._finished = None

    @pytest.hookimpl(trylast=True)  # after the JUnit hook has put the verdict on the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, VERDICT_ATTR, None) == "not applicable":
            longrepr = report.longrepr
            self._reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
            name = getattr(report, NOT_APPLICABLE_REASON_ATTR, None)
            self._not_applicable = None if name is None else NotApplicableReason[name].value
        if report.when != "teardown":
            return
        properties = dict(report.user_properties)
        verdict = properties.get(VERDICT_LABEL)
        if verdict is None:
            return
        message = properties.get("warning") if verdict == "warning" else self._reason
        if message is not None:  # the warning line starts with the test's ID: Allure shows it
            message = str(message).removeprefix(f"{report.nodeid}: ")
        self._finished = _Finished(
            str(verdict),
            None if message is None else str(message),
            self.runtime.evidence or Evidence(),
            self._not_applicable,
        )

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        finished, self._finished = self._finished, None
        if finished is None:
            return
        result.labels.append(Label(name=VERDICT_LABEL, value=finished.verdict))
        if finished.reason is not None:
            result.labels.append(Label(name="tag", value=finished.reason))
        status = STATUS_BY_VERDICT.get(finished.verdict)
        if status is not None:
            result.status = status
        details = result.statusDetails or StatusDetails()
        message = finished.message if finished.message is not None else details.message
        if message is not None and finished.verdict in MESSAGE_PREFIX:
            details.message = status_message(finished.verdict, message)
        if finished.verdict == "not applicable":
            details.trace = None
        details.message = self._redact(details.message, finished.exchanges)
        details.trace = self._redact(details.trace, finished.exchanges)
        result.statusDetails = details if (details.message or details.trace) else None
        if finished.verdict == "warning" and details.message:
            # Allure 3 shows no status message for "unknown": say it as a step of the test too
            result.steps.append(
                TestStepResult(
                    name=details.message.splitlines()[0],
                    status=status,
                    statusDetails=StatusDetails(message=details.message),
                    start=result.stop,
                    stop=result.stop,
                )
            )
        self._attach(result, finished)

    def _redact(self, text: str | None, exchanges: tuple[Any, ...]) -> str | None:
        if not text:
            return text
        for exchange in exchanges:
            text = exchange.redact_text(text)
        return self.runtime.redact(text)

    def _attach(self, result: Any, finished: _Finished) -> None:
        """Full exchanges for a test that did not pass (or all, for an audit); else the
        compact record. Either way a note of the older exchanges not kept whole."""
        from conformance.reporting.attachments import compact_record, exchange_attachments

        evidence = finished.evidence
        if not evidence.count:
            return
        notes, unlisted = evidence.notes()
        if finished.verdict == "pass" and not self.attach_all:
            attached = [compact_record(notes, unlisted, self.runtime.redact)]
        else:
            first = evidence.first_kept
            attached = exchange_attachments(evidence.exchanges, self.runtime.redact, first=first)
            if first > 1:  # the older exchanges left only their notes (bounded memory)
                older = [n for n in notes if n.number < first]
                name = f"exchanges 1-{first - 1} (not kept whole: compact record)"
                record = compact_record(older, evidence.unlisted, self.runtime.redact, name=name)
                attached.insert(0, record)
        for data in attached:
            file_name = f"{uuid.uuid4()}-attachment.{data.extension}"
            allure_commons.plugin_manager.hook.report_attached_data(
                body=data.body, file_name=file_name
            )
            result.attachments.append(Attachment(name=data.name, source=file_name, type=data.mime))
