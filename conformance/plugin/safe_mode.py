"""The hooks of safe mode (loaded with the fixtures): when to track, clean, and audit.

A request belongs to the test that created it, or to the broader-scoped fixture being set up
when it was created; each is cancelled as soon as its owner ends (``pytest_runtest_teardown``,
``pytest_fixture_post_finalizer``), so no real agent of the group is offered it while the run
goes on. What that misses (an interrupt, a target that stopped answering) the end of the run
cancels.

Order matters at the end of a run. Each process cancels what it created in a ``tryfirst``
``sessionfinish`` (before session fixtures are torn down); the run's main process then, in a
``trylast`` one (after xdist has stopped its workers), cancels whatever a stopped worker's
journal still lists, counts, writes ``reports/leak-audit.json`` and prints the audit line.
``sessionfinish`` runs after Ctrl-C and SIGTERM too; ``atexit`` covers a process that leaves
pytest without it. A worker stopped by a signal leaves its cleanup to the main process (which
replays its journal): only there does the user see the progress, and only there is a Ctrl-C
during the cleanup counted towards abandoning it (``safety.InterruptGuard``).

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pytest

from conformance.plugin.exit_status import after_cleanup
from conformance.plugin.run_ids import shared_turn
from conformance.plugin.runtime import RUNTIME_KEY
from conformance.profile.session import OptionsSent
from conformance.safemode.audit import Audit
from conformance.safemode.cleanup import CANCELLED_AFTER_TEST, Cleanup, clean
from conformance.safemode.interrupts import GUARD
from conformance.safemode.ledger import Ledger
from conformance.safemode.transport import OptionsGate, RateLimiter, options_texts, safe_transport

if TYPE_CHECKING:
    from conformance.plugin.runtime import SessionRuntime
    from conformance.profile.session import TargetSession
    from conformance.wire import OpenMediaClient, Transport

AUDIT_FILE = Path("reports") / "leak-audit.json"
JOURNAL_DIR = Path("reports") / "leak-audit"
RUN_KEY = "openmedia_leak_audit"
"""``workerinput`` key: the run's journal name and folder, handed to each xdist worker."""


@dataclass
class SafetyState:
    """One process's safe-mode state (in ``config.stash``)."""

    runtime: SessionRuntime
    ledger: Ledger
    limiter: RateLimiter | None
    run: str
    folder: Path
    worker: str | None
    audit_file: Path
    finished: bool = False
    audit: Audit | None = None
    cleaner: OpenMediaClient | None = None
    """The client of the per-test cleanup, made on first use (closed at the end)."""
    abandoned: bool = False
    """A cleanup of this process was abandoned (the third Ctrl-C)."""

    def clean_owned(self, owner: str) -> None:
        """Cancel now what ``owner`` (``Ledger.TEST``, or a fixture's key) created.

        Signals wait meanwhile (a few cancellations, bounded by the exchange timeout): a
        Ctrl-C then ends the run as usual. What could not be cancelled now (a fault, a timeout)
        is pending again, for the end of the run to try once more.
        """
        pending = self.ledger.pending_of(owner)[::-1]  # newest first, as clean_target says
        if not pending or self.ledger.url is None:
            return
        settings = self.runtime.settings
        with GUARD.deferring():
            if self.cleaner is None:
                from conformance.wire import OpenMediaClient

                transport = safe_transport(None, self.limiter, settings.timeout_s)
                self.cleaner = OpenMediaClient(
                    self.ledger.url, credentials=settings.credentials(), transport=transport
                )
            budget = 3 * settings.timeout_s
            try:  # a Ctrl-C passes through clean(): what it did not try stays pending
                clean(self.ledger, self.cleaner, pending, budget, cancelled=CANCELLED_AFTER_TEST)
            finally:
                for oid in pending:
                    if self.ledger.outcome.get(oid, "").startswith("left"):
                        self.ledger.note("retry", oid)

    def close_cleaner(self) -> None:
        if self.cleaner is not None:
            self.cleaner.close()
            self.cleaner = None

    def clean_own(self, console: TextIO | None) -> None:
        """Cancel what this process created; a worker stopped by a signal leaves it to the main
        process, which cleans up where the user sees it."""
        if self.worker is not None and GUARD.stopping:
            return
        self._clean([self.ledger], None if self.worker else console)

    def _clean(self, ledgers: list[Ledger], console: TextIO | None) -> None:
        settings = self.runtime.settings
        cleanup = Cleanup(ledgers, console, hand_over=self.worker is not None)
        if cleanup.total and self.worker is None:
            # what a kill during the cleanup (SIGKILL after an ignored SIGTERM) would leave: the
            # audit says so, for ``openmedia-conformance cleanup``, until the final one replaces it
            self._write(Audit.of([self.ledger, *ledgers]))
        cleanup.run(settings.credentials(), settings.timeout_s, self.limiter, GUARD)
        self.abandoned = self.abandoned or cleanup.abandoned

    def _write(self, audit: Audit) -> bool:
        with contextlib.suppress(OSError):
            self.audit_file.parent.mkdir(parents=True, exist_ok=True)
            self.audit_file.write_text(json.dumps(audit.as_dict(), indent=2) + "\n")
            return True
        return False

    def finish(self, console: TextIO | None) -> None:
        """Clean what other processes of the run left, count, write the audit (main only)."""
        pattern = f"{self.run}-*.jsonl"
        journals = sorted(self.folder.glob(pattern)) if self.folder.is_dir() else []
        others = [Ledger.replay(path) for path in journals if path != self.ledger.journal]
        self._clean(others, console)
        self.audit = Audit.of([self.ledger, *others])
        if self._write(self.audit) and not self.audit.left_behind:
            for path in journals:  # a journal is evidence only while one is left
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.folder.rmdir()

    def at_exit(self) -> None:
        """A process that left pytest without ``sessionfinish`` (a crash) still cleans up."""
        if self.finished:
            return
        self.finished = True
        self.clean_own(sys.stderr)
        if self.worker is None:
            self.finish(sys.stderr)
            if self.audit is not None:
                print(self.audit.line(), file=sys.stderr, flush=True)


