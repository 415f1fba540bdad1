"""One external target shared by the xdist workers of a run: the IDs each created, and turns.

With ``-n N`` against one external target, each worker sees the requests the others add and
cancel. Two kinds of check would blame the target for that:

* a check that compares the target's request list before and after, such as "a refused
  AddRequest created nothing" (ADD-FAILURE-CREATES-NOTHING): each worker journals the IDs its
  clients were given (AddRequest, and DivertRequest where it issues one) in a folder the
  controller chooses, and such a check leaves out every ID some worker of the run created
  (``created_by_run``), so these tests keep running in parallel;
* a check that judges a queue or counters other tests change (QueuePositions, a request's
  place, ``/statistics``): such a test carries ``@pytest.mark.alone`` and takes its *turn*
  (``Turns``): it starts only when no other worker is inside a test, and no other test starts
  until it has finished (teardown included). Every other test, and a worker's end-of-run
  cleanup, holds a shared turn, so many of them run at once.

Without xdist, or with the embedded emulator (one per worker), there is neither a journal nor a
turn: no cost. The journal is the safe-mode ledger's format
(``conformance.safemode.ledger.Ledger``), one file per worker; the controller removes the folder
at the end of the run.

PYTEST_DONT_REWRITE: other modules of the plugin import this one before pytest registers it
(pytest < 9.2 would warn that it cannot rewrite it); it has no assert to rewrite.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.plugin.runtime import RUNTIME_KEY
from conformance.safemode.ledger import Ledger
from conformance.verdicts import UsageError

if TYPE_CHECKING:
    from conformance.wire import Exchange

FOLDER_KEY = "openmedia_run_ids"
"""``workerinput`` key: the folder of this run's ID journals, handed to each worker."""
CATCH_UP_S = 0.5
"""How long a check waits for the other workers' journals to catch up before it blames the
target: an ID is journalled when its AddRequest answer arrives, a moment after the target
listed it."""


ALONE_MARK = "alone"
"""The marker of a test that judges a queue or counters other tests change (see above)."""


@contextlib.contextmanager
def _flock(path: Path, operation: int) -> Iterator[None]:
    import fcntl  # POSIX only: ``check_turns_possible`` refuses the run elsewhere

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@dataclass(frozen=True)
class Turns:
    """A readers-writer lock between the workers' processes, over two files of the run folder.

    ``shared()`` is any test's turn, ``alone()`` that of a test nothing may disturb. The gate
    gives a waiting ``alone()`` priority: it holds the gate while it waits for the room to empty,
    and a new ``shared()`` must pass the gate first, so a stream of short tests cannot keep it
    waiting. One turn at a time per worker, always gate before room: no deadlock.
    """

    folder: Path

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        import fcntl

        with _flock(self.folder / "gate.lock", fcntl.LOCK_EX):
            pass
        with _flock(self.folder / "room.lock", fcntl.LOCK_SH):
            yield

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        import fcntl

        with (
            _flock(self.folder / "gate.lock", fcntl.LOCK_EX),
            _flock(self.folder / "room.lock", fcntl.LOCK_EX),
        ):
            yield


def check_turns_possible() -> None:
    """``UsageError`` where the workers cannot take turns (no ``fcntl``: not a POSIX system)."""
    try:
        import fcntl  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            "-n with one external target needs POSIX file locks, so that a test judging a queue "
            "runs while no other worker changes it; this system has none: run without -n"
        ) from exc


@dataclass
class RunIds:
    """One worker's journal, a view of all of them, and the run's turns."""

    folder: Path
    ledger: Ledger

    @property
    def turns(self) -> Turns:
        return Turns(self.folder)

    def observe(self, exchange: Exchange) -> None:
        self.ledger.observe(exchange)

    def created_by_others(self) -> frozenset[int]:
        """The IDs the *other* workers journalled: this worker's own requests are the test's
        business (a test that compares lists takes its "before" after its own adds)."""
        ids: set[int] = set()
        for path in self.folder.glob("*.jsonl"):
            if path != self.ledger.journal:
                ids.update(Ledger.replay(path).created)
        return frozenset(ids)


STATE_KEY = pytest.StashKey["RunIds | None"]()
_FOLDER_KEY = pytest.StashKey[Path]()


def state_of(config: pytest.Config, embedded: bool) -> RunIds | None:
    """This worker's journal when it shares an external target with other workers, else None."""
    if STATE_KEY in config.stash:
        return config.stash[STATE_KEY]
    handed = (getattr(config, "workerinput", None) or {}).get(FOLDER_KEY)
    state = None
    if handed and not embedded:
        worker = str(config.workerinput.get("workerid", "worker"))  # type: ignore[attr-defined]
        folder = Path(handed)
        state = RunIds(folder, Ledger(journal=folder / f"{worker}.jsonl"))
    config.stash[STATE_KEY] = state
    return state


def created_by_run(state: RunIds | None, unexplained: frozenset[int]) -> frozenset[int]:
    """Of ``unexplained`` IDs, those another worker of this run created (waiting up to
    ``CATCH_UP_S`` for the journals to show them)."""
    if state is None or not unexplained:
        return frozenset()
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        known = unexplained & state.created_by_others()
        if known == unexplained or time.monotonic() >= deadline:
            return known
        time.sleep(0.05)


def shared_turn(config: pytest.Config) -> contextlib.AbstractContextManager[None]:
    """A shared turn for work outside a test that changes the target (a worker's cleanup)."""
    state = config.stash.get(STATE_KEY, None)
    return state.turns.shared() if state is not None else contextlib.nullcontext()


# -- hooks -------------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """xdist worker on a shared target: each test, setup to teardown, inside its turn."""

    runtime = item.config.stash.get(RUNTIME_KEY, None)
    state = state_of(item.config, runtime.settings.embedded) if runtime is not None else None
    if state is None:
        return (yield)
    alone = item.get_closest_marker(ALONE_MARK) is not None
    with state.turns.alone() if alone else state.turns.shared():
        return (yield)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hands one journal folder, made once, to every worker."""
    config = node.config
    if _FOLDER_KEY not in config.stash:
        prefix = f"openmedia-run-ids-{uuid.uuid4().hex[:8]}-"
        config.stash[_FOLDER_KEY] = Path(tempfile.mkdtemp(prefix=prefix))
    node.workerinput[FOLDER_KEY] = str(config.stash[_FOLDER_KEY])


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_FOLDER_KEY, None)
    if folder is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
