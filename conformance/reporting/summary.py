"""The run's summary in the terminal: verdicts by section and what was not tested, by reason.

Pure text from the run's results (``TestResult``); ``conformance.plugin.summary`` prints it, with
a line per suite module as it completes, the baseline's lines and the certificate's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from conformance.reporting.certificate import TestResult
from conformance.verdicts import NotApplicableReason, Verdict

COLUMNS = (
    Verdict.PASS,
    Verdict.FAIL,
    Verdict.WARNING,
    Verdict.NOT_APPLICABLE,
    Verdict.ERROR,
    Verdict.BASELINE,
)
"""The verdicts the summary table always shows (``flaky`` and ``skipped`` only when a test
was)."""
OCCASIONAL = (Verdict.FLAKY, Verdict.SKIPPED)
"""Columns shown only when some test had that verdict."""


def section_of(requirements: tuple[str, ...]) -> str:
    """The catalogue section of the first requirement known (``""``: none)."""
    from conformance.contract.catalogue import CATALOGUE

    for rid in requirements:
        item = CATALOGUE.get(rid)
        if item is not None:
            return item.section
    return ""


def module_of(nodeid: str) -> str:
    """The test module part of a test ID."""
    return nodeid.split("::", 1)[0]


def section_title(key: str) -> str:
    """A section's title for the summary (no section: where the collection errors go)."""
    from conformance.contract.catalogue import CATALOGUE

    try:
        return CATALOGUE.section(key).title
    except KeyError:
        return "(collection errors)"


def section_table(results: Sequence[TestResult], collection_errors: int = 0) -> list[str]:
    """Verdict counts by catalogue section (rows, in catalogue order) and verdict (columns)."""
    from conformance.contract.catalogue import CATALOGUE

    rows: dict[str, Counter[Verdict]] = {}
    for result in results:
        rows.setdefault(section_of(result.requirements), Counter())[result.verdict] += 1
    if collection_errors:
        rows.setdefault("", Counter())[Verdict.ERROR] += collection_errors
    seen = [v for v in OCCASIONAL if any(counts[v] for counts in rows.values())]
    columns = [*COLUMNS, *seen]
    order = [s.key for s in CATALOGUE.sections if s.key in rows] + [k for k in rows if k == ""]
    names = {key: section_title(key) for key in order}
    width = max([len("section"), len("total"), *(len(n) for n in names.values())])

    def line(name: str, counts: Counter[Verdict]) -> str:
        cells = "  ".join(f"{counts[c]:>{len(c)}}" for c in columns)
        return f"{name:<{width}}  {cells}  {sum(counts[c] for c in columns):>5}"

    total: Counter[Verdict] = Counter()
    for counts in rows.values():
        total.update(counts)
    header = f"{'section':<{width}}  " + "  ".join(columns) + "  total"
    return [
        header,
        *(line(names[key], rows[key]) for key in order),
        "-" * len(header),
        line("total", total),
    ]


def not_tested_lines(counts: Mapping[tuple[NotApplicableReason, str], int]) -> list[str]:
    """What was not tested, one line per reason (most tests first), in the reason's wording,
    with what the tests needed: ``no control plane: 427 tests (agents 44, router 31, ...)``."""
    by_reason: dict[NotApplicableReason, Counter[str]] = {}
    for (reason, feature), count in counts.items():
        by_reason.setdefault(reason, Counter())[feature] += count
    lines = []
    for reason, features in sorted(by_reason.items(), key=lambda r: -sum(r[1].values())):
        total = sum(features.values())
        ranked = sorted(features.items(), key=lambda f: (-f[1], f[0]))
        needs = (
            f"needs {ranked[0][0]}"
            if len(ranked) == 1
            else ", ".join(f"{feature} {count}" for feature, count in ranked)
        )
        lines.append(f"{reason.value}: {total} test{'s' if total != 1 else ''} ({needs})")
    return lines
