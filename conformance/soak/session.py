"""One soak from start to end: the clients, the progress line, the stop, safe mode's cleanup and
leak audit, the summary and the JSON, and the exit status.

Safe mode is wired as a suite run wires it (``conformance.plugin.safe_mode``): one ledger
records every request the soak's answers tell of, the clients' transports keep the profile's
pace between them and admit only the profile's SetOptions, and at the end (the bound, Ctrl-C or
SIGTERM) everything still open is cancelled with CancelIfAllocated and DoNotReport, under the
same interrupt guard (a second Ctrl-C says what abandoning would leave, the third abandons),
and the leak audit is written to ``reports/leak-audit.json`` for ``openmedia-conformance
cleanup``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from conformance.checks.status import read_answer
from conformance.safemode.audit import Audit
from conformance.safemode.cleanup import Cleanup
from conformance.safemode.interrupts import GUARD
from conformance.safemode.ledger import Ledger
from conformance.safemode.transport import OptionsGate, RateLimiter, options_texts, safe_transport
from conformance.soak.invariants import FEEDBACK
from conformance.soak.mix import Mix
from conformance.soak.model import SoakModel
from conformance.soak.progress import Progress
from conformance.soak.report import SoakResult
from conformance.soak.runner import (
    MAX_RESPONSE_BYTES,
    Budget,
    PollStream,
    Shared,
    SoakClient,
    start_clients,
)
from conformance.soak.stats import SoakStats
from conformance.suite_support.status_queries import mark
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire import OpenMediaClient, Transport, TransportError

if TYPE_CHECKING:
    from conformance.checks.status import Stamp
    from conformance.plugin.settings import RunSettings

AUDIT_FILE = Path("reports") / "leak-audit.json"
"""Where the leak audit goes: where a suite run writes it, so ``cleanup`` finds it unnamed."""
JOIN_WAIT_S = 0.2


class Exit(IntEnum):
    """The soak's exit statuses."""

    CLEAN = 0
    """The bound was reached with no violation (warnings allowed unless strict)."""
    VIOLATIONS = 1
    USAGE = 2
    NOT_RUN = 3
    """The target could not be reached or is no Open Media service; or the soak was interrupted
    (or a client of ours broke) before its bound, with no violation."""


@dataclass(frozen=True)
class SoakOptions:
    """The soak's own options (the target's come from ``RunSettings``)."""

    clients: int
    duration_s: float | None
    requests: int | None
    seed: int
    strict: bool = False
    json_path: Path | None = None


@dataclass(frozen=True)
class Target:
    """What the soak talks to: its SOAP URL and how to name it."""

    url: str
    name: str
    embedded: bool


