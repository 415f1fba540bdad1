"""The expected-failure baseline (``--om-baseline FILE``): known target defects a CI run tolerates.

A team that adopts the suite against a server with known defects still wants a green pipeline
that turns red on anything *new*. The baseline lists those defects, each with a reason, an owner
and an expiry date, so that tolerating one is a decision somebody signed and must renew::

    [[expected]]
    requirement = "ADD-LIMIT-LABEL"       # or: test = "conformance/suite/test_x.py::test_y"
    reason = "vendor ticket OM-123: labels are cut at 255 bytes, not UTF-16 units"
    owner = "jane.doe@example.com"
    expires = 2027-01-31

Rules (``evaluate``): a listed failure does not fail the run (it is reported as *expected
failure (baseline)*, never as a pass); an unlisted failure fails it; a listed failure that no
longer happens fails it (stale entry); an expired entry fails it. Only *fail* verdicts can be
listed: an *error* says the suite could not test, which no baseline should hide.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from conformance.reporting.certificate import TestResult, requirement_matrix
from conformance.verdicts import UsageError, Verdict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENTRY_KEYS = ("requirement", "test", "reason", "owner", "expires")
SUGGESTED_VALIDITY = timedelta(days=90)
"""How far ahead a suggested entry's expiry lies: long enough for a fix, short enough to recheck."""
_SUITE_PATH = "conformance/suite/"
_DOTTED = re.compile(r"^conformance\.suite\.([\w.]+?)(::.*)?$")


def canonical_test_id(nodeid: str) -> str:
    """A test's ID independent of where pytest ran: ``conformance/suite/test_x.py::test_y``.

    A suite test's node ID has this form wherever the run starts
    (``conformance.plugin.node_ids``); an entry may also be written in the dotted form
    ``conformance.suite.test_x::test_y`` (what ``run`` accepts) or with a folder before
    ``conformance/suite/`` (copied from an older run).
    """
    dotted = _DOTTED.match(nodeid)
    if dotted:
        return _SUITE_PATH + dotted.group(1).replace(".", "/") + ".py" + (dotted.group(2) or "")
    at = nodeid.find(_SUITE_PATH)
    return nodeid[at:] if at > 0 else nodeid


@dataclass(frozen=True)
class BaselineEntry:
    """One tolerated failure: a requirement (any test failing it) or one test."""

    requirement: str | None
    test: str | None
    reason: str
    owner: str
    expires: date

    @property
    def key(self) -> str:
        """How reports name the entry."""
        return f"requirement {self.requirement}" if self.requirement else f"test {self.test}"

    def expired(self, today: date) -> bool:
        """True once the expiry date has passed (the entry holds through that day)."""
        return self.expires < today


@dataclass(frozen=True)
class Baseline:
    """The parsed file: its entries in file order."""

    path: Path
    entries: tuple[BaselineEntry, ...]

    def match(self, nodeid: str, blamed: str | None, cited: Iterable[str]) -> BaselineEntry | None:
        """The entry that lists this failure, if any: by test first, then by requirement.

        A failure is matched by the requirement it names (``ConformanceFailure``); a plain
        assertion names none, so any requirement the test cites matches it.
        """
        test_id = canonical_test_id(nodeid)
        for entry in self.entries:
            if entry.test is not None and canonical_test_id(entry.test) == test_id:
                return entry
        candidates = (blamed,) if blamed else tuple(cited)
        for entry in self.entries:
            if entry.requirement is not None and entry.requirement in candidates:
                return entry
        return None


@dataclass(frozen=True)
class Outcome:
    """What the baseline says about a finished run."""

    matched: tuple[BaselineEntry, ...]
    stale: tuple[BaselineEntry, ...]
    expired: tuple[BaselineEntry, ...]

    @property
    def fails_run(self) -> bool:
        return bool(self.stale or self.expired)

    def lines(self) -> list[str]:
        """One line per entry that fails the run, naming it (and the owner who must act)."""
        lines = [
            f"stale baseline entry ({entry.key}): the listed failure no longer happens; "
            f"remove it (owner {entry.owner})"
            for entry in self.stale
        ]
        lines += [
            f"expired baseline entry ({entry.key}): expired {entry.expires.isoformat()}; "
            f"owner {entry.owner} must fix the target, or renew the entry with a new date"
            for entry in self.expired
        ]
        return lines


def evaluate(
    baseline: Baseline,
    matched_keys: Iterable[str],
    passed_tests: Iterable[str],
    passed_requirements: Iterable[str],
    failed_requirements: Iterable[str],
    today: date,
) -> Outcome:
    """Decide stale and expired entries from what ran.

    An entry is stale only when the run *showed* the failure gone: its test passed, or a test
    passed its requirement and none failed it. An entry whose tests did not run (a partial run,
    a target lacking the capability) is left alone.
    """
    matched = set(matched_keys)
    passed = {canonical_test_id(t) for t in passed_tests}
    passed_rids, failed_rids = set(passed_requirements), set(failed_requirements)
    stale = []
    for entry in baseline.entries:
        if entry.key in matched:
            continue
        test_passed = entry.test is not None and canonical_test_id(entry.test) in passed
        rid_passed = entry.requirement in passed_rids and entry.requirement not in failed_rids
        if test_passed or rid_passed:
            stale.append(entry)
    return Outcome(
        matched=tuple(e for e in baseline.entries if e.key in matched),
        stale=tuple(stale),
        expired=tuple(e for e in baseline.entries if e.expired(today)),
    )


