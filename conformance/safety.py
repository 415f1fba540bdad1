"""Safe mode's machinery: pace, request tracking, cleanup with DoNotReport, the leak audit.

A production server serves real traffic while the suite runs. In safe mode (``[target]
safe_mode``, on for every profile but the emulator's) the suite therefore

* keeps a pace (``[target] max_requests_per_second``, else ``SAFE_MODE_RATE``) in the transport
  of every client the fixtures build;
* tracks every request it created (each AddRequest answer carrying an OpenMediaID) and each one
  it saw terminate, and at the end cancels the rest with ``CancelIfAllocated`` and
  ``DoNotReport``: nothing it added stays queued or with an agent, and no statistic counts it;
* holds a SIGINT/SIGTERM back while a request is on the wire (at most one exchange timeout):
  otherwise an interrupt between "the server created it" and "the suite read its ID" would
  leave a request nobody knows of;
* ends with the leak audit: ``openmedia leak audit: created N, cleaned N, left behind: [...]``.

Each process journals what it learns as it happens (one JSON line per event), so that the run's
main process can clean up after an xdist worker that was stopped before it could, and count for
the whole run. The pytest hooks that drive all this are in ``conformance.safety_plugin``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.contract.operations import Operation
    from conformance.wire import Credentials, Exchange, OpenMediaClient, Transport

TERMINAL = frozenset({"Complete", "Failed", "Cancelled"})
"""Statuses a request never leaves (R14)."""
GONE_FAULTS = frozenset({"OpenMediaRequestTerminatedFault", "InvalidOpenMediaIDFault"})
"""CancelRequest faults that mean: nothing left to cancel (R9)."""
MAX_TRANSPORT_ERRORS = 2
"""Transport errors in a row after which a cleanup stops: the target is not answering."""


# -- pace --------------------------------------------------------------------------------------
class RateLimiter:
    """At most ``per_second`` request starts per second, shared by the process's clients."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


# -- signals -----------------------------------------------------------------------------------
class InterruptGuard:
    """SIGINT/SIGTERM handlers that wait while a request that may create one is on the wire.

    Installed only over the default handlers and only in the main thread (where Python runs
    signal handlers). SIGINT becomes ``KeyboardInterrupt``, SIGTERM ``pytest.exit``: both end
    the run through pytest's ``sessionfinish``, where the cleanup runs.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.pending: int | None = None
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self.previous:
            return
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for sig, default in defaults.items():
            if signal.getsignal(sig) is default:
                self.previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.depth > 0:
            self.pending = signum
            return
        self._raise(signum)

    @staticmethod
    def _raise(signum: int) -> None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        pytest.exit("openmedia: stopped by SIGTERM", returncode=pytest.ExitCode.INTERRUPTED)

    @contextlib.contextmanager
    def deferring(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0 and self.pending is not None:
                signum, self.pending = self.pending, None
                self._raise(signum)


GUARD = InterruptGuard()


# -- what the suite created --------------------------------------------------------------------
@dataclass
class Ledger:
    """The requests one process created and what became of them, journalled as it goes."""

    journal: Path | None = None
    url: str | None = None
    embedded: bool = False
    created: dict[int, None] = field(default_factory=dict)
    terminated: set[int] = field(default_factory=set)
    outcome: dict[int, str] = field(default_factory=dict)
    """The cleanup's result per ID: ``cancelled``, ``gone``, or ``left: <why>``."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_target(self, url: str, embedded: bool) -> None:
        with self.lock:
            if self.url is None:
                self.url, self.embedded = url, embedded
                self._journal({"target": url, "embedded": embedded})

    def note(self, event: str, oid: int, detail: str = "") -> None:
        """``created``, ``terminated`` (seen so), ``cleaned`` or ``left`` (with the why)."""
        with self.lock:
            if event == "created":
                if oid in self.created:
                    return
                self.created[oid] = None
            elif event == "terminated":
                if oid not in self.created or oid in self.terminated:
                    return  # another client's request, or known: nothing to journal
                self.terminated.add(oid)
            else:
                self.outcome[oid] = detail
            self._journal({event: oid, **({"detail": detail} if detail else {})})

    def _journal(self, entry: dict[str, Any]) -> None:
        if self.journal is None:
            return
        with contextlib.suppress(OSError):
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            with self.journal.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    def pending(self) -> list[int]:
        """Created, not seen terminated, not yet cleaned: what a cleanup must cancel."""
        with self.lock:
            return [i for i in self.created if i not in self.terminated and i not in self.outcome]

    def observe(self, exchange: Exchange) -> None:
        """Learn from one answer: an ID created, a request seen terminated. Never raises."""
        with contextlib.suppress(Exception):
            _observe(self, exchange)

    @classmethod
    def replay(cls, path: Path) -> Ledger:
        """Another process's ledger, read back from its journal (not journalled again)."""
        ledger = cls()
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, TypeError, KeyError, StopIteration):
                    entry = json.loads(line)
                    if "target" in entry:
                        ledger.set_target(str(entry["target"]), bool(entry.get("embedded")))
                        continue
                    event = next(k for k in entry if k != "detail")
                    ledger.note(event, int(entry[event]), str(entry.get("detail", "")))
        return ledger


