"""JUnit XML: the properties that carry a suite test's verdict, and ``<error>`` for an error.

A test case carries ``verdict`` (pass, fail, warning, not applicable, error; ``baseline`` for a
failure the expected-failure baseline lists) and, when not applicable, ``reason``: the wording
of its ``NotApplicableReason`` (``safe mode``, ``no control plane``, ...). So a CI system that
reads JUnit tells a warning (a passed test case) and a not-applicable test (a skipped one) from
a pass and a plain skip. ``conformance.plugin.junit`` puts them on the reports.

pytest writes every exception of a test's call phase as ``<failure>``, so a suite *error* (the
suite could not test) would count as a failure of the target in a CI's JUnit view. Once pytest
has written the file, the test cases whose verdict is ``error`` get ``<error>`` instead, and each
suite's ``failures`` and ``errors`` counts are made to match.

A re-run test (``--om-reruns``) carries ``attempts`` (how many ran), and each earlier attempt
becomes an element of the Maven Surefire report schema, which Gradle writes too: in a test case
that passed on a re-run (``verdict`` ``flaky``) a ``<flakyFailure>`` (``<flakyError>`` for an
attempt that was a suite error), in one that did not pass a ``<rerunFailure>`` (``<rerunError>``),
each with the attempt's failure as ``<stackTrace>`` and its exchanges as ``<system-out>``.
Jenkins' JUnit plugin counts a test case by its ``<failure>``/``<error>``/``<skipped>`` alone and
ignores these elements, so a flaky test case is a passed one there; its Flaky Test Handler
plugin reads them. GitLab reads the same three elements only: a flaky test case is a passed one,
its ``verdict`` property (and these elements, in the file) say the rest. Until the file is
rewritten each earlier attempt waits in a property of its own (``ATTEMPT_PROPERTY``, JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from conformance.reporting.attempts import Attempt
from conformance.reporting.categories import VERDICT_LABEL
from conformance.verdicts import NotApplicableReason, Verdict

REASON_PROPERTY = "reason"
ATTEMPTS_PROPERTY = "attempts"
"""How many attempts a re-run test made (only on a test that was re-run)."""
ATTEMPT_PROPERTY = "openmedia-earlier-attempt"
"""An earlier attempt, as JSON, until :func:`attempts_as_elements` makes it an element."""


def verdict_properties(
    verdict: Verdict,
    reason: NotApplicableReason | None,
    attempts: Sequence[Attempt] = (),
) -> list[tuple[str, str]]:
    """The JUnit properties of a test that ended with ``verdict`` (plain strings), after the
    earlier ``attempts`` of a re-run."""
    properties = [(VERDICT_LABEL, verdict.value)]
    if verdict is Verdict.NOT_APPLICABLE and reason is not None:
        properties.append((REASON_PROPERTY, reason.value))
    if attempts:
        properties.append((ATTEMPTS_PROPERTY, str(len(attempts) + 1)))
        properties += [(ATTEMPT_PROPERTY, json.dumps(a.as_plain())) for a in attempts]
    return properties


def _parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def attempts_as_elements(path: Path) -> None:
    """Rewrite a JUnit file: each earlier attempt a property holds becomes its Surefire element
    (``<flakyFailure>`` ... ``<rerunError>``), placed before the test case's output."""
    tree = _parse(path)
    changed = False
    for case in tree.iter("testcase"):
        held = case.xpath(f"properties/property[@name='{ATTEMPT_PROPERTY}']")
        if not held:
            continue
        verdicts = case.xpath(f"properties/property[@name='{VERDICT_LABEL}']/@value")
        kind = "flaky" if Verdict.FLAKY.value in verdicts else "rerun"
        at = next(
            (i for i, child in enumerate(case) if child.tag in ("system-out", "system-err")),
            len(case),
        )
        for number, prop in enumerate(held):
            attempt = Attempt.from_plain(json.loads(prop.get("value", "{}")))
            prop.getparent().remove(prop)
            what = "Error" if attempt.verdict is Verdict.ERROR else "Failure"
            element = etree.Element(f"{kind}{what}")
            element.set("message", attempt.message)
            element.set("type", attempt.exception or attempt.verdict.value)
            etree.SubElement(element, "stackTrace").text = attempt.failure
            if attempt.exchanges:
                etree.SubElement(element, "system-out").text = attempt.exchanges
            case.insert(at + number, element)
        changed = True
    if changed:
        tree.write(str(path), xml_declaration=True, encoding="utf-8")


def errors_as_errors(path: Path) -> None:
    """Rewrite a JUnit file: a test case whose verdict property is ``error`` reports ``<error>``,
    never ``<failure>``; the suites' ``failures`` / ``errors`` counts follow."""
    tree = _parse(path)
    changed = False
    for case in tree.iter("testcase"):
        verdicts = case.xpath(f"properties/property[@name='{VERDICT_LABEL}']/@value")
        if Verdict.ERROR.value not in verdicts:
            continue
        for failure in case.findall("failure"):
            failure.tag = "error"
            changed = True
    if not changed:
        return
    for suite in tree.iter("testsuite"):
        suite.set("failures", str(len(suite.xpath("testcase/failure"))))
        suite.set("errors", str(len(suite.xpath("testcase/error"))))
    tree.write(str(path), xml_declaration=True, encoding="utf-8")