class SafeMode:
    """Safe mode's parts for one soak: the shared pace, the ledger, the SetOptions gate."""

    def __init__(self, settings: RunSettings, target: Target, mix: Mix) -> None:
        rate = settings.profile.target.rate_limit
        self.limiter = RateLimiter(rate) if rate else None
        self.ledger = Ledger()
        self.ledger.set_target(target.url, target.embedded)
        self.gate = OptionsGate(
            allowed=tuple(options_texts(m) for m in mix.options),
            refusal="safe mode sends only the profile's [[overwrite_server_options]]",
        )
        self.settings = settings

    def transport(self) -> Transport:
        return safe_transport(self.ledger, self.limiter, self.settings.timeout_s, self.gate)

    def finish(self, out: TextIO) -> Audit:
        """Cancel what is still open (DoNotReport), write the leak audit, return it."""
        self._write(Audit.of([self.ledger]))  # what a kill during the cleanup would leave
        cleanup = Cleanup([self.ledger], out)
        GUARD.install()
        try:
            cleanup.run(self.settings.credentials(), self.settings.timeout_s, self.limiter, GUARD)
        finally:
            GUARD.restore()
        audit = Audit.of([self.ledger])
        self._write(audit)
        return audit

    @staticmethod
    def _write(audit: Audit) -> None:
        with contextlib.suppress(OSError):
            AUDIT_FILE.parent.mkdir(parents=True, exist_ok=True)
            AUDIT_FILE.write_text(json.dumps(audit.as_dict(), indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the clients run, SIGTERM stops the soak as Ctrl-C does (then the cleanup runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGTERM)
    installed = previous == signal.SIG_DFL
    if installed:
        signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start_mark(target: Target, settings: RunSettings, transport: Transport) -> Stamp:
    """The target's "now", where the by-time stream starts (R12): the TimeStamp of a by-time
    answer asked for the events after our own clock's now (a short answer on any server, whatever
    its cache holds); else the suite's ``mark``."""
    client = OpenMediaClient(target.url, credentials=settings.credentials(), transport=transport)
    try:
        try:
            reply = client.get_requests_by_time(datetime.now(timezone.utc))
            return read_answer(reply, FEEDBACK).stamp
        except ConformanceFailure:
            return mark(client)
    finally:
        client.close()


def soak(settings: RunSettings, target: Target, options: SoakOptions, out: TextIO) -> int:
    """Run one soak against ``target``; print its progress and summary to ``out``; return the
    exit status. ``UsageError`` (a profile without an open group) is the caller's to show."""
    mix = Mix.of(settings.profile)
    safe = SafeMode(settings, target, mix) if mix.safe_mode else None

    def transport() -> Transport:
        if safe is not None:
            return safe.transport()
        return Transport(timeout_s=settings.timeout_s, max_response_bytes=MAX_RESPONSE_BYTES)

    pace = ""
    if safe is not None:
        rate = settings.profile.target.rate_limit
        pace = f"; safe mode, at most {rate:g} requests a second" if rate else "; safe mode"
    bound = []
    if options.duration_s is not None:
        bound.append(f"{options.duration_s:g} s")
    if options.requests is not None:
        bound.append(f"{options.requests:,} requests")
    print(
        f"openmedia soak: {options.clients} clients against {target.name} for "
        f"{' or '.join(bound)} (seed {options.seed}){pace}",
        file=out,
        flush=True,
    )
    try:
        start = _start_mark(target, settings, transport())
    except (SuiteError, TransportError) as exc:
        print(f"openmedia soak: cannot start the by-time stream: {exc}", file=sys.stderr)
        return Exit.NOT_RUN

    started = time.monotonic()
    model = SoakModel(settings.profile.data_expiration_minutes * 60.0, started)
    stats = SoakStats(tuple(mix.weights) + tuple(mix.not_sent))
    budget = Budget(options.requests, options.duration_s, started)
    shared = Shared(mix, model, stats, budget, PollStream(start))
    progress = Progress(out, stats, model, options.duration_s, options.requests, started)
    interrupted = False
    with _sigterm_as_interrupt():
        clients: list[tuple[SoakClient, threading.Thread]] = []
        try:
            clients = start_clients(
                options.clients,
                options.seed,
                shared,
                target.url,
                settings.credentials(),
                transport,
            )
            _wait(clients, progress.tick)
        except KeyboardInterrupt:
            interrupted = True
            budget.stop("interrupted")
            progress.close()
            progress.say(
                "openmedia soak: stopping: each client finishes the request it has on the wire "
                f"(at most {settings.timeout_s:g} s)"
            )
            _finish(clients, progress)
    elapsed = time.monotonic() - started
    progress.close()
    audit = safe.finish(out) if safe is not None else None
    broken = [c.error for c, _ in clients if c.error is not None]
    facts = dict(
        target=target.name,
        profile=str(settings.profile_path),
        safe_mode=mix.safe_mode,
        clients=options.clients,
        seed=options.seed,
        duration_s=options.duration_s,
        requests_bound=options.requests,
        stopped=budget.stopped or "ended",
        interrupted=interrupted,
        not_sent=mix.not_sent,
        violations=tuple(model.violations.values()),
        strict=options.strict,
        audit=audit,
    )
    failing = model.failing(options.strict)
    status = Exit.VIOLATIONS if failing else Exit.CLEAN
    if status is Exit.CLEAN and (interrupted or broken):
        status = Exit.NOT_RUN
    if status is Exit.CLEAN and audit is not None and audit.left_behind:
        status = Exit.NOT_RUN
    result = SoakResult.collect(stats, elapsed, exit_status=int(status), **facts)
    for line in result.summary():
        print(line, file=out)
    if audit is not None and audit.left_behind:
        print(f"openmedia: to cancel them: openmedia-conformance cleanup {AUDIT_FILE}", file=out)
    for error in broken[:1]:
        print(
            f"openmedia soak: a client stopped on an error of the soak itself: {error!r}", file=out
        )
    if options.json_path is not None:
        print(result.write_json(options.json_path), file=out)
    out.flush()
    return int(status)


def _wait(clients: list[tuple[SoakClient, threading.Thread]], tick: Callable[[], None]) -> None:
    for _, thread in clients:
        while thread.is_alive():
            thread.join(JOIN_WAIT_S)
            tick()


def _finish(clients: list[tuple[SoakClient, threading.Thread]], progress: Progress) -> None:
    """Wait for the clients' last exchanges; a further Ctrl-C is said, not obeyed: a client
    stopped mid-exchange could leave a request created whose ID nobody read."""
    while any(thread.is_alive() for _, thread in clients):
        try:
            _wait(clients, lambda: None)
        except KeyboardInterrupt:
            progress.say("openmedia soak: still waiting for the requests on the wire")
