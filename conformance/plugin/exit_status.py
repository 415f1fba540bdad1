"""The suite's exit statuses: what a finished (or stopped) run tells the shell, decided once.

====  ======================================================================================
0     every test passed (warnings, flaky and not-applicable tests included)
1     the target failed at least one requirement; or an ``--om-baseline`` entry is stale (the
      failure it lists no longer happens) or expired; or, under ``--om-strict``, a test was
      flaky (failed, then passed on a re-run)
2     usage error: a wrong option, a broken profile, or nothing selected; or the pre-flight
      found the credentials refused or the profile not matching the server
3     suite or environment error only: unreachable target or no Open Media service there (the
      pre-flight), collection error, interrupted
====  ======================================================================================

:func:`exit_status` is the whole policy: a pure function from the run's facts (``RunFacts``) to
the status. Facts come from two places, each handing them to this function and deciding nothing
itself:

* the session's end (``conformance.plugin.verdict_hooks``, the plugin's only
  ``pytest_sessionfinish`` that sets a status): the verdict tally (fails, errors, whether suite
  tests were seen), the baseline's outcome, and pytest's own code for the session (interrupted,
  nothing collected, ...). This is what a plain ``pytest`` run ends with.
* ``openmedia-conformance run`` (``conformance.cli.run``), once pytest has returned: pytest's
  final code, which is the session's status above or, for a run stopped before any session (the
  plugin's usage error and the pre-flight's stop at configure, both ``pytest.exit`` with their
  status; pytest's own usage error), that stop's code; and whether a Ctrl-C came before the
  session. It asks for the documented statuses (``documented=True``): pytest's 4 and 5 become 2.
* safe mode's cleanup (``conformance.plugin.safe_mode``), which runs after the session's
  decision: whether it was abandoned (``after_cleanup``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import pytest


class ExitStatus(IntEnum):
    """The documented exit statuses of a suite run (the table above)."""

    PASSED = 0
    TARGET_FAILED = 1
    USAGE_ERROR = 2
    SUITE_ERROR = 3


_EXIT_CODES: dict[int, ExitStatus] = {
    pytest.ExitCode.OK: ExitStatus.PASSED,
    pytest.ExitCode.TESTS_FAILED: ExitStatus.TARGET_FAILED,
    pytest.ExitCode.INTERRUPTED: ExitStatus.USAGE_ERROR,
    pytest.ExitCode.INTERNAL_ERROR: ExitStatus.SUITE_ERROR,
    pytest.ExitCode.USAGE_ERROR: ExitStatus.USAGE_ERROR,
    pytest.ExitCode.NO_TESTS_COLLECTED: ExitStatus.USAGE_ERROR,
}
"""pytest's exit code -> ours. 2 is the plugin's usage error (``pytest.exit`` at configure; a
Ctrl-C before the session also ends with 2: ``RunFacts.interrupted`` tells them apart); 3 is
the plugin's suite error or pytest's internal error; pytest's own usage error (4, e.g. an
unknown option) and "no tests collected" (5, e.g. a -k that selects nothing) are usage errors.
An interrupted session never ends with 2: the session's facts make it 3 (or 1)."""


@dataclass(frozen=True)
class SessionFacts:
    """What the plugin knows when a session ends (``conformance.plugin.runtime.Tally``)."""

    suite_seen: bool
    """A suite test was collected (or a suite module failed to): the plugin's statuses apply."""
    failures: int = 0
    """Failed reports that are no suite error: a *fail*, or a failure of a non-suite test."""
    errors: int = 0
    """Suite errors: an *error* verdict, a suite module that could not be collected."""
    stale_baseline: bool = False
    """An ``--om-baseline`` entry is stale or expired (``reporting.baseline.Outcome.fails_run``)."""
    flaky: int = 0
    """Tests that failed, then passed on a re-run (``--om-reruns``): no failure..."""
    strict: bool = False
    """...unless ``--om-strict``: then each is one, as a SHOULD not met is."""

    @property
    def target_failures(self) -> int:
        """The failures that make the run's status 1 (before the baseline's say)."""
        return self.failures + (self.flaky if self.strict else 0)


@dataclass(frozen=True)
class RunFacts:
    """Everything the exit status depends on."""

    pytest_status: int
    """pytest's exit code: the session's (``pytest.ExitCode``), or what a stop before the
    session gave ``pytest.exit`` (the plugin's usage error 2; the pre-flight's 2 or 3)."""
    session: SessionFacts | None = None
    """The session's facts, when the caller is the session's end; ``None`` for a code the
    session (if any) has already decided."""
    interrupted: bool = False
    """A Ctrl-C before the session (pytest then ends with 2, as for a usage error)."""
    documented: bool = False
    """Give the documented status (``openmedia-conformance run``), not pytest's own codes."""


def exit_status(facts: RunFacts) -> int:
    """The exit status the run ends with (the table above; see ``RunFacts``).

    Without ``documented`` a code the suite does not decide (pytest's 4 and 5) is kept, so a
    plain ``pytest`` run keeps pytest's meaning of them; and a run whose facts say nothing
    about suite tests keeps pytest's code as it is.
    """
    status = int(facts.pytest_status)
    if facts.session is not None:
        status = int(_session_status(status, facts.session))
    if not facts.documented:
        return status
    documented = _EXIT_CODES.get(status, ExitStatus.SUITE_ERROR)
    if facts.interrupted and documented is ExitStatus.USAGE_ERROR:
        documented = ExitStatus.SUITE_ERROR
    return int(documented)


def _session_status(status: int, facts: SessionFacts) -> int:
    if status == pytest.ExitCode.INTERRUPTED and not facts.target_failures:
        status = ExitStatus.SUITE_ERROR  # also when stopped before a suite test reported
    elif facts.suite_seen and status in (0, 1, 2):
        if facts.target_failures:
            status = ExitStatus.TARGET_FAILED
        elif facts.errors:
            status = ExitStatus.SUITE_ERROR
    stale = facts.suite_seen and facts.stale_baseline
    if stale and status in (ExitStatus.PASSED, ExitStatus.SUITE_ERROR):
        status = ExitStatus.TARGET_FAILED
    return status


def after_cleanup(status: int, *, abandoned: bool) -> int:
    """The status once safe mode's cleanup has run: it runs after the session's decision (the
    main process's last hook, once xdist has stopped its workers), and a cleanup abandoned with
    the third Ctrl-C did not finish the run's job: a passing run is then interrupted (3)."""
    if abandoned and status == ExitStatus.PASSED:
        return int(ExitStatus.SUITE_ERROR)
    return status


def translate_exit_code(code: int) -> int:
    """The documented exit status for a pytest exit code (anything unknown: 3)."""
    return exit_status(RunFacts(code, documented=True))
