"""Safe mode's machinery: pace, request tracking, cleanup with DoNotReport, the leak audit.

A production server serves real traffic while the suite runs. In safe mode (``[target]
safe_mode``, on for every profile but the emulator's) the suite therefore

* keeps a pace (``[target] max_requests_per_second``, else ``SAFE_MODE_RATE``) in the transport
  of every client the fixtures build;
* tracks every request it created (each AddRequest answer carrying an OpenMediaID) and each one
  it saw terminate, and cancels the rest with ``CancelIfAllocated`` and ``DoNotReport`` as soon
  as the test (or the broader fixture) that created them ends, so that no real agent of the
  group is offered one; at the end of the run it cancels whatever is still left: nothing it
  added stays queued or with an agent, and no statistic counts it;
* sends SetOptions, which changes the whole server for good, only with the values the profile
  names as in force (``[[overwrite_server_options]]``; none without them), and lists every
  SetOptions it sent in the audit, since SOAP offers no way to read options back or restore them;
* holds a SIGINT/SIGTERM back while a request is on the wire (at most one exchange timeout):
  otherwise an interrupt between "the server created it" and "the suite read its ID" would
  leave a request nobody knows of;
* ends with the leak audit: ``openmedia leak audit: created N, cleaned N, left behind: [...];
  SetOptions sent: ...``.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from conformance.profile import describe_options
from conformance.verdicts import NotApplicable

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
    options: list[dict[str, str]] = field(default_factory=list)
    """Every SetOptions sent, as its members' wire texts, in order (nothing can undo one)."""
    scopes: list[str] = field(default_factory=list)
    """The broader-scoped fixtures being set up now, innermost last (their requests are theirs)."""
    owner: dict[int, str] = field(default_factory=dict)
    """Who created each request: a broader-scoped fixture's key, or ``TEST`` (the running test)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    TEST: ClassVar[str] = ""

    def set_target(self, url: str, embedded: bool) -> None:
        with self.lock:
            if self.url is None:
                self.url, self.embedded = url, embedded
                self._journal({"target": url, "embedded": embedded})

    def note(self, event: str, oid: int, detail: str = "") -> None:
        """``created``, ``terminated`` (seen so), ``cleaned`` or ``left`` (with the why), or
        ``retry``: a request left by a test's cleanup is pending again, for the end of the run."""
        with self.lock:
            if event == "created":
                if oid in self.created:
                    return
                self.created[oid] = None
                self.owner[oid] = self.scopes[-1] if self.scopes else self.TEST
            elif event == "terminated":
                if oid not in self.created or oid in self.terminated:
                    return  # another client's request, or known: nothing to journal
                self.terminated.add(oid)
            elif event == "retry":
                if self.outcome.pop(oid, None) is None:
                    return
            else:
                self.outcome[oid] = detail
            self._journal({event: oid, **({"detail": detail} if detail else {})})

    def note_options(self, members: dict[str, str]) -> None:
        """A SetOptions about to be sent (journalled first: an interrupt cannot hide it)."""
        with self.lock:
            self.options.append(dict(members))
            self._journal({"options": members})

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

    def pending_of(self, owner: str) -> list[int]:
        """What ``owner`` (a fixture's key, or ``TEST``) created and is still to be cancelled."""
        return [i for i in self.pending() if self.owner.get(i, self.TEST) == owner]

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
                    if "options" in entry:
                        ledger.note_options({str(k): str(v) for k, v in entry["options"].items()})
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


# -- SetOptions --------------------------------------------------------------------------------
SET_OPTIONS = "SetOptions"


@dataclass(frozen=True)
class OptionsGate:
    """Which SetOptions may leave this process: exactly the profile's values in force.

    The tests that send SetOptions are *not applicable* in safe mode before they send anything
    (their ``sets_options`` marker); this gate, in the transport every suite client uses, is
    what makes that a guarantee: a SetOptions that is not one of ``allowed`` (member for member,
    as the wire writes them) is never sent, whoever builds it, property tests and raw robustness
    bodies included. Anything that might be taken for a SetOptions (its SOAPAction, or its name
    anywhere in the body) must parse as one of the allowed ones.
    """

    allowed: tuple[dict[str, str], ...]
    refusal: str
    """The *not applicable* reason for a SetOptions the gate stops."""

    def admit(self, body: bytes, headers: Any) -> dict[str, str] | None:
        """``None`` when the request is no SetOptions; its members when it is an allowed one;
        ``NotApplicable`` (nothing sent) otherwise."""
        action = " ".join(v for k, v in headers if k.lower() == "soapaction")
        if SET_OPTIONS.encode() not in body and SET_OPTIONS not in action:
            return None
        members = _set_options_members(body)
        if members is not None and members in self.allowed:
            return members
        shown = describe_options(members) if members is not None else "not one the gate can read"
        raise NotApplicable(SET_OPTIONS, f"{self.refusal}; stopped before sending ({shown})")


