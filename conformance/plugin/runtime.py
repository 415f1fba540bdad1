"""The plugin's per-session state: the target once started, the evidence, the verdict tally.

Kept out of ``plugin.py`` so the plugin stays a list of hooks that delegate. One
``SessionRuntime`` lives in ``config.stash`` per pytest process (each xdist worker has its own,
and so its own embedded emulator). It is the only mutable object of the plugin, and tests never
see it: they get the frozen ``TargetSession``.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance.plugin.settings import RunSettings
from conformance.profile.session import TargetSession
from conformance.reporting.attachments import ExchangeNote, exchange_name, note
from conformance.secrets import Secrets
from conformance.verdicts import SuiteError, UsageError, Verdict

if TYPE_CHECKING:
    from conformance.plugin.embedded import EmbeddedEmulator, ThreadEmulator
    from conformance.reporting.baseline import Outcome
    from conformance.reporting.certificate import TestResult
    from conformance.wire import Exchange

SETTINGS_KEY = pytest.StashKey[RunSettings]()
"""The run's settings, read once at configure (``conformance.plugin.configuration``)."""
RUNTIME_KEY = pytest.StashKey["SessionRuntime"]()
"""Where the plugin keeps the session's runtime in ``config.stash``."""
SUITE_ITEM_KEY = pytest.StashKey[bool]()
"""Set on an item that is a suite test (in a suite folder or citing requirements)."""
VERDICT_ATTR = "openmedia_verdict"
"""The report attribute carrying the verdict (its plain string value, so it survives xdist:
set and read it with :func:`set_verdict` and :func:`verdict_of`)."""
NOT_APPLICABLE_REASON_ATTR = "openmedia_not_applicable"
"""On a *not applicable* report: the ``NotApplicableReason``'s name (a plain string, as above)."""
NOT_APPLICABLE_FEATURE_ATTR = "openmedia_lacks"
"""On a *not applicable* report: what the test needed (``NotApplicable.feature``)."""
MAX_SHOWN_EXCHANGES = 3
MAX_SHOWN_BODY = 4000
MAX_KEPT_EXCHANGES = 5000
"""A test's most recent exchanges kept whole until its verdict is known (older ones: a note)."""
MAX_KEPT_BYTES = 32 * 1024 * 1024
"""...and at most this many bytes of their bodies: a test's evidence never outgrows memory."""
MAX_NOTES = 1000
"""Exchanges of a test listed one by one in its compact record; the rest are counted."""
SILENT_TESTS_TO_STOP = 3
"""Tests in a row that end in a transport error (no usable answer: timed out, refused, reset)
after which the run stops: against a target that has gone silent, every further test would
only wait out its exchange timeout. A re-run (``--om-reruns``) counts as a test here: the
bound is on the time waited, which each attempt spends alike."""


def verdict_of(report: object) -> Verdict | None:
    """The verdict a report carries (``None``: not a suite test's verdict-bearing report)."""
    value = getattr(report, VERDICT_ATTR, None)
    return None if value is None else Verdict(value)


def set_verdict(report: object, verdict: Verdict) -> None:
    """Put ``verdict`` on the report, as the plain string that travels between processes."""
    setattr(report, VERDICT_ATTR, verdict.value)


class ConformanceWarning(pytest.PytestWarning):
    """A SHOULD or OPEN requirement was not met: reported, but it does not fail the target.

    Defined here rather than in the plugin module so that the class stays one and the same
    object for ``-W`` filters, however often pytest re-imports its plugin modules.
    """


