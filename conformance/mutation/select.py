"""A small pytest plugin for the mutation matrix: select by requirement, stop at a kill, say why.

Loaded with ``-p conformance.mutation.select`` next to the openmedia plugin; it adds nothing to
a run that does not use its options:

- ``--om-only-requirement ID``: deselect every test whose ``requirement`` marker does not cite ID,
  and run the rest most specific first (fewest cited requirements), so that a test about ID
  fails before a broad one (the lifecycle machine cites dozens) fails on something else;
- ``--om-stop-on-requirement ID``: end the session at the first failure whose
  ``ConformanceFailure`` names ID (a ``WIRE-*`` check fails inside any test, so the marker alone
  would miss it); a failure that cites ID only by its marker does not stop the run, in case a
  later test fails on ID itself;
- ``--om-mutation-json FILE``: write what happened as JSON: every collected test with the
  requirements it cites and the fixtures it uses, and every failure with its marker
  requirements, the requirement of its ``ConformanceFailure`` (if any) and the first line of the
  message; every test that was *not applicable*, with its reason, and how long each test took.
  The matrix reads this instead of parsing pytest's output.

Why a plugin and not ``-k``/``-m``: requirement IDs are marker *arguments*, which neither can
select on, and a kill is defined by what a failure cites, which only a hook can see.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.options import add_mutation_options, mutation_values
from conformance.verdicts import ConformanceFailure, Verdict

_MESSAGE_LIMIT = 400


def pytest_addoption(parser: pytest.Parser) -> None:
    add_mutation_options(parser)


def cited(item: pytest.Item) -> list[str]:
    """The requirement IDs a test's ``requirement`` markers cite, in order, once each."""
    ids = [arg for mark in item.iter_markers("requirement") for arg in mark.args]
    return list(dict.fromkeys(str(rid) for rid in ids))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = mutation_values(config).only_requirement
    if not wanted:
        return
    keep = [item for item in items if wanted in cited(item)]
    dropped = [item for item in items if wanted not in cited(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = sorted(keep, key=lambda item: len(cited(item)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and call.excinfo is not None:
        exc = call.excinfo.value
        # The plugin's verdicts: an AssertionError is a fail, anything else (SuiteError, a
        # precondition the target did not meet) an error, which kills no defect.
        verdict = Verdict.FAIL if isinstance(exc, AssertionError) else Verdict.ERROR
        report.user_properties.append(("failure_verdict", verdict.value))
        if isinstance(exc, ConformanceFailure):
            report.user_properties.append(("failure_requirement", exc.requirement))
            text = exc.describe()
        else:
            text = call.excinfo.exconly()
        report.user_properties.append(("failure_message", text[:_MESSAGE_LIMIT]))
    return report


class _Recorder:
    """Collects tests and failures for ``--om-mutation-json`` and stops on a cited failure."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        values = mutation_values(config)
        self.stop_on: str | None = values.stop_on_requirement
        self.output: str | None = values.mutation_json
        self.collected: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.not_applicable: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self._cites: dict[str, list[str]] = {}
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            ids = cited(item)
            self._cites[item.nodeid] = ids
            fixtures = list(getattr(item, "fixturenames", ()))
            self.collected.append(
                {
                    "nodeid": item.nodeid,
                    "path": str(item.path),
                    "requirements": ids,
                    "fixtures": fixtures,
                }
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = report.outcome
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.skipped:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
            self.not_applicable[report.nodeid] = reason.removeprefix("Skipped: ")
        if report.when != "call" and outcome == "passed":
            return
        key = f"{report.when}:{outcome}" if report.when != "call" else outcome
        self.counts[key] = self.counts.get(key, 0) + 1
        if not report.failed:
            return
        failure_requirement = next(
            (v for k, v in report.user_properties if k == "failure_requirement"), None
        )
        requirements = self._cites.get(report.nodeid, [])
        message = next((v for k, v in report.user_properties if k == "failure_message"), "")
        verdict = next(
            (v for k, v in report.user_properties if k == "failure_verdict"), Verdict.ERROR.value
        )
        self.failures.append(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "requirements": requirements,
                "failure_requirement": failure_requirement,
                "verdict": verdict,
                "message": message or str(report.longrepr or "")[-_MESSAGE_LIMIT:],
            }
        )
        if self.stop_on and self.session is not None and failure_requirement == self.stop_on:
            self.session.shouldstop = f"mutation: a failure cites {self.stop_on}"

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.output:
            return
        payload = {
            "exitstatus": int(exitstatus),
            "collected": self.collected,
            "counts": self.counts,
            "failures": self.failures,
            "not_applicable": self.not_applicable,
            "durations": {k: round(v, 3) for k, v in self.durations.items()},
        }
        Path(self.output).write_text(json.dumps(payload, indent=1), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    values = mutation_values(config)
    if values.stop_on_requirement or values.mutation_json:
        config.pluginmanager.register(_Recorder(config), "openmedia-mutation-recorder")


LIFECYCLE_MODULE = "conformance.suite.test_lifecycle"


def pytest_collection_finish(session: pytest.Session) -> None:
    # After collection, so that a run whose tests do not use Hypothesis never imports it.
    if mutation_values(session.config).stop_on_requirement and "hypothesis" in sys.modules:
        _no_shrinking()


def _no_shrinking() -> None:
    """A mutation run needs the first failure, not the smallest: Hypothesis skips shrinking
    (on a stateful machine that is most of a failing run's time) and keeps no database. It is
    derandomized, so the matrix gives the same verdict on the same code every time: a defect
    that only a lucky draw kills shows as a survivor at once, not as a flaky CI run."""
    from hypothesis import Phase, settings

    first_failure = {
        "phases": (Phase.explicit, Phase.generate),
        "database": None,
        "derandomize": True,
    }
    # whatever profile is in force, minus shrinking
    settings.register_profile("openmedia-mutation", parent=settings(), **first_failure)
    settings.load_profile("openmedia-mutation")
    # The lifecycle state machine runs under a profile of its own (its size): the same there.
    lifecycle = getattr(sys.modules.get(LIFECYCLE_MODULE), "PROFILE", None)
    if isinstance(lifecycle, str):
        parent = settings.get_profile(lifecycle)
        settings.register_profile(lifecycle, parent=parent, **first_failure)
