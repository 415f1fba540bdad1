"""Where two runs differ: verdicts per requirement and test, and each test's first differing answer.

Two exchange logs (``conformance.reporting.exchange_log``) of the same suite, e.g. the reference
emulator and a vendor server on one profile, or two releases of one server. For every test in
both runs: whether the verdicts differ, and the first exchange whose *normalised* answer differs
(``conformance.reporting.normalise``: IDs, times, estimates, wording, list order and XML spelling
masked). Tests run by only one of them are listed.

How the exchanges of a test are paired: by position, among the exchanges with the service (the
control plane drives a controllable target and is absent on a vendor's; it is not compared),
after consecutive repeats of one exchange (the same request and answer, as a poll makes) are
made one. Two servers number their requests differently, so nothing else can pair them; the IDs
are aliased in the order the test met them, so an answer that names another request still
differs. Where the two runs' Hypothesis seeds differ, the tests Hypothesis drives sent different
data, and only their verdicts are compared (a note says so: run both with one
``--hypothesis-seed``).

Rendered as text (a unified diff of the two answers) and as one self-contained HTML page (the
two answers side by side).
"""

from __future__ import annotations

import dataclasses
import difflib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.contract.catalogue import CATALOGUE
from conformance.reporting.exchange_log import ExchangeKind, ExchangeLog, LoggedTest
from conformance.reporting.normalise import IdAliases, normalise_body
from conformance.verdicts import Verdict

MAX_DIFF_LINES = 80
"""A differing answer's unified diff is cut after this many lines in the text (the page has
it all)."""


@dataclass(frozen=True)
class Step:
    """One exchange with the service, normalised (``repeats``: consecutive identical ones)."""

    number: int
    """Its number in the test (from 1, counting every exchange, as the attachments do)."""
    what: str
    status: int
    reason: str
    kept: bool
    request: tuple[str, ...]
    answer: tuple[str, ...]
    repeats: int = 1

    def same(self, other: Step) -> bool:
        """The same exchange: operation, status and normalised answer (bodies where both runs
        kept them whole)."""
        if self.what != other.what or self.status != other.status:
            return False
        return not (self.kept and other.kept) or self.answer == other.answer

    def status_line(self) -> str:
        return f"HTTP {self.status} {self.reason}".rstrip()


def _origins(log: ExchangeLog) -> tuple[str, ...]:
    origins = []
    for url in (*log.services, *log.controls):
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(dict.fromkeys(origins))


def steps_of(test: LoggedTest, origins: Sequence[str] = ()) -> tuple[Step, ...]:
    """A test's exchanges with the service, normalised in order (one alias table for the test),
    consecutive repeats made one."""
    aliases = IdAliases()
    steps: list[Step] = []
    for exchange in test.exchanges:
        if exchange.kind is not ExchangeKind.SERVICE:
            continue
        request: tuple[str, ...] = ()
        answer: tuple[str, ...] = ()
        if exchange.kept:
            request = normalise_body(
                exchange.request, aliases, operation=exchange.what, origins=origins
            )
            answer = normalise_body(
                exchange.response, aliases, operation=exchange.what, origins=origins
            )
        step = Step(
            exchange.number,
            exchange.what,
            exchange.status,
            exchange.reason,
            exchange.kept,
            request,
            answer,
        )
        last = steps[-1] if steps else None
        if last is not None and last.same(step) and last.request == step.request:
            steps[-1] = dataclasses.replace(last, repeats=last.repeats + 1)
        else:
            steps.append(step)
    return tuple(steps)


