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
* shows the cleanup's progress, and lets neither a second Ctrl-C nor a SIGTERM cut it short: the
  second Ctrl-C says what abandoning would leave behind, only the third abandons;
* ends with the leak audit: ``openmedia leak audit: created N, cleaned N, left behind: [...];
  SetOptions sent: ...``, naming the target, so that ``openmedia-conformance cleanup`` can
  cancel what was left.

Each process journals what it learns as it happens (one JSON line per event), so that the run's
main process can clean up after an xdist worker that was stopped before it could, and count for
the whole run. The pytest hooks that drive all this are in ``conformance.plugin.safe_mode``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

import pytest

from conformance.profile import describe_options
from conformance.verdicts import NotApplicable, NotApplicableReason

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
ABANDON_AFTER = 3
"""The Ctrl-C that abandons a cleanup. The first stops the run (its cleanup follows), the
second says what abandoning would leave behind, the third abandons: a user who presses twice
out of impatience while the cleanup is silent for seconds must not leave requests queued."""


class Abandoned(BaseException):
    """Raised by the guard into a cleanup's wait (pace or exchange) on the Ctrl-C that abandons
    it, so a slow target does not hold the user for one more timeout. A ``BaseException``: no
    ``except Exception`` on the way may take it for an undecodable answer."""


class InterruptGuard:
    """SIGINT/SIGTERM handlers for safe mode: a stop never orphans a request, never a traceback.

    Installed only over the default handlers and only in the main thread (where Python runs
    signal handlers). The first signal stops the run: SIGINT becomes ``KeyboardInterrupt``,
    SIGTERM ``pytest.exit``, both through pytest's ``sessionfinish``, where the cleanup runs;
    while a request that may create one is on the wire it waits (at most one exchange timeout).
    Later signals raise nothing while pytest winds down (a second ``KeyboardInterrupt`` inside
    pytest's own handling of the first is what printed a 250-line traceback); they are counted,
    and a cleanup under way is told (``Cleanup.signalled``), which says what abandoning would
    leave behind and abandons on the third Ctrl-C. The handler takes no lock and writes only to
    a raw file descriptor: it runs between two bytecodes of whatever the main thread was doing.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.pending: int | None = None
        self.previous: dict[int, Any] = {}
        self.stopping = False
        """A signal has stopped (or is stopping) the run: none raises again."""
        self.ending = False
        """The run is ending on its own (``sessionfinish``): nothing is left for a signal to
        stop, and raising there would skip the cleanup and the audit."""
        self.presses = 0
        """SIGINTs since ``install``."""
        self.cleanup: Cleanup | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self.previous:
            return
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for sig, default in defaults.items():
            if signal.getsignal(sig) is default:
                self.previous[sig] = signal.signal(sig, self._handle)
        if self.previous:
            self.depth, self.pending, self.presses = 0, None, 0
            self.stopping = self.ending = False

    @property
    def installed(self) -> bool:
        return bool(self.previous)

    def restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}

    def _handle(self, signum: int, frame: object) -> None:
        if signum == signal.SIGINT:
            self.presses += 1
        cleanup = self.cleanup
        if cleanup is not None:
            self.stopping = True
            cleanup.signalled(signum, self.presses)  # may raise Abandoned
        elif self.stopping or self.ending:
            return  # the run is ending already; its cleanup will count this one
        elif self.depth > 0:
            self.pending = signum
        else:
            self._stop(signum)

    def _stop(self, signum: int) -> None:
        self.stopping = True
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
                if not self.stopping:
                    self._stop(signum)

    @contextlib.contextmanager
    def cleaning(self, cleanup: Cleanup) -> Iterator[None]:
        """Signals go to ``cleanup`` meanwhile (when the guard is installed in this thread)."""
        if not self.installed or threading.current_thread() is not threading.main_thread():
            yield
            return
        self.cleanup = cleanup
        try:
            yield
        finally:
            self.cleanup = None


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
        """The target the requests live on, journalled (the audit names it for ``cleanup``);
        a password in the URL's userinfo is masked: the SOAP header carries the credentials."""
        from conformance.wire.transport import _public_url

        with self.lock:
            if self.url is None:
                self.url, self.embedded = _public_url(url), embedded
                self._journal({"target": self.url, "embedded": embedded})

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
        raise NotApplicable(
            NotApplicableReason.SAFE_MODE,
            SET_OPTIONS,
            f"{self.refusal}; stopped before sending ({shown})",
        )


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
PROGRESS_EVERY_S = 2.0
"""How often a cleanup repeats its progress line on a console that is not a terminal (a
terminal's line is updated in place)."""
ABANDONED = "left: cleanup abandoned (Ctrl-C three times)"


