"""The pytest plugin (entry point ``pytest11: openmedia``): settings, markers, verdicts.

Thin on purpose: every hook delegates. The options (``conformance.plugin.options``) are resolved
once, here, into the frozen ``RunSettings`` in ``config.stash``; fixtures live in
``conformance.plugin.fixtures``; the session's mutable state in ``conformance.plugin.runtime``.

Verdicts (``docs/architecture.md``) and the exit status they give:

* *pass*; *warning*: a ``ConformanceFailure`` of a SHOULD/OPEN requirement, reported as passed
  with a ``ConformanceWarning`` and a line in the summary (under ``--om-strict`` it fails);
* *not applicable*: ``NotApplicable``, reported as skipped, reason ``not applicable: ...``;
* *fail*: a ``ConformanceFailure`` of a MUST requirement (or any assertion);
* *error*: ``SuiteError``/``TransportError`` or any other exception: the suite could not test.

Exit status (``conformance.plugin.exit_status``): 0 no fail and no error; 1 the target failed a
requirement; 2 usage error (bad option or profile); 3 suite or environment error only
(unreachable target, collection error, interrupted run). The mapping applies only to suite
tests (under ``conformance/suite``, the ``openmedia_suite_dirs`` ini paths, or carrying a
``requirement`` marker), so the plugin leaves unrelated pytest runs alone.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.exit_status import ExitStatus
from conformance.plugin.node_ids import SUITE_DIR
from conformance.plugin.options import add_suite_options, option_values
from conformance.plugin.run_ids import check_turns_possible
from conformance.plugin.runtime import (
    RUNTIME_KEY,
    SETTINGS_KEY,
    SUITE_ITEM_KEY,
    ConformanceWarning,
    SessionRuntime,
    set_verdict,
)
from conformance.plugin.settings import RunSettings, build_settings
from conformance.profile import CONTROL_FEATURES
from conformance.profile.session import OptionsSent
from conformance.verdicts import UsageError, Verdict

__all__ = ["ConformanceWarning"]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_suite_options(parser)


def _check_sharing(settings: RunSettings, workers: object) -> None:
    """``-n`` against one external target: the workers take turns (``conformance.plugin.run_ids``),
    which needs POSIX file locks; with a control plane outside safe mode every test resets
    that one server, so parallel workers would wipe each other's requests mid-test."""
    if not workers or workers == 1 or settings.embedded:
        return
    check_turns_possible()
    if settings.control_url is None or settings.profile.target.safe_mode:
        return  # safe mode changes nothing through the control plane
    raise UsageError(
        f"-n {workers} with the control plane {settings.control_url}: every test resets that "
        "one server, so parallel workers would undo each other; run without -n (or without "
        "--om-control-url, on the observable profile)"
    )


# -- configuration -----------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requirement(*ids): the catalogue requirement IDs (schemas/requirements.toml) this test "
        "checks; an unknown ID is a collection error",
    )
    config.addinivalue_line(
        "markers",
        "requires_control(*features): not applicable unless the target's control plane offers "
        "every named feature (scenario, agents, router, license, restart, clock, statistics)",
    )
    config.addinivalue_line(
        "markers",
        'sets_options("own" | "in-force"): the test sends SetOptions, with values of its own or '
        "only the profile's values in force; in safe mode not applicable unless the profile's "
        "[[overwrite_server_options]] allows it",
    )
    config.addinivalue_line(
        "markers",
        "alone: the test judges a queue or counters other tests change (QueuePositions, "
        "/statistics); with -n against one shared target it runs while no other test does",
    )
    if config.getoption("help", False):
        return
    try:
        settings = build_settings(option_values(config), os.environ)
        _check_sharing(settings, config.getoption("numprocesses", None))
    except UsageError as exc:
        pytest.exit(f"openmedia usage error: {exc}", returncode=int(ExitStatus.USAGE_ERROR))
    runtime = SessionRuntime(settings)
    config.stash[SETTINGS_KEY] = settings
    config.stash[RUNTIME_KEY] = runtime


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash.get(SETTINGS_KEY, None)
    return settings.header_lines() if settings is not None else []


# -- collection: requirement markers ----------------------------------------------------------
def _suite_dirs(config: pytest.Config) -> list[Path]:
    extra = [Path(p).resolve() for p in config.getini("openmedia_suite_dirs")]
    return [SUITE_DIR, *extra]


def _in_suite_dirs(path: Path, config: pytest.Config) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(d) for d in _suite_dirs(config))


def _marker_problems(item: pytest.Item) -> list[str]:
    from conformance.contract.catalogue import CATALOGUE

    ids = [arg for mark in item.iter_markers("requirement") for arg in mark.args]
    problems = []
    in_suite = _in_suite_dirs(item.path, item.config)
    if in_suite and not ids:
        problems.append(
            f"{item.nodeid}: cites no requirement; every suite test carries "
            '@pytest.mark.requirement("ID", ...) with IDs from schemas/requirements.toml'
        )
    known = [r.id for r in CATALOGUE.requirements]
    for rid in ids:
        if not isinstance(rid, str) or rid not in CATALOGUE:
            close = difflib.get_close_matches(str(rid), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{item.nodeid}: unknown requirement ID {rid!r} in @pytest.mark.requirement; "
                f"it is not in schemas/requirements.toml{hint}"
            )
    for mark in item.iter_markers("requires_control"):
        for feature in mark.args:
            if feature not in CONTROL_FEATURES:
                problems.append(
                    f"{item.nodeid}: requires_control({feature!r}) names no control feature; "
                    f"use {', '.join(CONTROL_FEATURES)}"
                )
    for mark in item.iter_markers("sets_options"):
        if [str(a) for a in mark.args] not in ([], *([s.value] for s in OptionsSent)):
            problems.append(
                f"{item.nodeid}: sets_options{mark.args!r} takes one of "
                f"{', '.join(repr(s.value) for s in OptionsSent)}"
            )
    if not problems and (in_suite or ids):
        item.stash[SUITE_ITEM_KEY] = True
        runtime = item.config.stash.get(RUNTIME_KEY, None)
        if runtime is not None:
            runtime.tally.suite_seen = True
        item.user_properties.append(("requirements", " ".join(dict.fromkeys(ids))))
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Turn a module whose tests cite unknown (or no) requirements into a collection error."""
    report = yield
    if report.failed and _in_suite_dirs(collector.path, collector.config):
        set_verdict(report, Verdict.ERROR)  # a suite module that does not import: suite error
    if report.passed and report.result:
        items = [node for node in report.result if isinstance(node, pytest.Item)]
        problems = [problem for item in items for problem in _marker_problems(item)]
        if problems:
            report.outcome = "failed"
            report.longrepr = "openmedia: " + "\nopenmedia: ".join(problems)
            report.result = []
            set_verdict(report, Verdict.ERROR)
    return report