@dataclass(frozen=True)
class AnswerDifference:
    """The first position at which the two runs' exchanges of a test differ."""

    position: int
    """Among the test's service exchanges, repeats made one (from 1)."""
    a: Step | None
    b: Step | None

    def why(self) -> str:
        a, b = self.a, self.b
        if a is None and b is not None:
            return f"only B made an exchange here ({b.what})"
        if b is None and a is not None:
            return f"only A made an exchange here ({a.what})"
        assert a is not None and b is not None
        if a.what != b.what:
            return f"A sent {a.what}, B sent {b.what}"
        if a.status != b.status:
            return f"{a.what}: HTTP {a.status} in A, {b.status} in B"
        return f"{a.what}: the answers differ"

    def diff(self) -> list[str]:
        """The two answers as a unified diff (status line, then the normalised body)."""
        return list(
            difflib.unified_diff(
                _shown(self.a), _shown(self.b), "answer in A", "answer in B", n=3, lineterm=""
            )
        )

    def signature(self) -> tuple[str, ...]:
        """What makes two tests' differences alike: why, and the diff's changed lines."""
        changed = [line for line in self.diff()[2:] if line[:1] in "+-"]
        return (self.why(), *changed)

    def where(self) -> str:
        numbers = [
            f"{name} #{step.number}" for name, step in (("A", self.a), ("B", self.b)) if step
        ]
        return f"exchange {', '.join(numbers)}"


@dataclass(frozen=True)
class TestDifference:
    """A test in both runs whose verdicts or answers differ."""

    a: LoggedTest
    b: LoggedTest
    answer: AnswerDifference | None

    @property
    def test(self) -> str:
        return self.a.test

    @property
    def verdicts_differ(self) -> bool:
        return self.a.verdict is not self.b.verdict

    def requirements(self) -> tuple[str, ...]:
        """The requirements the difference is about: those a failure named (in either run),
        else every requirement the test cites."""
        named = [r for r in (self.a.failed_requirement, self.b.failed_requirement) if r]
        return tuple(dict.fromkeys(named or [*self.a.requirements, *self.b.requirements]))

    def summary_verdicts(self) -> str:
        if self.verdicts_differ:
            return f"{self.a.verdict.value} in A, {self.b.verdict.value} in B"
        return f"both {self.a.verdict.value}"

    def answer_where(self) -> str:
        return "" if self.answer is None else self.answer.where()


@dataclass(frozen=True)
class Comparison:
    """Two runs compared: the tests that differ, those only one ran, and notes."""

    a: ExchangeLog
    b: ExchangeLog
    differences: tuple[TestDifference, ...]
    only_a: tuple[LoggedTest, ...]
    only_b: tuple[LoggedTest, ...]
    compared: int
    notes: tuple[str, ...] = ()

    @property
    def agree(self) -> bool:
        return not (self.differences or self.only_a or self.only_b)

    @property
    def verdict_differences(self) -> tuple[TestDifference, ...]:
        return tuple(d for d in self.differences if d.verdicts_differ)

    def by_requirement(self) -> list[tuple[str, list[TestDifference]]]:
        """Each requirement with a test whose verdicts differ, MUSTs first, then by ID."""
        grouped: dict[str, list[TestDifference]] = {}
        for difference in self.verdict_differences:
            for requirement in difference.requirements():
                grouped.setdefault(requirement, []).append(difference)
        order = {"MUST": 0, "SHOULD": 1, "OPEN": 2}
        return sorted(grouped.items(), key=lambda item: (order.get(_level(item[0]), 3), item[0]))

    def answer_groups(self) -> list[list[TestDifference]]:
        """The tests whose answers differ, those that differ alike in one group (one defect
        shows in every test that meets it): groups holding a verdict difference first, then
        the larger ones."""
        groups: dict[tuple[str, ...], list[TestDifference]] = {}
        for difference in self.differences:
            if difference.answer is not None:
                groups.setdefault(difference.answer.signature(), []).append(difference)
        return sorted(
            groups.values(),
            key=lambda tests: (not any(t.verdicts_differ for t in tests), -len(tests)),
        )

    def counts(self) -> str:
        verdicts = sum(1 for d in self.differences if d.verdicts_differ)
        answers = sum(1 for d in self.differences if d.answer is not None)
        return (
            f"{verdicts} test(s) with another verdict, {answers} with another answer, "
            f"{len(self.only_a)} only in A, {len(self.only_b)} only in B "
            f"({self.compared} tests in both)"
        )