def _observe(ledger: Ledger, exchange: Exchange) -> None:
    from conformance.wire import (
        AddOpenMediaResponse,
        DivertOpenMediaResponse,
        GetOpenMediaResponse,
        decode_reply,
    )
    from conformance.wire.decode import body_child

    if exchange.status != 200 or not exchange.response_body:
        return
    op = _by_output().get(body_child(exchange.response_tree).tag)
    if op is None:
        return
    value = decode_reply(exchange, op).value
    if isinstance(value, AddOpenMediaResponse) and (value.open_media_id or 0) > 0:
        ledger.note("created", int(value.open_media_id or 0))
    elif isinstance(value, DivertOpenMediaResponse) and (value.open_media_id or 0) > 0:
        if value.request_status == "Success":  # a target might issue a new ID on divert
            ledger.note("created", int(value.open_media_id or 0))
    elif isinstance(value, GetOpenMediaResponse):
        for record in value.requests:
            if record.status in TERMINAL and record.id:
                ledger.note("terminated", record.id)
    elif op.name == "CancelRequest" and value is True:
        oid = _cancelled_id(exchange.request_body)
        if oid is not None:
            ledger.note("terminated", oid)


@functools.cache
def _by_output() -> dict[str, Operation]:
    from conformance.contract.operations import OPERATIONS

    return {op.output_qname: op for op in OPERATIONS}


def _cancelled_id(body: bytes) -> int | None:
    from conformance.contract.xmlsafe import parse

    for element in parse(body).iter():
        if isinstance(element.tag, str) and element.tag.endswith("}OpenMediaID"):
            return int((element.text or "").strip())
    return None


# -- the transport -----------------------------------------------------------------------------
@functools.cache
def _transport_class() -> Callable[[Ledger | None, RateLimiter | None, float], Transport]:
    """Built on first use: importing the wire layer is not free, and most runs never need it."""
    from conformance.wire import Transport

    class SafeTransport(Transport):
        """Keeps the pace; with a ledger, records what each answer tells of the suite's
        requests, holding a signal back until it has."""

        def __init__(
            self, ledger: Ledger | None, limiter: RateLimiter | None, timeout_s: float
        ) -> None:
            super().__init__(timeout_s=timeout_s)
            self.ledger = ledger
            self.limiter = limiter

        def request(self, *args: Any, **kwargs: Any) -> Exchange:
            if self.limiter is not None:
                self.limiter.wait()
            if self.ledger is None:
                return super().request(*args, **kwargs)
            with GUARD.deferring():
                exchange = super().request(*args, **kwargs)
                self.ledger.observe(exchange)
            return exchange

    return SafeTransport


def safe_transport(
    ledger: Ledger | None, limiter: RateLimiter | None, timeout_s: float
) -> Transport:
    """A transport that keeps ``limiter``'s pace and, given a ledger, tracks requests."""
    return _transport_class()(ledger, limiter, timeout_s)


