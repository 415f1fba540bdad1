"""Several xdist workers against one external target: a whole-list check blames no worker's
requests on the target (``conformance.run_ids``).

The unit tests drive the journals directly; the run starts the suite's AddRequest limit tests
with ``-n 2`` against one emulator served from this process. Before the journals, such a run
failed ADD-FAILURE-CREATES-NOTHING now and then: the other worker's adds showed up as "requests
created by the refused AddRequest".
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from conformance.emulator.server import RunningEmulator
from conformance.run_ids import CATCH_UP_S, RunIds, created_by_run
from conformance.runner import plugin_installed
from conformance.safety import Ledger

ROOT = Path(__file__).resolve().parent.parent


def _worker(folder: Path, name: str) -> RunIds:
    return RunIds(folder, Ledger(journal=folder / f"{name}.jsonl"))


def test_only_what_other_workers_created_is_explained(tmp_path: Path) -> None:
    mine, other = _worker(tmp_path, "gw0"), _worker(tmp_path, "gw1")
    mine.ledger.note("created", 5)
    other.ledger.note("created", 7)
    # 5 is this worker's own: a test that compares lists took "before" after its own adds, so
    # its own ID there would be the target's doing; 9 nobody created
    assert created_by_run(mine, frozenset({5, 7, 9})) == frozenset({7})
    assert created_by_run(None, frozenset({7})) == frozenset()  # not sharing a target


def test_a_check_waits_briefly_for_a_journal_that_is_behind(tmp_path: Path) -> None:
    mine, other = _worker(tmp_path, "gw0"), _worker(tmp_path, "gw1")
    later = threading.Timer(CATCH_UP_S / 5, lambda: other.ledger.note("created", 7))
    later.start()
    started = time.monotonic()
    assert created_by_run(mine, frozenset({7})) == frozenset({7})
    assert time.monotonic() - started < CATCH_UP_S + 1
    later.join()
    started = time.monotonic()
    assert created_by_run(mine, frozenset({8})) == frozenset()  # never journalled: gives up
    assert CATCH_UP_S <= time.monotonic() - started < CATCH_UP_S + 1


def test_two_workers_against_one_target_see_no_phantom_creations(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    command = [
        sys.executable, "-m", "pytest", *plugin,
        "-p", "no:cacheprovider", "-q", "--no-allure", "-n", "2",
        "--target-url", emulator.url, "--pyargs", "conformance.suite.test_add_request_limits",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert " failed" not in out and "verdicts:" in out, out[-2000:]
