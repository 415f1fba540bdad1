"""Cancelling what the suite created (``CancelIfAllocated``, ``DoNotReport``), with a progress
line, patient with a second Ctrl-C and deaf to SIGTERM; also ``openmedia-conformance cleanup``."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

from conformance.safemode.interrupts import ABANDON_AFTER, Abandoned, InterruptGuard
from conformance.safemode.ledger import Ledger
from conformance.safemode.transport import RateLimiter, safe_transport

if TYPE_CHECKING:
    from conformance.wire import Credentials, OpenMediaClient

GONE_FAULTS = frozenset({"OpenMediaRequestTerminatedFault", "InvalidOpenMediaIDFault"})
"""CancelRequest faults that mean: nothing left to cancel (R9)."""
MAX_TRANSPORT_ERRORS = 2
"""Transport errors in a row after which a cleanup stops: the target is not answering."""

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
