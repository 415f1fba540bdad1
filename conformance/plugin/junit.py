"""JUnit XML (``--junitxml``): each suite test case carries its verdict as a property.

pytest writes a test case's properties from its teardown report's ``user_properties``. The
plugin already records ``requirements`` (the cited IDs, space-separated) at collection; this
hook adds ``verdict`` (pass, fail, warning, not applicable, error; ``baseline`` for a failure
the expected-failure baseline lists) once the test is over, so a CI system that reads JUnit
tells a warning (a passed test case) and a not-applicable test (a skipped one) from a pass and a
plain skip; a not-applicable test also carries ``reason``, the wording of its
``NotApplicableReason`` (``safe mode``, ``no control plane``, ...). Properties go into the XML
in every junit family (pytest warns only about its ``record_property`` fixture under xunit2,
which is not used here).

The verdicts are read from the reports as they are logged (every report hook has had its say
by then, the baseline's included), first among the ``pytest_runtest_logreport`` hooks so that
pytest's JUnit writer sees the property; under xdist the controller does the same again.

Once pytest has written the file, ``conformance.reporting.junit_properties`` turns a suite
*error* written as ``<failure>`` into ``<error>``, and the earlier attempts of a re-run test
(``--om-reruns``) into Surefire's ``<flakyFailure>`` / ``<rerunFailure>`` elements.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.plugin.runtime import NOT_APPLICABLE_REASON_ATTR, verdict_of
from conformance.reporting.attempts import attempts_of
from conformance.reporting.categories import final_verdict
from conformance.reporting.junit_properties import (
    attempts_as_elements,
    errors_as_errors,
    verdict_properties,
)
from conformance.verdicts import NotApplicableReason, Verdict


class VerdictProperty:
    """Collects each test's phase verdicts; adds the final one to its teardown report."""

    def __init__(self) -> None:
        self.phases: dict[str, list[Verdict]] = {}
        self.reasons: dict[str, NotApplicableReason] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        verdict = verdict_of(report)
        if verdict is not None:
            self.phases.setdefault(report.nodeid, []).append(verdict)
        reason = getattr(report, NOT_APPLICABLE_REASON_ATTR, None)
        if reason is not None:
            self.reasons[report.nodeid] = NotApplicableReason[reason]
        if report.when != "teardown":
            return
        final = final_verdict(self.phases.pop(report.nodeid, []))
        reason = self.reasons.pop(report.nodeid, None)
        if final is not None:
            added = verdict_properties(final, reason, attempts_of(report))
            names = {name for name, _ in added}
            kept = [(k, v) for k, v in report.user_properties if k not in names]
            report.user_properties = [*kept, *added]


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(VerdictProperty(), "openmedia-junit-verdict")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After pytest's JUnit writer (the controller's, under xdist) has written the file."""
    logfile = getattr(session.config.option, "xmlpath", None)
    if not logfile or hasattr(session.config, "workerinput"):
        return
    path = Path(os.path.abspath(logfile))
    if path.is_file():
        errors_as_errors(path)
        attempts_as_elements(path)
