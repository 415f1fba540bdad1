"""JUnit XML (``--junitxml``): each suite test case carries its verdict as a property.

pytest writes a test case's properties from its teardown report's ``user_properties``. The
plugin already records ``requirements`` (the cited IDs, space-separated) at collection; this
hook adds ``verdict`` (pass, fail, warning, not applicable, error) once the test is over, so a
CI system that reads JUnit tells a warning (a passed test case) and a not-applicable test (a
skipped one) from a pass and a plain skip. Properties go into the XML in every junit family
(pytest warns only about its ``record_property`` fixture under xunit2, which is not used here).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.reporting.categories import VERDICT_LABEL, final_verdict
from conformance.runtime import SUITE_ITEM_KEY, VERDICT_ATTR

_PHASES_KEY = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Outer to the verdict mapping's wrapper, so each phase's verdict is set when we look."""
    report = yield
    if not item.stash.get(SUITE_ITEM_KEY, False):
        return report
    phases = item.stash.setdefault(_PHASES_KEY, [])
    verdict = getattr(report, VERDICT_ATTR, None)
    if verdict is not None:
        phases.append(verdict)
    if report.when == "teardown":
        final = final_verdict(phases)
        if final is not None:
            kept = [(k, v) for k, v in report.user_properties if k != VERDICT_LABEL]
            report.user_properties = [*kept, (VERDICT_LABEL, final)]
    return report
