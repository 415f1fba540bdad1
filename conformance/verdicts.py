"""The suite's small error hierarchy: one class per verdict that is not *pass*.

A check raises one of these; the plugin maps them to verdicts. Keeping the causes apart is what
lets a user trust a verdict: a target's defect (fail) is never confused with the suite being
unable to test (error), a missing capability (not applicable) or an unmet SHOULD/OPEN reading
(warning).
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class Verdict(str, Enum):
    """What a suite test's run says, each with the one wording every report uses.

    The value is that wording: the console's tally, the JUnit ``verdict`` property, the Allure
    ``verdict`` label, the certificate's counts. ``str(verdict)`` and an f-string give it too.
    """

    PASS = "pass"
    FAIL = "fail"
    """The target broke a MUST requirement (or any assertion of a suite test)."""
    WARNING = "warning"
    """A SHOULD requirement or an OPEN reading was not met: passed, reported."""
    NOT_APPLICABLE = "not applicable"
    """The target or profile lacks what the test needs (``NotApplicableReason`` says why)."""
    ERROR = "error"
    """The suite could not test: no verdict on the target."""
    BASELINE = "baseline"
    """A *fail* the ``--om-baseline`` file lists: an expected failure; it does not fail the run."""
    SKIPPED = "skipped"
    """A plain pytest skip of a suite test (a skip marker): none of the verdicts above."""
    FLAKY = "flaky"
    """An attempt failed (or lost its exchanges in transport), a re-run passed (``--om-reruns``):
    the target does not behave the same every time. It does not fail the run unless
    ``--om-strict``."""

    def __str__(self) -> str:
        return self.value


class ConformanceFailure(AssertionError):
    """The target broke a requirement. Carries Expected / Actual and the requirement ID.

    Whether it is a *fail* or a *warning* depends on the requirement's level (MUST vs
    SHOULD/OPEN) and on ``--om-strict``; the plugin decides, from the catalogue.
    """

    def __init__(
        self,
        requirement: str,
        expected: str,
        actual: str,
        *,
        title: str = "",
        exchange: Any = None,
    ) -> None:
        self.requirement = requirement
        self.expected = expected
        self.actual = actual
        self.title = title or "target does not meet the requirement"
        self.exchange = exchange
        super().__init__(self.describe())

    def describe(self) -> str:
        return (
            f"[{self.requirement}] {self.title}\n"
            f"  Expected: {self.expected}\n"
            f"  Actual:   {self.actual}"
        )


class Blocked(ConformanceFailure):
    """A step this test needs failed a requirement of its own: the call that had to be refused
    was carried out, the request that had to be added was not.

    The test's own requirements stay unchecked, but the suite did not break: the target did.
    So the verdict is a failure of the *blocking* requirement (its level decides fail or
    warning, a baseline entry for it covers this test too), never a suite *error*.
    """

    def __init__(
        self, requirement: str, expected: str, actual: str, *, step: str, exchange: Any = None
    ) -> None:
        super().__init__(
            requirement,
            expected,
            actual,
            title=f"blocked: {step} failed {requirement}, so this test could not go on",
            exchange=exchange,
        )


class SuiteError(Exception):
    """The suite could not test: unreachable target, timeout, non-SOAP answer, broken profile."""


class NotApplicableReason(str, Enum):
    """Why a test could not be run against this target: each cause once, with its one wording.

    The wording is what every report says: a test's skip message, the end of the run's "not
    tested" summary, the Allure tag and the JUnit property. A new cause is one line here; the
    reports group by it without parsing any message.
    """

    NO_CONTROL_PLANE = "no control plane"
    """The target offers no control plane (no ``--om-control-url``, none in the profile)."""
    CONTROL_FEATURE_MISSING = "not offered by the target's control plane"
    SAFE_MODE = "safe mode"
    """``[target] safe_mode`` withholds every control feature that changes the server."""
    AUTH_OFF = "authentication off in the profile"
    AUTH_ON = "authentication on in the profile"
    NOT_IN_PROFILE = "not in the profile"
    """The profile names no group, agent or tenant the test can use (or uses the ID it needs)."""


class NotApplicable(Exception):
    """The test needs what this target or profile lacks: ``reason`` says why, ``feature`` what."""

    def __init__(self, reason: NotApplicableReason, feature: str, why: str = "") -> None:
        self.reason = reason
        self.feature = feature
        self.why = why
        detail = f"{reason.value}: {why}" if why else reason.value
        super().__init__(f"not applicable: target lacks {feature!r} ({detail})")


class UsageError(Exception):
    """A wrong option or a malformed profile: the user must fix the command line or the file."""