def _level(requirement: str) -> str:
    found = CATALOGUE.get(requirement)
    return found.level if found is not None else "?"


def _requirement_line(requirement: str) -> str:
    found = CATALOGUE.get(requirement)
    if found is None:
        return requirement
    return f"{requirement} ({found.level}): {found.text}"


def first_difference(a: Sequence[Step], b: Sequence[Step]) -> AnswerDifference | None:
    for position in range(max(len(a), len(b))):
        step_a = a[position] if position < len(a) else None
        step_b = b[position] if position < len(b) else None
        if step_a is None or step_b is None or not step_a.same(step_b):
            return AnswerDifference(position + 1, step_a, step_b)
    return None


def compare_logs(a: ExchangeLog, b: ExchangeLog) -> Comparison:
    """Every test of both runs compared (see the module's docstring)."""
    origins_a, origins_b = _origins(a), _origins(b)
    seeds_differ = a.run.seed != b.run.seed
    differences: list[TestDifference] = []
    unseeded: list[str] = []
    rerun: list[str] = []
    both = [name for name in a.tests if name in b.tests]
    for name in both:
        test_a, test_b = a.tests[name], b.tests[name]
        if a.attempts.get(name, 1) > 1 or b.attempts.get(name, 1) > 1:
            rerun.append(name)
        answer = None
        if seeds_differ and (test_a.hypothesis or test_b.hypothesis):
            unseeded.append(name)
        else:
            answer = first_difference(steps_of(test_a, origins_a), steps_of(test_b, origins_b))
        if answer is not None or test_a.verdict is not test_b.verdict:
            differences.append(TestDifference(test_a, test_b, answer))
    notes = []
    if unseeded:
        notes.append(
            f"{len(unseeded)} test(s) driven by Hypothesis: only their verdicts were compared, "
            f"the runs' seeds differ (A {a.run.seed}, B {b.run.seed}) and so did the data they "
            f"sent; run both with --hypothesis-seed {a.run.seed} to compare their answers too"
        )
    if rerun:
        notes.append(
            f"{len(rerun)} test(s) were re-run in a run: the last attempt is compared "
            f"({', '.join(rerun[:5])}{', …' if len(rerun) > 5 else ''})"
        )
    return Comparison(
        a,
        b,
        tuple(differences),
        tuple(t for n, t in a.tests.items() if n not in b.tests),
        tuple(t for n, t in b.tests.items() if n not in a.tests),
        len(both),
        tuple(notes),
    )


# -- text ----------------------------------------------------------------------------------------
MAX_TESTS_LISTED = 10
"""Tests named for one group of alike differences (the rest are counted; the page has all)."""


def _run_line(name: str, log: ExchangeLog) -> str:
    target = ", ".join(log.services) or "no target reached"
    return (
        f"{name}: {log.path} (started {log.run.started}, {target}, {len(log.tests)} tests, "
        f"Hypothesis seed {log.run.seed})"
    )


def _shown(step: Step | None) -> list[str]:
    """An answer as the diff shows it: the status line, then the normalised body."""
    if step is None:
        return ["(no exchange)"]
    if not step.kept:
        return [step.status_line(), "(not kept whole: the test made too many exchanges)"]
    return [step.status_line(), *step.answer]


def _request_lines(step: Step | None) -> list[str]:
    if step is None:
        return []
    times = f" ({step.repeats} times alike)" if step.repeats > 1 else ""
    return [f"{step.what}{times}", *step.request]


def _first_line(message: str | None) -> str:
    lines = (message or "").strip().splitlines()
    return lines[0] if lines else ""