STATE_KEY = pytest.StashKey["SafetyState | None"]()


def state_of(config: pytest.Config) -> SafetyState | None:
    """The process's safe-mode state, made on first use; ``None`` outside safe mode."""
    if STATE_KEY in config.stash:
        return config.stash[STATE_KEY]
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is None:
        return None  # not configured yet (or not an openmedia run): decide later
    state = _new_state(config, runtime) if runtime.settings.profile.target.safe_mode else None
    config.stash[STATE_KEY] = state
    if state is not None:
        atexit.register(state.at_exit)
    return state


def _new_state(config: pytest.Config, runtime: SessionRuntime) -> SafetyState:
    workerinput = getattr(config, "workerinput", None)
    handed = (workerinput or {}).get(RUN_KEY) or {}
    base = config.invocation_params.dir
    run = str(handed.get("run") or uuid.uuid4().hex[:12])
    folder = Path(handed.get("folder") or base / JOURNAL_DIR)
    worker = str(workerinput.get("workerid", "worker")) if workerinput is not None else None
    rate = runtime.settings.profile.target.rate_limit
    share = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1) if worker else 1
    return SafetyState(
        runtime=runtime,
        ledger=Ledger(journal=folder / f"{run}-{worker or 'main'}.jsonl"),
        limiter=RateLimiter(rate / max(share, 1)) if rate else None,
        run=run,
        folder=folder,
        worker=worker,
        audit_file=base / AUDIT_FILE,
    )


def transport_for(config: pytest.Config, target: TargetSession) -> Transport | None:
    """The transport of a suite client: tracking and paced in safe mode, else the default."""
    state = state_of(config)
    if state is None:
        return None
    state.ledger.set_target(target.url, target.embedded)
    gate = OptionsGate(
        allowed=tuple(options_texts(members) for members in target.options_allowed()),
        refusal=target.why_no_set_options(OptionsSent.OWN) or "",
    )
    return safe_transport(state.ledger, state.limiter, target.timeout_s, gate)


# -- hooks -------------------------------------------------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: the controller hands its run name and journal folder to each worker."""
    state = state_of(node.config)
    if state is not None:
        node.workerinput[RUN_KEY] = {"run": state.run, "folder": str(state.folder)}


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    state = state_of(session.config)
    if state is None:
        return
    GUARD.install()
    if state.worker is None:
        session.config.pluginmanager.register(_Finisher(state), "openmedia-leak-audit")


def _owner(fixturedef: pytest.FixtureDef[Any]) -> str:
    return f"{fixturedef.scope}:{fixturedef.baseid}::{fixturedef.argname}"


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
    """A broader-scoped fixture owns the requests created while it is set up."""
    state = state_of(request.config)
    if state is None or fixturedef.scope == "function":
        return (yield)
    state.ledger.scopes.append(_owner(fixturedef))
    try:
        return (yield)
    finally:
        state.ledger.scopes.pop()


def pytest_fixture_post_finalizer(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> None:
    """A broader-scoped fixture's requests are cancelled when its scope ends."""
    state = state_of(request.config)
    if state is not None and fixturedef.scope != "function" and not state.finished:
        state.clean_owned(_owner(fixturedef))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """The test's own requests are cancelled once its function fixtures are torn down."""
    try:
        return (yield)
    finally:
        state = state_of(item.config)
        if state is not None and not state.finished:
            state.clean_owned(Ledger.TEST)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Cancel what this process created, before its session fixtures are torn down."""
    state = state_of(session.config)
    if state is None or state.finished:
        return
    GUARD.ending = True
    state.close_cleaner()
    with shared_turn(session.config):  # not while another worker's test judges a queue
        state.clean_own(_console(session.config))
    if state.worker is not None:
        state.finished = True


def _console(config: pytest.Config) -> TextIO:
    """Where the cleanup shows its progress: the terminal, at the start of a line."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        if reporter._tw.width_of_current_line:  # after xdist's progress, mid-line
            reporter._tw.line()
        reporter._tw.flush()
    return sys.stdout


class _Finisher:
    """The main process's last word, after xdist has stopped its workers."""

    def __init__(self, state: SafetyState) -> None:
        self.state = state

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Written here, not in the terminal summary: pytest skips that after an internal
        error, and the audit matters most after a crash."""
        if self.state.finished:
            return
        self.state.finished = True
        self.state.finish(_console(session.config))
        session.exitstatus = after_cleanup(session.exitstatus, abandoned=self.state.abandoned)
        audit = self.state.audit
        if audit is None:
            return
        lines = [audit.line()]
        if audit.left_behind:
            lines.append(f"openmedia: to cancel them: openmedia-conformance cleanup {self._path()}")
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in lines:
            if reporter is not None:
                reporter.write_line(line)
            else:
                print(line, flush=True)

    def _path(self) -> str:
        """The audit's path as the user would type it (relative where it can be)."""
        try:
            return os.path.relpath(self.state.audit_file)
        except ValueError:  # another drive (Windows)
            return str(self.state.audit_file)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        GUARD.restore()
        if state.ledger.created:
            state.at_exit()  # a run that never reached sessionfinish; a no-op otherwise
        atexit.unregister(state.at_exit)
