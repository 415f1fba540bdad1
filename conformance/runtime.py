"""The plugin's per-session state: the target once started, the evidence, the verdict tally.

Kept out of ``plugin.py`` so the plugin stays a list of hooks that delegate. One
``SessionRuntime`` lives in ``config.stash`` per pytest process (each xdist worker has its own,
and so its own embedded emulator). It is the only mutable object of the plugin, and tests never
see it: they get the frozen ``TargetSession``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance.secrets import Secrets
from conformance.settings import RunSettings, TargetSession
from conformance.verdicts import SuiteError

if TYPE_CHECKING:
    from conformance.embedded import EmbeddedEmulator, ThreadEmulator
    from conformance.wire import Exchange

RUNTIME_KEY = pytest.StashKey["SessionRuntime"]()
"""Where the plugin keeps the session's runtime in ``config.stash``."""
SUITE_ITEM_KEY = pytest.StashKey[bool]()
"""Set on an item that is a suite test (in a suite folder or citing requirements)."""
VERDICT_ATTR = "openmedia_verdict"
"""The report attribute carrying the verdict (a plain string, so it survives xdist)."""
MAX_SHOWN_EXCHANGES = 3
MAX_SHOWN_BODY = 4000
SILENT_TESTS_TO_STOP = 3
"""Tests in a row that end in a transport error (no usable answer: timed out, refused, reset)
after which the run stops: against a target that has gone silent, every further test would
only wait out its exchange timeout."""


class ConformanceWarning(pytest.PytestWarning):
    """A SHOULD or OPEN requirement was not met: reported, but it does not fail the target.

    Defined here rather than in the plugin module so that the class stays one and the same
    object for ``-W`` filters, however often pytest re-imports its plugin modules.
    """


@dataclass
class Tally:
    """Verdicts counted from reports (so they also add up across xdist workers)."""

    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    failures: int = 0
    errors: int = 0
    suite_seen: bool = False

    def add(self, verdict: str) -> None:
        self.counts[verdict] = self.counts.get(verdict, 0) + 1

    def line(self) -> str:
        order = ("pass", "warning", "not applicable", "skipped", "baseline", "fail", "error")
        parts = [f"{self.counts[v]} {v}" for v in order if self.counts.get(v)]
        return ", ".join(parts) or "no verdicts"


class SessionRuntime:
    """Starts the target on first use, records exchanges per test, masks the run's secrets."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.secrets: Secrets = settings.secrets
        """The run's registry of secrets: the configured ones, and each password an exchange
        of this process carried (a scenario's users, a test's own wrong password)."""
        self.emulator: EmbeddedEmulator | ThreadEmulator | None = None
        self.target: TargetSession | None = None
        self.exchanges: list[Exchange] | None = None
        self.tally = Tally()
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
            from conformance.embedded import EmbeddedEmulator, ThreadEmulator

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
                "check --control-url (or leave it out for a target without a control plane)"
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
            f"the target gave no usable answer in {self.silent_tests} tests in a row "
            f"(last: {transport_error}), so the remaining tests were not run; check that it is "
            "up, or raise --exchange-timeout"
        )

    # -- evidence --------------------------------------------------------------------------
    def begin_test(self) -> list[Exchange]:
        self.exchanges = []
        return self.exchanges

    def record(self, exchange: Exchange) -> None:
        """Keep an exchange as the current test's evidence (``on_exchange`` of every client)."""
        if self.exchanges is not None:
            self.exchanges.append(exchange)
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