def _set_options_members(body: bytes) -> dict[str, str] | None:
    """The members of a well-formed SetOptions envelope as wire texts; ``None`` for anything
    else (an unparsable body, another operation, a nil, an attribute, a nested element)."""
    from lxml import etree

    from conformance.contract.xmlsafe import parse

    try:
        root = parse(body)
    except Exception:
        return None
    bodies = [e for e in root if isinstance(e.tag, str) and etree.QName(e).localname == "Body"]
    calls = [e for b in bodies for e in b if isinstance(e.tag, str)]
    if len(calls) != 1 or etree.QName(calls[0]).localname != SET_OPTIONS:
        return None
    wrapped = [e for e in calls[0] if isinstance(e.tag, str)]
    if len(wrapped) != 1 or wrapped[0].attrib:
        return None
    members: dict[str, str] = {}
    for element in wrapped[0]:
        if not isinstance(element.tag, str) or element.attrib or len(element):
            return None
        members[etree.QName(element).localname] = (element.text or "").strip()
    return members


def options_texts(members: dict[str, int | bool]) -> dict[str, str]:
    """SetOptions members as the wire writes them (``4``, ``true``), for ``OptionsGate``."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in members.items()}


# -- the transport -----------------------------------------------------------------------------
@functools.cache
def _transport_class() -> Callable[
    [Ledger | None, RateLimiter | None, float, OptionsGate | None], Transport
]:
    """Built on first use: importing the wire layer is not free, and most runs never need it."""
    from conformance.wire import Transport

    class SafeTransport(Transport):
        """Keeps the pace; with a gate, sends only the SetOptions it admits (and journals
        them); with a ledger, records what each answer tells of the suite's requests, holding
        a signal back until it has."""

        def __init__(
            self,
            ledger: Ledger | None,
            limiter: RateLimiter | None,
            timeout_s: float,
            gate: OptionsGate | None,
        ) -> None:
            super().__init__(timeout_s=timeout_s)
            self.ledger = ledger
            self.limiter = limiter
            self.gate = gate

        def request(
            self,
            method: str,
            url: str,
            body: bytes = b"",
            headers: Iterable[tuple[str, str]] = (),
            **kwargs: Any,
        ) -> Exchange:
            headers = tuple(headers)
            if self.gate is not None:
                options = self.gate.admit(body, headers)
                if options is not None and self.ledger is not None:
                    self.ledger.note_options(options)
            if self.limiter is not None:
                self.limiter.wait()
            if self.ledger is None:
                return super().request(method, url, body, headers, **kwargs)
            with GUARD.deferring():
                exchange = super().request(method, url, body, headers, **kwargs)
                self.ledger.observe(exchange)
            return exchange

    return SafeTransport


def safe_transport(
    ledger: Ledger | None,
    limiter: RateLimiter | None,
    timeout_s: float,
    gate: OptionsGate | None = None,
) -> Transport:
    """A transport that keeps ``limiter``'s pace; given a gate, sends only the SetOptions it
    admits; given a ledger, tracks requests and the SetOptions sent."""
    return _transport_class()(ledger, limiter, timeout_s, gate)


# -- cleanup -----------------------------------------------------------------------------------
CANCELLED_AFTER_TEST = "cancelled when its test ended"
"""The outcome of a request cancelled when its test ended (the end of the run: ``cancelled``)."""


def clean(
    ledger: Ledger,
    client: OpenMediaClient,
    pending: list[int],
    budget_s: float,
    *,
    cancelled: str = "cancelled",
) -> None:
    """Cancel each pending request (CancelIfAllocated, DoNotReport); note every outcome
    (``cancelled`` names a successful cancellation)."""
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
            ledger.note("cleaned", oid, cancelled)
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
    """What the run created and what it left behind (and why), over all its processes, and
    every SetOptions it sent (no cleanup can take one back, so each is listed)."""

    created: tuple[int, ...]
    cleaned: tuple[int, ...]
    left_behind: dict[int, str]
    cancelled_at_end: tuple[int, ...]
    """Cancelled by the end-of-run cleanup, the safety net: a request a test's end missed."""
    cancelled_after_test: tuple[int, ...] = ()
    """Cancelled as soon as the test (or broader fixture) that created it ended."""
    options: tuple[dict[str, str], ...] = ()

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
            cancelled_after_test=tuple(
                i for i in created if outcome.get(i) == CANCELLED_AFTER_TEST
            ),
            options=tuple(o for ledger in ledgers for o in ledger.options),
        )

    def line(self) -> str:
        distinct = dict.fromkeys(describe_options(o) for o in self.options)
        sent = f"{len(self.options)} ({'; '.join(distinct)})" if self.options else "none"
        return (
            f"openmedia leak audit: created {len(self.created)}, cleaned {len(self.cleaned)}, "
            f"left behind: {sorted(self.left_behind)}; SetOptions sent: {sent}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line(),
            "created": len(self.created),
            "cleaned": len(self.cleaned),
            "left_behind": sorted(self.left_behind),
            "why_left": {str(i): why for i, why in sorted(self.left_behind.items())},
            "cancelled_at_end": list(self.cancelled_at_end),
            "cancelled_after_test": list(self.cancelled_after_test),
            "created_ids": list(self.created),
            "set_options_sent": [dict(o) for o in self.options],
        }