class Cleanup:
    """One cleanup: what it cancels (one or more ledgers: the run's main process also cleans up
    after stopped xdist workers), its progress on the console, and what a signal does to it.

    ``out`` is the console; ``None`` keeps it silent (an xdist worker, whose stdout is not the
    user's). A worker hands over (``hand_over``): any signal abandons its cleanup at once, and
    the main process, which replays the worker's journal, cancels the rest where the user sees
    it. Everything is written to ``out``'s file descriptor directly: the signal handler writes
    too, and a buffered stream re-entered from a handler raises.
    """

    def __init__(
        self, ledgers: Iterable[Ledger], out: TextIO | None = None, *, hand_over: bool = False
    ) -> None:
        self.plan = [(ledger, pending) for ledger in ledgers if (pending := ledger.pending()[::-1])]
        self.left: list[int] = [oid for _, pending in self.plan for oid in pending]
        """Not tried yet: what abandoning now would leave behind (read by the signal handler)."""
        self.total = len(self.left)
        self.hand_over = hand_over
        self.abandoned = False
        self.blocking = False
        """In a pace wait or an exchange: the abandoning signal may raise ``Abandoned`` here."""
        self.answered = 0
        self.unreachable: str | None = None
        """The last transport error's reason (the command tells an unreachable target apart)."""
        self._fd = _descriptor(out)
        self._tty = self._fd is not None and os.isatty(self._fd)
        self._open_line = False
        self._shown = 0.0

    def run(
        self,
        credentials: Credentials | None,
        timeout_s: float,
        limiter: RateLimiter | None,
        guard: InterruptGuard | None = None,
    ) -> None:
        """Cancel everything planned, showing progress. Under ``guard`` (the end of a run, the
        ``cleanup`` command) a signal goes to ``signalled``; without one (a test's own cleanup)
        it stops the cleanup as it stops the run, and what is left stays pending."""
        for ledger, pending in [p for p in self.plan if p[0].embedded or p[0].url is None]:
            for oid in pending:  # the embedded emulator stops with the run
                ledger.note("cleaned", oid, "gone with the embedded emulator")
                self.tried(oid)
        self.plan = [p for p in self.plan if not (p[0].embedded or p[0].url is None)]
        self.total = len(self.left)
        if not self.left:
            return
        started = time.monotonic()
        with guard.cleaning(self) if guard else contextlib.nullcontext():
            pace = ""
            if limiter is not None:
                rate, eta = 1 / limiter.interval, self.total * limiter.interval
                pace = f", {rate:g} a second" + (f": about {eta:.0f} s" if eta >= 1 else "")
            self._emit(
                f"openmedia cleanup: cancelling {self.total} request(s) the run created on "
                f"{self.plan[0][0].url} (CancelIfAllocated, DoNotReport){pace}"
            )
            if guard and guard.cleanup is self and guard.presses > 1:  # pressed before it began
                self.signalled(signal.SIGINT, guard.presses)
            for ledger, pending in self.plan:
                self._clean_target(ledger, pending, credentials, timeout_s, limiter)
        outcomes = [ledger.outcome.get(oid, "") for ledger, pending in self.plan for oid in pending]
        done = sum(1 for how in outcomes if how and not how.startswith("left"))
        self._emit(
            f"openmedia cleanup: {done} of {self.total} cancelled or already gone"
            + (f", {self.total - done} left behind" if done < self.total else "")
            + f" ({time.monotonic() - started:.1f} s)"
        )

    def _clean_target(
        self,
        ledger: Ledger,
        pending: list[int],
        credentials: Credentials | None,
        timeout_s: float,
        limiter: RateLimiter | None,
    ) -> None:
        from conformance.wire import OpenMediaClient

        assert ledger.url is not None
        budget = max(60.0, 3 * timeout_s) + (limiter.interval if limiter else 0.0) * len(pending)
        transport = safe_transport(None, limiter, timeout_s)
        client = OpenMediaClient(ledger.url, credentials=credentials, transport=transport)
        try:
            clean(ledger, client, pending, budget, self)
        finally:
            client.close()

    # -- what clean() tells it ----------------------------------------------------------------
    def progress(self) -> None:
        now = time.monotonic()
        if self._tty or now - self._shown >= PROGRESS_EVERY_S:
            self._shown = now
            done = self.total - len(self.left)
            self._emit(f"openmedia cleanup: cancelling {done + 1} of {self.total} …", progress=True)

    def tried(self, oid: int) -> None:
        with contextlib.suppress(ValueError):
            self.left.remove(oid)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        self.blocking = True
        try:
            yield
        finally:
            self.blocking = False

    # -- what the signal handler tells it -----------------------------------------------------
    def signalled(self, signum: int, presses: int) -> None:
        """A signal during the cleanup: go on and say what stopping would cost, or abandon."""
        if self.abandoned:
            return
        left = sorted(self.left)
        if self.hand_over or (signum == signal.SIGINT and presses >= ABANDON_AFTER):
            self.abandoned = True
            self._emit(
                f"openmedia cleanup abandoned: {len(left)} request(s) left behind: {left}; "
                "`openmedia-conformance cleanup` cancels them later"
            )
            if self.blocking:
                raise Abandoned
        elif signum == signal.SIGINT and presses == ABANDON_AFTER - 1:
            self._emit(
                f"openmedia cleanup: Ctrl-C once more abandons the cleanup and leaves "
                f"{len(left)} request(s) behind: {left}"
            )
        elif signum == signal.SIGINT:
            self._emit(
                f"openmedia cleanup: still cancelling, {len(left)} of {self.total} left; "
                f"Ctrl-C {ABANDON_AFTER - presses} more times abandons it"
            )
        else:
            self._emit(
                f"openmedia cleanup: {signal.Signals(signum).name}: the cleanup goes on, "
                f"{len(left)} of {self.total} left"
            )

    def _emit(self, text: str, *, progress: bool = False) -> None:
        """One line (or, on a terminal, the progress line rewritten in place)."""
        if self._fd is None:
            return
        if progress and self._tty:
            data, self._open_line = f"\r{text}\x1b[K", True
        else:
            data, self._open_line = ("\n" if self._open_line else "") + text + "\n", False
        with contextlib.suppress(OSError):
            os.write(self._fd, data.encode("utf-8", "replace"))