def evaluate_results(baseline: Baseline, results: Sequence[TestResult], today: date) -> Outcome:
    """:func:`evaluate` on a run's results: the entries they matched, the tests that passed
    (a warning is a pass), and the requirements passed and failed (the certificate's matrix)."""
    rows = requirement_matrix(results)
    return evaluate(
        baseline,
        matched_keys=[r.baseline for r in results if r.baseline],
        passed_tests=[r.nodeid for r in results if r.verdict in (Verdict.PASS, Verdict.WARNING)],
        passed_requirements=[row["id"] for row in rows if row[Verdict.PASS]],
        failed_requirements=[
            row["id"] for row in rows if row[Verdict.FAIL] or row[Verdict.BASELINE]
        ],
        today=today,
    )


def suggested_entry(requirement: str | None, nodeid: str, today: date) -> str:
    """A ready-to-paste ``[[expected]]`` entry for a new failure."""
    what = (
        f'requirement = "{requirement}"'
        if requirement
        else f'test = "{_toml_escape(canonical_test_id(nodeid))}"'
    )
    expires = (today + SUGGESTED_VALIDITY).isoformat()
    return (
        f"[[expected]]\n{what}\n"
        f'reason = "TODO: why this failure is accepted (ticket)"  # {_comment(nodeid)}\n'
        f'owner = "TODO: who fixes it"\nexpires = {expires}\n'
    )


def report_lines(
    results: Iterable[Any], outcome: Outcome | None, today: date
) -> list[tuple[str, dict[str, bool]]]:
    """The summary's baseline part: listed failures, entries that fail the run, new entries.

    ``results`` are ``TestResult``-like (``nodeid``, ``verdict``, ``blamed``, ``baseline``).
    """
    results = list(results)
    lines: list[tuple[str, dict[str, bool]]] = []
    listed = [r for r in results if r.verdict == Verdict.BASELINE]
    if listed:
        lines.append(
            (
                f"{len(listed)} expected failure(s) (baseline), not counted as failures:",
                {"yellow": True},
            )
        )
        lines += [(f"  {r.nodeid} ({r.baseline})", {}) for r in listed]
    lines += [(line, {"red": True, "bold": True}) for line in (outcome.lines() if outcome else [])]
    entries: dict[str, str] = {}
    for result in results:
        if result.verdict == Verdict.FAIL:
            key = result.blamed or canonical_test_id(result.nodeid)
            entries.setdefault(key, suggested_entry(result.blamed, result.nodeid, today))
    if entries:
        lines.append(
            (
                f"{len(entries)} new failure(s) not in a baseline; to accept them, paste "
                "into the --om-baseline file (and fill in reason and owner):",
                {"red": True},
            )
        )
        lines += [(entry, {}) for entry in entries.values()]
    return lines


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _comment(text: str) -> str:
    return canonical_test_id(text).replace("\n", " ")


# -- loading -----------------------------------------------------------------------------------
def load_baseline(path: str | Path) -> Baseline:
    """Read and check a baseline file; ``UsageError`` naming the file, entry and key otherwise."""
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--om-baseline {source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--om-baseline {source}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--om-baseline {source}: not valid TOML: {exc}") from None
    return parse_baseline(raw, source)


def parse_baseline(raw: dict[str, Any], path: Path) -> Baseline:
    """Check the parsed TOML; every mistake is a ``UsageError`` that names the key."""
    unknown = sorted(set(raw) - {"expected"})
    if unknown:
        raise UsageError(
            f"baseline {path}: unknown top-level key {unknown[0]!r}; entries are [[expected]] "
            "tables"
        )
    items = raw.get("expected", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UsageError(f"baseline {path}: key 'expected' must be [[expected]] tables")
    entries = tuple(
        _entry(item, f"baseline {path}: [[expected]] #{n}") for n, item in enumerate(items, 1)
    )
    seen: set[str] = set()
    for n, entry in enumerate(entries, 1):
        if entry.key in seen:
            raise UsageError(f"baseline {path}: [[expected]] #{n}: {entry.key} is listed twice")
        seen.add(entry.key)
    return Baseline(path=path, entries=entries)


def _entry(item: dict[str, Any], where: str) -> BaselineEntry:
    for key in item:
        if key not in ENTRY_KEYS:
            close = difflib.get_close_matches(key, ENTRY_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"{where}: unknown key {key!r}{hint}; keys: {', '.join(ENTRY_KEYS)}")
    requirement, test = item.get("requirement"), item.get("test")
    if (requirement is None) == (test is None):
        raise UsageError(f"{where}: give exactly one of key 'requirement' or key 'test'")
    for key in ("requirement", "test", "reason", "owner"):
        needed = key in item or key in ("reason", "owner")
        value = item.get(key)
        if needed and (not isinstance(value, str) or not value.strip()):
            raise UsageError(f"{where}: key {key!r} must be a non-empty string")
    if requirement is not None:
        _known_requirement(requirement, where)
    return BaselineEntry(
        requirement=requirement,
        test=test,
        reason=item["reason"].strip(),
        owner=item["owner"].strip(),
        expires=_date(item.get("expires"), where),
    )


def _known_requirement(requirement: str, where: str) -> None:
    from conformance.contract.catalogue import CATALOGUE

    if requirement not in CATALOGUE:
        known = [r.id for r in CATALOGUE.requirements]
        close = difflib.get_close_matches(requirement, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"{where}: key 'requirement' names {requirement!r}, which is not in "
            f"schemas/requirements.toml{hint}"
        )


def _date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    shown = "missing" if value is None else repr(value)
    raise UsageError(f"{where}: key 'expires' must be a date like 2027-01-31, got {shown}")
