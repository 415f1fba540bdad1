"""The verdicts as Allure sees them: one Allure status each, and one category each.

Allure has exactly five statuses and the suite has five verdicts that judge a target, so each
of those gets a status of its own and no count in Allure's overview mixes two of them; a
*baseline* failure and a *flaky* pass share a status and are told apart by their category
(and a flaky one by Allure's own flaky mark):

============== =========== ==============================================================
verdict        status      why this status
============== =========== ==============================================================
pass           passed
fail           failed      the target broke a MUST requirement: a product defect
error          broken      the suite could not test: Allure's "broken" means exactly that
not applicable skipped     the test did not run against the target (capability missing)
warning        unknown     a SHOULD/OPEN reading was not met: no verdict of failure, but
                           not a pass either; "passed" would hide it among the passes and
                           "skipped" would mix it with not applicable
(baseline)     failed      a fail the expected-failure baseline lists: still a product
                           defect, in a category of its own ("Known defects")
flaky          passed      failed, then passed on a re-run (``--om-reruns``): it passed,
                           marked ``flaky`` in its status details (Allure's own flaky
                           mark and filter); each earlier attempt is a result of its own
                           with the same ``historyId``, which Allure shows as its retries
============== =========== ==============================================================

Every result also carries a ``verdict`` label with the verdict's own name, and its status
message starts with the verdict for those Allure cannot name (``warning: ...``,
``not applicable: ...``, ``expected failure (baseline): ...``), which the categories match.
``categories.json`` (Allure 2's format, in the results folder) and the Allure 3 report's
configuration are both made from :data:`CATEGORIES`, so the two reports group alike. A verdict
the table does not know (a later extension) keeps the status allure-pytest gave it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.verdicts import Verdict

VERDICT_LABEL = "verdict"
"""The name of the label (Allure) and property (JUnit) that carries the verdict."""

STATUS_BY_VERDICT: dict[Verdict, str] = {
    Verdict.PASS: "passed",
    Verdict.FAIL: "failed",
    Verdict.ERROR: "broken",
    Verdict.NOT_APPLICABLE: "skipped",
    Verdict.WARNING: "unknown",
    Verdict.SKIPPED: "skipped",  # a plain pytest skip: no verdict of the five, as Allure has it
    Verdict.BASELINE: "failed",  # a fail the expected-failure baseline lists: a known defect
    Verdict.FLAKY: "passed",  # passed on a re-run: Allure's flaky mark says the rest
}

_PRECEDENCE = (
    Verdict.FAIL,
    Verdict.BASELINE,
    Verdict.ERROR,
    Verdict.NOT_APPLICABLE,
    Verdict.SKIPPED,
    Verdict.FLAKY,
    Verdict.WARNING,
    Verdict.PASS,
)
"""Which phase's verdict names the test when setup, call and teardown disagree."""

MESSAGE_PREFIX: dict[Verdict, str] = {
    Verdict.WARNING: "warning: ",
    Verdict.NOT_APPLICABLE: "not applicable: ",
    Verdict.BASELINE: "expected failure (baseline): ",
    Verdict.FLAKY: "flaky: ",
}
"""Verdicts whose status Allure cannot name: their message starts with the verdict."""


def _literal(text: str) -> str:
    """``text`` as a regex literal both Java and JavaScript read alike (spaces unescaped)."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", text)


@dataclass(frozen=True)
class Category:
    """One Allure category: a verdict's name for people, and how a result is matched to it."""

    name: str
    verdict: Verdict
    description: str

    @property
    def status(self) -> str:
        return STATUS_BY_VERDICT[self.verdict]

    @property
    def message_regex(self) -> str | None:
        """Anchored and whole-message, so Allure 2 (Java ``matches``) and 3 (JS) agree.

        A *fail* shares Allure's ``failed`` with a baselined failure: it matches any message
        but the baseline's, so each result has exactly one category.
        """
        if self.verdict == Verdict.FAIL:
            return f"^(?!{_literal(MESSAGE_PREFIX[Verdict.BASELINE])})[\\s\\S]*"
        prefix = MESSAGE_PREFIX.get(self.verdict)
        return None if prefix is None else f"^{_literal(prefix)}[\\s\\S]*"

    def as_allure2(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "matchedStatuses": [self.status],
        }
        if self.message_regex is not None:
            rule["messageRegex"] = self.message_regex
        if self.verdict == Verdict.FLAKY:
            rule["flaky"] = True
        return rule


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Product defects (MUST not met)",
        Verdict.FAIL,
        "The target broke a MUST requirement of the interface description or the wire contract.",
    ),
    Category(
        "Known defects (expected failures in the baseline)",
        Verdict.BASELINE,
        "A MUST failure the --om-baseline file lists, with its reason, owner and expiry; it does "
        "not fail the run.",
    ),
    Category(
        "Warnings (SHOULD or OPEN reading not met)",
        Verdict.WARNING,
        "A SHOULD requirement or an OPEN reading was not met; it fails only under --om-strict.",
    ),
    Category(
        "Not applicable (capability missing)",
        Verdict.NOT_APPLICABLE,
        "The target lacks a capability the test needs (the message names it).",
    ),
    Category(
        "Flaky (failed, then passed on a re-run)",
        Verdict.FLAKY,
        "An attempt failed or lost an exchange in transport, a re-run (--om-reruns) passed: the "
        "target does not answer the same every time. Its retries show the failed attempts; it "
        "fails the run only under --om-strict.",
    ),
    Category(
        "Suite errors (could not test)",
        Verdict.ERROR,
        "The suite could not test: unreachable target, timeout, no SOAP where SOAP was "
        "expected, a broken profile. No verdict on the target.",
    ),
)


def categories_json() -> list[dict[str, Any]]:
    """The content of ``categories.json`` (Allure 2's format; Allure 3 reads it too)."""
    return [category.as_allure2() for category in CATEGORIES]


def final_verdict(verdicts: Iterable[Verdict]) -> Verdict | None:
    """The test's verdict from its phases' verdicts (setup, call, teardown); ``None``: none.

    A failure of the target outranks an error of a later phase: the target's defect is the
    finding, the teardown's trouble is noise after it.
    """
    seen = set(verdicts)
    known = next((verdict for verdict in _PRECEDENCE if verdict in seen), None)
    return known if known is not None else next(iter(sorted(seen)), None)


def status_message(verdict: Verdict, message: str) -> str:
    """``message`` starting with the verdict's prefix when its status cannot say it.

    pytest's ``Skipped: `` (not applicable) and allure-pytest's ``XFAIL `` (baseline) go.
    """
    prefix = MESSAGE_PREFIX.get(verdict, "")
    message = message.removeprefix("Skipped: ").removeprefix("XFAIL ")
    if not prefix or message.startswith(prefix):
        return message
    return prefix + message