def _group_title(tests: Sequence[TestDifference]) -> str:
    answer = tests[0].answer
    assert answer is not None
    many = f", alike in {len(tests)} tests" if len(tests) > 1 else ""
    return f"{answer.why()}{many}"


def render_text(comparison: Comparison) -> str:
    """The comparison for a terminal: the verdicts per requirement, then each kind of differing
    answer once, with the tests it occurs in."""
    out = [
        "openmedia compare",
        "  " + _run_line("A", comparison.a),
        "  " + _run_line("B", comparison.b),
    ]
    if comparison.verdict_differences:
        out += ["", "Verdicts that differ, by requirement:"]
        for requirement, differences in comparison.by_requirement():
            out.append(f"  {_requirement_line(requirement)}")
            for difference in differences:
                a, b = difference.a, difference.b
                out.append(f"    {difference.test}: {a.verdict.value} in A, {b.verdict.value} in B")
                for name, test in (("A", a), ("B", b)):
                    if test.verdict is not Verdict.PASS and _first_line(test.message):
                        out.append(f"      {name}: {_first_line(test.message)}")
    groups = comparison.answer_groups()
    if groups:
        out += ["", "Answers that differ (the first differing exchange of each test):"]
        for tests in groups:
            out += _group_text(tests)
    for name, only in (("A", comparison.only_a), ("B", comparison.only_b)):
        if only:
            out += ["", f"Only in {name} ({len(only)} tests):"]
            out += [f"  {t.test}: {t.verdict.value}" for t in only]
    if comparison.notes:
        out += ["", "Notes:"] + [f"  {note}" for note in comparison.notes]
    verdict = "agree" if comparison.agree else "differ"
    out += ["", f"openmedia compare: the runs {verdict}: {comparison.counts()}"]
    return "\n".join(out) + "\n"


def _group_text(tests: Sequence[TestDifference]) -> list[str]:
    first = tests[0]
    answer = first.answer
    assert answer is not None
    out = ["", f"  {_group_title(tests)}:"]
    for difference in tests[:MAX_TESTS_LISTED]:
        out.append(
            f"    {difference.test} ({difference.summary_verdicts()}; {difference.answer_where()})"
        )
    if len(tests) > MAX_TESTS_LISTED:
        out.append(f"    ... and {len(tests) - MAX_TESTS_LISTED} more (--html lists them all)")
    request_a, request_b = _request_lines(answer.a), _request_lines(answer.b)
    label = f" of {first.test}" if len(tests) > 1 else ""
    if request_a == request_b or not request_b:
        out.append(f"    request{label}:")
        out += [f"      {line}" for line in request_a]
    else:
        out.append(f"    requests{label} (A, then B):")
        out += [f"      {line}" for line in request_a] + ["      ----"]
        out += [f"      {line}" for line in request_b]
    diff = answer.diff()
    if len(diff) > MAX_DIFF_LINES:
        diff = [*diff[:MAX_DIFF_LINES], f"... ({len(diff) - MAX_DIFF_LINES} more lines: --html)"]
    out += [f"    {line}" for line in diff]
    return out


