"""The earlier attempts of a re-run suite test, as every report shows them (``--om-reruns``).

A suite test that failed runs again (``conformance.plugin.reruns``); the reports of its last
attempt are the ones pytest logs, and they carry each earlier attempt as an :class:`Attempt`:
its verdict, its failure as the console shows it and its latest exchanges, secrets masked.
They travel on the reports as plain values (``openmedia_attempts``), so they survive
pytest-xdist like the verdict. The console's flaky section, the JUnit ``<flakyFailure>`` /
``<rerunFailure>`` elements and the sections of a failure that failed every attempt are made
from them; the Allure results of earlier attempts are written as each attempt ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from conformance.verdicts import ConformanceFailure, Verdict

ATTEMPTS_ATTR = "openmedia_attempts"
"""The report attribute carrying the earlier attempts (a list of plain dicts)."""


@dataclass(frozen=True)
class Attempt:
    """One earlier attempt of a test: which (from 1), its verdict, why it did not pass."""

    number: int
    verdict: Verdict
    failure: str
    """The failure as the console shows it (Expected / Actual, or the error), secrets masked."""
    exception: str = ""
    """The exception's class name (JUnit's ``type``)."""
    exchanges: str = ""
    """Its latest exchanges, rendered as a failure's ``openmedia exchanges`` section."""
    baseline: str = ""
    """The ``--om-baseline`` entry that listed its failure (an *expected failure*), if any."""
    summary: str = ""
    """The failure in one line, from its exception (``""``: the failure's first line)."""

    @property
    def message(self) -> str:
        """The failure in one line (JUnit's ``message``, the console)."""
        if self.summary:
            return self.summary
        lines = [line.strip() for line in self.failure.splitlines() if line.strip()]
        return lines[0] if lines else str(self.verdict)

    def title(self, total: int) -> str:
        """``attempt 1 of 2: fail``: the name of its section in every report."""
        return f"attempt {self.number} of {total}: {self.verdict}"

    def as_plain(self) -> dict[str, object]:
        plain = asdict(self)
        plain["verdict"] = self.verdict.value
        return plain

    @classmethod
    def from_plain(cls, plain: dict[str, object]) -> Attempt:
        return cls(
            number=int(str(plain["number"])),
            verdict=Verdict(str(plain["verdict"])),
            failure=str(plain.get("failure", "")),
            exception=str(plain.get("exception", "")),
            exchanges=str(plain.get("exchanges", "")),
            baseline=str(plain.get("baseline", "")),
            summary=str(plain.get("summary", "")),
        )


def attempts_of(report: object) -> tuple[Attempt, ...]:
    """The earlier attempts a report carries (none: the test ran once)."""
    plain = getattr(report, ATTEMPTS_ATTR, None) or ()
    return tuple(Attempt.from_plain(entry) for entry in plain)


def set_attempts(report: object, attempts: Sequence[Attempt]) -> None:
    """Put the earlier attempts on the report, as plain values that travel between processes."""
    setattr(report, ATTEMPTS_ATTR, [attempt.as_plain() for attempt in attempts])


def flaky_message(attempts: Sequence[Attempt]) -> str:
    """Why a test is *flaky*, in one line: ``failed on attempt 1 of 2 (fail: ...), passed on
    attempt 2``."""
    total = len(attempts) + 1
    failed = "; ".join(
        f"attempt {a.number} of {total} ({a.verdict}: {a.message})" for a in attempts
    )
    return f"flaky: failed on {failed}, passed on attempt {total}"


def attempt_text(attempt: Attempt) -> str:
    """An earlier attempt's failure and exchanges, as one report section's text."""
    if not attempt.exchanges:
        return attempt.failure
    return f"{attempt.failure}\n\n{attempt.exchanges}"


def flaky_lines(nodeid: str, attempts: Sequence[Attempt], passed_exchanges: str) -> list[str]:
    """A flaky test in the console's flaky section: its ID, each failed attempt's failure and
    exchanges, and the exchanges of the attempt that passed."""
    total = len(attempts) + 1
    lines = [f"{nodeid}: {flaky_message(attempts).removeprefix('flaky: ')}"]
    for attempt in attempts:
        lines.append(f"--- {attempt.title(total)}")
        lines += attempt_text(attempt).splitlines()
    if passed_exchanges:
        lines.append(f"--- attempt {total} of {total}: passed")
        lines += passed_exchanges.splitlines()
    return lines


def summary_of(exc: BaseException | None) -> str:
    """An exception in one line: a requirement's failure by its requirement and title, anything
    else by its class and the first line of its message (``""``: no exception)."""
    if exc is None:
        return ""
    lines = str(exc).strip().splitlines()
    first = lines[0].strip() if lines else ""
    if isinstance(exc, ConformanceFailure):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
