"""The OpenMediaIDs this run created, known to every xdist worker that shares one target.

With ``-n N`` against one external target, each worker sees the requests the others add: a
check such as "a refused AddRequest created nothing" (ADD-FAILURE-CREATES-NOTHING), which
compares the target's request list before and after, would blame the target for them. So each
worker journals the IDs its clients were given (AddRequest, and DivertRequest where it issues
one) in a folder the controller chooses, and such a check leaves out every ID some worker of
the run created (``created_by_run``). Without xdist, or with the embedded emulator (one per
worker), nothing is journalled and the set is empty: no cost.

The journal is the safe-mode ledger's format (``conformance.safety.Ledger``), one file per
worker; the controller removes the folder at the end of the run.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.safety import Ledger

if TYPE_CHECKING:
    from conformance.wire import Exchange

FOLDER_KEY = "openmedia_run_ids"
"""``workerinput`` key: the folder of this run's ID journals, handed to each worker."""
CATCH_UP_S = 0.5
"""How long a check waits for the other workers' journals to catch up before it blames the
target: an ID is journalled when its AddRequest answer arrives, a moment after the target
listed it."""


@dataclass
class RunIds:
    """One worker's journal, and a view of all of them."""

    folder: Path
    ledger: Ledger

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


# -- hooks (xdist controller) ------------------------------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: the controller hands one journal folder, made once, to every worker."""
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