def _descriptor(out: TextIO | None) -> int | None:
    """``out``'s file descriptor, its buffer flushed first; ``None`` if it has none."""
    if out is None:
        return None
    try:
        out.flush()
        return out.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None


def clean(
    ledger: Ledger,
    client: OpenMediaClient,
    pending: list[int],
    budget_s: float,
    cleanup: Cleanup | None = None,
    *,
    cancelled: str = "cancelled",
) -> None:
    """Cancel each pending request (CancelIfAllocated, DoNotReport); note every outcome
    (``cancelled`` names a successful cancellation).

    ``KeyboardInterrupt`` and ``pytest.exit`` pass through and leave the rest pending (for the
    end-of-run cleanup): a cleanup that must survive them runs under ``GUARD.cleaning``.
    """
    from conformance.wire import TransportError

    cleanup = cleanup or Cleanup(())
    deadline = time.monotonic() + budget_s
    errors = 0

    def leave(rest: list[int], why: str) -> None:
        for oid in rest:
            if not cleanup.hand_over:  # handed over: still pending in the journal
                ledger.note("left", oid, why)
            cleanup.tried(oid)

    for n, oid in enumerate(pending):
        if cleanup.abandoned:
            return leave(pending[n:], ABANDONED)
        if errors >= MAX_TRANSPORT_ERRORS or time.monotonic() > deadline:
            why = "target not answering" if errors else f"cleanup budget of {budget_s:.0f} s spent"
            return leave(pending[n:], f"left: {why}")
        cleanup.progress()
        try:
            with cleanup.waiting():
                reply = client.cancel_request(
                    OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=True
                )
        except Abandoned:
            return leave(pending[n:], ABANDONED)
        except TransportError as exc:
            errors += 1
            cleanup.unreachable = exc.reason
            leave([oid], f"left: {exc.reason}")
            continue
        except Exception as exc:  # an undecodable answer: say so, go on
            leave([oid], f"left: {type(exc).__name__}")
            continue
        errors = 0
        cleanup.answered += 1
        fault = reply.fault
        if fault is not None and fault.detail_local in GONE_FAULTS:
            ledger.note("cleaned", oid, "gone")
        elif fault is not None:
            ledger.note("left", oid, f"left: {fault.detail_local or fault.string}")
        elif reply.value is True:
            ledger.note("cleaned", oid, cancelled)
        else:
            ledger.note("left", oid, f"left: CancelRequest answered {reply.value!r}")
        cleanup.tried(oid)
    return None


