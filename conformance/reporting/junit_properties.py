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
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from conformance.reporting.categories import VERDICT_LABEL
from conformance.verdicts import NotApplicableReason, Verdict

REASON_PROPERTY = "reason"


def verdict_properties(
    verdict: Verdict, reason: NotApplicableReason | None
) -> list[tuple[str, str]]:
    """The JUnit properties of a test that ended with ``verdict`` (plain strings)."""
    properties = [(VERDICT_LABEL, verdict.value)]
    if verdict is Verdict.NOT_APPLICABLE and reason is not None:
        properties.append((REASON_PROPERTY, reason.value))
    return properties


def errors_as_errors(path: Path) -> None:
    """Rewrite a JUnit file: a test case whose verdict property is ``error`` reports ``<error>``,
    never ``<failure>``; the suites' ``failures`` / ``errors`` counts follow."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
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
