"""Signals while safe mode works: a SIGINT/SIGTERM held back while a request is on the wire,
and the Ctrl-C count that lets only the third one abandon a cleanup."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import pytest


class Listener(Protocol):
    """What the guard tells of a signal while a cleanup runs (``Cleanup``)."""

    def signalled(self, signum: int, presses: int) -> None: ...


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
        self.cleanup: Listener | None = None

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
    def cleaning(self, cleanup: Listener) -> Iterator[None]:
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