# -- HTML ----------------------------------------------------------------------------------------
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
code, pre, table.diff { font-family: ui-monospace, monospace; font-size: 0.9em; }
.agree { color: #1a7f37; } .differ { color: #b3261e; }
.req { margin: 0.6em 0 0.2em; }
ul { margin-top: 0.2em; } details { margin: 0.8em 0; border: 1px solid #ddd; padding: 0.4em; }
summary { cursor: pointer; } pre { background: #f6f8fa; padding: 0.5em; overflow-x: auto; }
table.diff { border-collapse: collapse; margin-top: 0.4em; }
table.diff td, table.diff th { padding: 0 0.4em; vertical-align: top; }
table.diff th { background: #eee; font-weight: normal; }
.diff_header { background: #f0f0f0; color: #888; } td.diff_header { text-align: right; }
.diff_next { display: none; }
.diff_add { background: #aaffaa; } .diff_chg { background: #ffff77; }
.diff_sub { background: #ffaaaa; }
"""


def render_html(comparison: Comparison) -> str:
    """The same as :func:`render_text`, as one self-contained page (no external resource), the
    two answers side by side."""
    e = html.escape
    tables = HtmlTables()
    verdict = "agree" if comparison.agree else "differ"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>openmedia compare</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>openmedia compare</h1>",
        f'<p class="{verdict}"><strong>The runs {verdict}</strong>: {e(comparison.counts())}</p>',
        "<ul>",
        f"<li>{e(_run_line('A', comparison.a))}</li>",
        f"<li>{e(_run_line('B', comparison.b))}</li>",
        "</ul>",
    ]
    if comparison.verdict_differences:
        parts.append("<h2>Verdicts that differ, by requirement</h2>")
        for requirement, differences in comparison.by_requirement():
            parts.append(f'<div class="req"><code>{e(_requirement_line(requirement))}</code></div>')
            parts.append("<ul>")
            for d in differences:
                parts.append(
                    f"<li><code>{e(d.test)}</code>: {e(d.a.verdict.value)} in A, "
                    f"{e(d.b.verdict.value)} in B"
                )
                for name, test in (("A", d.a), ("B", d.b)):
                    if test.verdict is not Verdict.PASS and test.message:
                        parts.append(f"<pre>{name}: {e(test.message)}</pre>")
                parts.append("</li>")
            parts.append("</ul>")
    groups = comparison.answer_groups()
    if groups:
        parts.append("<h2>Answers that differ (the first differing exchange of each test)</h2>")
        parts += [_group_html(tests, tables) for tests in groups]
    for name, only in (("A", comparison.only_a), ("B", comparison.only_b)):
        if only:
            parts.append(f"<h2>Only in {name} ({len(only)} tests)</h2><ul>")
            parts += [f"<li><code>{e(t.test)}</code>: {e(t.verdict.value)}</li>" for t in only]
            parts.append("</ul>")
    if comparison.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{e(note)}</li>" for note in comparison.notes]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


class HtmlTables:
    """Side-by-side tables of one page (one ``HtmlDiff``, so their anchors never clash)."""

    def __init__(self) -> None:
        self._differ = difflib.HtmlDiff(wrapcolumn=80)

    def table(self, a: Iterable[str], b: Iterable[str]) -> str:
        return self._differ.make_table(list(a), list(b), "answer in A", "answer in B")


def _group_html(tests: Sequence[TestDifference], tables: HtmlTables) -> str:
    """One kind of difference: the request and both answers side by side, then the tests it
    occurs in (folded away when there are many)."""
    e = html.escape
    first = tests[0]
    answer = first.answer
    assert answer is not None
    parts = [f"<details open><summary>{e(_group_title(tests))}</summary>"]
    request_a, request_b = _request_lines(answer.a), _request_lines(answer.b)
    of = f" of <code>{e(first.test)}</code>" if len(tests) > 1 else ""
    parts.append(f"<p>Request{' in A' if request_b and request_a != request_b else ''}{of}:</p>")
    parts.append(f"<pre>{e(chr(10).join(request_a))}</pre>")
    if request_b and request_a != request_b:
        parts.append(f"<p>Request in B:</p><pre>{e(chr(10).join(request_b))}</pre>")
    parts.append(tables.table(_shown(answer.a), _shown(answer.b)))
    folded = len(tests) > MAX_TESTS_LISTED
    parts.append(
        f"<details><summary>the {len(tests)} tests</summary><ul>" if folded else "<p>In:</p><ul>"
    )
    parts += [
        f"<li><code>{e(d.test)}</code> ({e(d.summary_verdicts())}; {e(d.answer_where())})</li>"
        for d in tests
    ]
    parts.append("</ul></details>" if folded else "</ul>")
    parts.append("</details>")
    return "\n".join(parts)
