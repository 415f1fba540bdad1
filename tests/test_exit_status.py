"""The exit-status policy on its own: every fact that moves the status, straight from the table."""

from __future__ import annotations

import pytest

from conformance.plugin.exit_status import (
    ExitStatus,
    RunFacts,
    SessionFacts,
    after_cleanup,
    exit_status,
    translate_exit_code,
)

OK, FAILED, INTERRUPTED = (
    pytest.ExitCode.OK,
    pytest.ExitCode.TESTS_FAILED,
    pytest.ExitCode.INTERRUPTED,
)
INTERNAL, USAGE = pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR
NONE = pytest.ExitCode.NO_TESTS_COLLECTED
SUITE = SessionFacts(suite_seen=True)


@pytest.mark.parametrize(
    ("pytest_status", "session", "status"),
    [
        (OK, SUITE, 0),  # every test passed (warnings and not applicable included)
        (FAILED, SessionFacts(True, failures=1), 1),  # the target failed a requirement
        (FAILED, SessionFacts(True, failures=2, errors=3), 1),  # a fail outweighs an error
        (FAILED, SessionFacts(True, errors=1), 3),  # errors only: the suite could not test
        (INTERRUPTED, SUITE, 3),  # interrupted
        (INTERRUPTED, SessionFacts(False), 3),  # interrupted before a suite test reported
        (INTERRUPTED, SessionFacts(True, failures=1), 1),  # a fail found before the stop
        (OK, SessionFacts(True, stale_baseline=True), 1),  # a stale or expired entry
        (FAILED, SessionFacts(True, errors=1, stale_baseline=True), 1),
        (OK, SessionFacts(False, stale_baseline=True), 0),  # no suite test: no baseline
        (FAILED, SessionFacts(False, failures=1), 1),  # no suite test: pytest's own code
        (OK, SessionFacts(True, flaky=2), 0),  # flaky: failed, then passed on a re-run
        (OK, SessionFacts(True, flaky=1, strict=True), 1),  # ...a failure under --om-strict
        (FAILED, SessionFacts(True, errors=1, flaky=1), 3),  # an error, and a flaky pass
        (FAILED, SessionFacts(True, errors=1, flaky=1, strict=True), 1),  # strict: outweighs
        (INTERRUPTED, SessionFacts(True, flaky=1), 3),  # interrupted after a flaky test
        (INTERRUPTED, SessionFacts(True, flaky=1, strict=True), 1),
        (OK, SessionFacts(True, strict=True), 0),  # strict alone changes nothing
        (NONE, SUITE, 5),  # nothing selected: pytest's code, until the command documents it
        (USAGE, SUITE, 4),
        (INTERNAL, SUITE, 3),
    ],
)
def test_the_session_facts_decide_the_status(
    pytest_status: int, session: SessionFacts, status: int
) -> None:
    assert exit_status(RunFacts(pytest_status, session=session)) == status


@pytest.mark.parametrize(
    ("pytest_status", "interrupted", "status"),
    [
        (OK, False, ExitStatus.PASSED),
        (FAILED, False, ExitStatus.TARGET_FAILED),
        (2, False, ExitStatus.USAGE_ERROR),  # the plugin's usage error or pre-flight stop
        (2, True, ExitStatus.SUITE_ERROR),  # a Ctrl-C while pytest configured
        (3, False, ExitStatus.SUITE_ERROR),  # suite error, pre-flight's "not the service"
        (3, True, ExitStatus.SUITE_ERROR),
        (1, True, ExitStatus.TARGET_FAILED),
        (USAGE, False, ExitStatus.USAGE_ERROR),  # pytest's own usage error
        (NONE, False, ExitStatus.USAGE_ERROR),  # nothing collected
        (99, False, ExitStatus.SUITE_ERROR),  # anything unknown
    ],
)
def test_the_command_documents_pytests_code(
    pytest_status: int, interrupted: bool, status: ExitStatus
) -> None:
    facts = RunFacts(pytest_status, interrupted=interrupted, documented=True)
    assert exit_status(facts) == status
    if not interrupted:
        assert translate_exit_code(pytest_status) == status


@pytest.mark.parametrize("decided", [0, 1, 3])
def test_a_decided_status_is_kept_by_the_command(decided: int) -> None:
    """The command reads the status the session's end decided: it is the documented one."""
    assert exit_status(RunFacts(decided, documented=True)) == decided


@pytest.mark.parametrize(
    ("decided", "abandoned", "expected"),
    [(0, True, 3), (1, True, 1), (3, True, 3), (0, False, 0), (1, False, 1)],
)
def test_an_abandoned_cleanup_makes_a_passing_run_interrupted(
    decided: int, abandoned: bool, expected: int
) -> None:
    """Safe mode's cleanup runs after the session's decision: abandoning it (the third Ctrl-C)
    turns a pass into 3 and leaves a failure's 1 as it is."""
    assert after_cleanup(decided, abandoned=abandoned) == expected