@dataclass
class Tally:
    """Verdicts counted from reports (so they also add up across xdist workers)."""

    counts: dict[Verdict, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    flaky: list[list[str]] = field(default_factory=list)
    """Each flaky test's lines for the console (``reporting.attempts.flaky_lines``)."""
    failures: int = 0
    errors: int = 0
    suite_seen: bool = False

    def add(self, verdict: Verdict) -> None:
        self.counts[verdict] = self.counts.get(verdict, 0) + 1

    def line(self) -> str:
        order = (
            Verdict.PASS,
            Verdict.WARNING,
            Verdict.NOT_APPLICABLE,
            Verdict.SKIPPED,
            Verdict.BASELINE,
            Verdict.FLAKY,
            Verdict.FAIL,
            Verdict.ERROR,
        )
        parts = [f"{self.counts[v]} {v}" for v in order if self.counts.get(v)]
        return ", ".join(parts) or "no verdicts"


class Evidence:
    """One test's exchanges, in bounded memory: the latest whole, the older ones as notes.

    Whether a test's exchanges are attached in full depends on its verdict, known only once the
    test has ended, so they are held until then. The most recent ones are kept whole (at most
    ``MAX_KEPT_EXCHANGES`` and ``MAX_KEPT_BYTES`` of bodies); an older one leaves a note, one
    line of the compact record (at most ``MAX_NOTES``, the rest counted by operation).
    """

    def __init__(self) -> None:
        self.count = 0
        self._kept: deque[Exchange] = deque()
        self._kept_bytes = 0
        self._notes: list[ExchangeNote] = []
        self.unlisted: Counter[str] = Counter()

    def add(self, exchange: Exchange) -> None:
        self.count += 1
        self._kept.append(exchange)
        self._kept_bytes += _size(exchange)
        while len(self._kept) > 1 and (
            len(self._kept) > MAX_KEPT_EXCHANGES or self._kept_bytes > MAX_KEPT_BYTES
        ):
            dropped = self._kept.popleft()
            self._kept_bytes -= _size(dropped)
            self._note(self.first_kept - 1, dropped)

    @property
    def exchanges(self) -> list[Exchange]:
        """The exchanges kept whole, oldest first (numbered from ``first_kept``)."""
        return list(self._kept)

    @property
    def first_kept(self) -> int:
        """The number (from 1, in the order they happened) of the oldest exchange kept whole."""
        return self.count - len(self._kept) + 1

    def notes(self) -> tuple[list[ExchangeNote], Counter[str]]:
        """A note of every exchange, oldest first, as far as ``MAX_NOTES`` goes; the rest
        counted by operation."""
        notes, unlisted = list(self._notes), Counter(self.unlisted)
        for number, exchange in enumerate(self._kept, start=self.first_kept):
            if len(notes) < MAX_NOTES:
                notes.append(note(number, exchange))
            else:
                unlisted[exchange_name(exchange)] += 1
        return notes, unlisted

    def _note(self, number: int, exchange: Exchange) -> None:
        if len(self._notes) < MAX_NOTES:
            self._notes.append(note(number, exchange))
        else:
            self.unlisted[exchange_name(exchange)] += 1


def _size(exchange: Exchange) -> int:
    return len(exchange.request_body) + len(exchange.response_body)


class SessionRuntime:
    """Starts the target on first use, records exchanges per test, masks the run's secrets."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.secrets: Secrets = settings.secrets
        """The run's registry of secrets: the configured ones, and each password an exchange
        of this process carried (a scenario's users, a test's own wrong password)."""
        self.emulator: EmbeddedEmulator | ThreadEmulator | None = None
        self.target: TargetSession | None = None
        self.evidence: Evidence | None = None
        self.tally = Tally()
        self.results: list[TestResult] = []
        """Each verdict-bearing report of a suite test, as the reports read it (under xdist:
        in the controller, which receives every worker's reports)."""
        self.baseline_outcome: Outcome | None = None
        """What ``--om-baseline`` says about the finished run (matched, stale, expired entries)."""
        self._start_failure: SuiteError | None = None
        self.silent_tests = 0
        """How many of the latest tests in a row ended in a transport error."""

    # -- the target ----------------------------------------------------------------------
    def target_session(self) -> TargetSession:
        """The target, started (embedded emulator) and discovered (control features) once."""
        if self.target is not None:
            return self.target
        if self._start_failure is not None:
            # A target that could not be started or discovered once is not tried again for
            # every test: each later test reports the same error at no cost.
            raise SuiteError(str(self._start_failure))
        try:
            self.target = self._start()
        except SuiteError as exc:
            self._start_failure = exc
            raise
        return self.target

    def _start(self) -> TargetSession:
        settings = self.settings
        control_url: str | None
        if settings.embedded:
            from conformance.plugin.embedded import EmbeddedEmulator, ThreadEmulator

            if settings.embedded_mode == "thread":
                self.emulator = ThreadEmulator(settings.emulator_faults)
            else:
                self.emulator = EmbeddedEmulator(settings.emulator_faults)
            urls = self.emulator.start()
            url, control_url = urls.service_url, urls.control_url
        else:
            assert settings.target_url is not None
            url, control_url = settings.target_url, settings.control_url
        return TargetSession(
            url=url,
            control_url=control_url,
            profile=settings.profile,
            features=self._discover(control_url),
            strict=settings.strict,
            timeout_s=settings.timeout_s,
            credentials=settings.credentials(),
            embedded=settings.embedded,
        )

    def _discover(self, control_url: str | None) -> frozenset[str]:
        if control_url is None:
            return frozenset()
        from conformance.wire import ControlClient

        client = ControlClient(control_url, self.settings.timeout_s, on_exchange=self.record)
        try:
            return client.discover()
        except SuiteError as exc:
            raise SuiteError(
                f"the control plane at {control_url} did not answer its discovery: {exc}; "
                "check --om-control-url (or leave it out for a target without a control plane)"
            ) from exc
        finally:
            client.close()

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def note_outcome(self, transport_error: str | None) -> str | None:
        """Count a finished test: its transport error, or ``None`` when it got answers. Returns
        the reason to stop the run once ``SILENT_TESTS_TO_STOP`` tests in a row had none."""
        self.silent_tests = 0 if transport_error is None else self.silent_tests + 1
        if transport_error is None or self.silent_tests < SILENT_TESTS_TO_STOP:
            return None
        return (
            f"the target gave no usable answer in {self.silent_tests} tests in a row, re-runs "
            "included "
            f"(last: {transport_error}), so the remaining tests were not run; check that it is "
            "up, or raise --om-exchange-timeout"
        )

    # -- evidence --------------------------------------------------------------------------
    def begin_test(self) -> Evidence:
        self.evidence = Evidence()
        return self.evidence

    @property
    def exchanges(self) -> list[Exchange] | None:
        """The current test's exchanges kept whole (``None`` before the first test)."""
        return None if self.evidence is None else self.evidence.exchanges

    def record(self, exchange: Exchange) -> None:
        """Keep an exchange as the current test's evidence (``on_exchange`` of every client)."""
        if self.evidence is not None:
            self.evidence.add(exchange)
        carried = exchange.secrets
        if not carried.values <= self.secrets.values:
            self.secrets = self.secrets | carried

    def render_exchanges(self, exchanges: list[Any]) -> str:
        """The last few exchanges of a test, as a report section, secrets masked."""
        shown = exchanges[-MAX_SHOWN_EXCHANGES:]
        blocks = []
        if len(exchanges) > len(shown):
            blocks.append(f"({len(exchanges) - len(shown)} earlier exchange(s) not shown)")
        for exchange in shown:
            body = exchange.response_body[:MAX_SHOWN_BODY].decode("utf-8", errors="replace")
            blocks.append(
                f"{exchange!r}\n$ {exchange.curl()}\n<- {exchange.status} {exchange.reason}\n"
                f"{body}"
                + (" …(truncated)" if len(exchange.response_body) > MAX_SHOWN_BODY else "")
            )
        return self.redact("\n\n".join(blocks))

    def redact(self, text: str) -> str:
        """The text with every secret of the run replaced by ``***`` (``Secrets.mask``)."""
        return self.secrets.mask(text)


def runtime_of(config: pytest.Config) -> SessionRuntime:
    """The session's runtime (for the fixtures); a usage error if configure did not run."""
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is None:
        raise UsageError("the openmedia plugin is not configured in this pytest run")
    return runtime