def clean_target(
    ledger: Ledger,
    credentials: Credentials | None,
    timeout_s: float,
    limiter: RateLimiter | None,
) -> None:
    """Cancel what ``ledger`` still holds on its target, silently, within a budget that cannot
    hang.

    Newest first: the oldest requests are the ones agents hold, and cancelling one of those
    first would hand its agent the next queued request, which then would have to be reported
    (DoNotReport applies only to a request not yet allocated).
    """
    Cleanup([ledger]).run(credentials, timeout_s, limiter)


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
    """Every SetOptions sent, as its members' wire texts."""
    target: str | None = None
    """The URL the requests live on (what ``openmedia-conformance cleanup`` cancels them on)."""

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
            target=next((ledger.url for ledger in ledgers if ledger.url), None),
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
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Audit:
        """The audit ``as_dict`` wrote; ``ValueError``/``TypeError``/``KeyError`` if it is not
        one."""
        created = tuple(int(i) for i in data["created_ids"])
        why = {str(k): str(v) for k, v in dict(data["why_left"]).items()}
        left = {int(i): why.get(str(i), "left") for i in data["left_behind"]}
        target = data.get("target")
        if target is not None and not isinstance(target, str):
            raise TypeError(f"target is {type(target).__name__}, not a URL")
        return cls(
            created=created,
            cleaned=tuple(i for i in created if i not in left),
            left_behind=left,
            cancelled_at_end=tuple(int(i) for i in data.get("cancelled_at_end", ())),
            cancelled_after_test=tuple(int(i) for i in data.get("cancelled_after_test", ())),
            options=tuple(
                {str(k): str(v) for k, v in dict(o).items()}
                for o in data.get("set_options_sent", ())
            ),
            target=target,
        )

    def after(self, ledger: Ledger) -> Audit:
        """This audit once ``ledger``, a cleanup of what it left behind, has run."""
        outcome = {i: ledger.outcome.get(i, why) for i, why in self.left_behind.items()}
        left = {i: how for i, how in outcome.items() if how.startswith("left")}
        cleaned = tuple(i for i in self.created if i not in left)
        return replace(self, cleaned=cleaned, left_behind=left)