# -- cleanup -----------------------------------------------------------------------------------
def clean(ledger: Ledger, client: OpenMediaClient, pending: list[int], budget_s: float) -> None:
    """Cancel each pending request (CancelIfAllocated, DoNotReport); note every outcome."""
    from conformance.wire import TransportError

    deadline = time.monotonic() + budget_s
    errors = 0
    for n, oid in enumerate(pending):
        if errors >= MAX_TRANSPORT_ERRORS or time.monotonic() > deadline:
            why = "target not answering" if errors else f"cleanup budget of {budget_s:.0f} s spent"
            for rest in pending[n:]:
                ledger.note("left", rest, f"left: {why}")
            return
        try:
            reply = client.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=True)
        except TransportError as exc:
            errors += 1
            ledger.note("left", oid, f"left: {exc.reason}")
            continue
        except (KeyboardInterrupt, pytest.exit.Exception):
            for rest in pending[n:]:
                ledger.note("left", rest, "left: cleanup interrupted")
            return
        except Exception as exc:  # an undecodable answer: say so, go on
            ledger.note("left", oid, f"left: {type(exc).__name__}")
            continue
        errors = 0
        fault = reply.fault
        if fault is not None and fault.detail_local in GONE_FAULTS:
            ledger.note("cleaned", oid, "gone")
        elif fault is not None:
            ledger.note("left", oid, f"left: {fault.detail_local or fault.string}")
        elif reply.value is True:
            ledger.note("cleaned", oid, "cancelled")
        else:
            ledger.note("left", oid, f"left: CancelRequest answered {reply.value!r}")


def clean_target(
    ledger: Ledger,
    credentials: Credentials | None,
    timeout_s: float,
    limiter: RateLimiter | None,
) -> None:
    """Cancel what ``ledger`` still holds on its target, within a budget that cannot hang.

    Newest first: the oldest requests are the ones agents hold, and cancelling one of those
    first would hand its agent the next queued request, which then would have to be reported
    (DoNotReport applies only to a request not yet allocated).
    """
    pending = ledger.pending()[::-1]
    if not pending:
        return
    if ledger.embedded or ledger.url is None:  # the embedded emulator stops with the run
        for oid in pending:
            ledger.note("cleaned", oid, "gone with the embedded emulator")
        return
    from conformance.wire import OpenMediaClient

    budget = max(60.0, 3 * timeout_s) + (limiter.interval if limiter else 0.0) * len(pending)
    transport = safe_transport(None, limiter, timeout_s)
    client = OpenMediaClient(ledger.url, credentials=credentials, transport=transport)
    try:
        clean(ledger, client, pending, budget)
    finally:
        client.close()


# -- the audit ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Audit:
    """What the run created and what it left behind (and why), over all its processes."""

    created: tuple[int, ...]
    cleaned: tuple[int, ...]
    left_behind: dict[int, str]
    cancelled_at_end: tuple[int, ...]

    @classmethod
    def of(cls, ledgers: list[Ledger]) -> Audit:
        created = sorted({i for ledger in ledgers for i in ledger.created})
        outcome: dict[int, str] = {}
        for ledger in ledgers:
            outcome.update(ledger.outcome)
        done = {i for ledger in ledgers for i in ledger.terminated}
        done |= {i for i, how in outcome.items() if not how.startswith("left")}
        never = "left: never cleaned (its process was stopped first)"
        return cls(
            created=tuple(created),
            cleaned=tuple(i for i in created if i in done),
            left_behind={i: outcome.get(i, never) for i in created if i not in done},
            cancelled_at_end=tuple(i for i in created if outcome.get(i) == "cancelled"),
        )

    def line(self) -> str:
        return (
            f"openmedia leak audit: created {len(self.created)}, cleaned {len(self.cleaned)}, "
            f"left behind: {sorted(self.left_behind)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line(),
            "created": len(self.created),
            "cleaned": len(self.cleaned),
            "left_behind": sorted(self.left_behind),
            "why_left": {str(i): why for i, why in sorted(self.left_behind.items())},
            "cancelled_at_end": list(self.cancelled_at_end),
            "created_ids": list(self.created),
        }
