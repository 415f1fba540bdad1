"""Several xdist workers against one external target: a whole-list check blames no worker's
(nor another client's) requests on the target, and a test that judges a queue runs while no
other test changes it (``conformance.plugin.run_ids``).

The unit tests drive the journals and the turns directly; real workers take turns in a run of
tests that record when they ran. The suite runs with ``-n 2``, twice, against one emulator
started as its own process and described by a vendor's profile (safe mode, no control plane):
the modules that judge queues and listings, whose tests also add, cancel and divert in the same
groups (a run of the whole suite finds no more, and takes minutes on a busy machine).
Before the journals, such a run failed ADD-FAILURE-CREATES-NOTHING now and then (the other
worker's adds showed up as "requests created by the refused AddRequest"); before the turns,
EVT-QUEUE-POSITION-CURRENT (``Expected [126, 127, 128] Actual [126, 128, 129]``) and
DIV-FAILURE-CHANGES-NOTHING (a QueuePosition the other worker moved); before TIM-EMPTY judged
only what others cannot change off a reset target, TIM-EMPTY (the other worker's events after
the latest TimeStamp).

A vendor server in use has other clients too: one more run (no ``-n``) of the modules that read
whole listings, while another client adds requests to a group the profile does not name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli.run import plugin_installed
from conformance.contract.paths import fixtures_dir
from conformance.plugin.embedded import EmbeddedEmulator, EmulatorUrls
from conformance.plugin.run_ids import (
    CATCH_UP_S,
    RunIds,
    Turns,
    check_turns_possible,
    created_by_run,
)
from conformance.safemode.ledger import Ledger
from conformance.verdicts import UsageError
from conformance.wire import OpenMediaClient

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]
SHARED_MODULES = (
    "conformance.suite.test_status_requests",
    "conformance.suite.test_requests_by_time",
    "conformance.suite.test_divert_request",
    "conformance.suite.test_cancel_request",
    "conformance.suite.test_add_request_limits",
)
"""The modules whose tests judge queues and listings on a vendor target, and add, cancel and
divert in the same groups meanwhile (on such a target the rest of the suite judges its own
requests by ID)."""
SKIPPED = "not test_invalid_side_is_refused and not test_valid_side_is_accepted"
"""The two slowest property tests, which add nothing here: their refusals are judged as the
limit tests' are."""
JUDGING_TESTS = (
    "test_queue_position_current_and_as_queued[ahead-cancelled]",
    "test_each_state_entered_is_one_event[queued]",
    "test_cancel_queued_request[if-allocated]",
    "test_divert_to_a_group_it_cannot_go_to[closed-by-id]",
    "test_by_time_with_nothing_after_is_empty[last-timestamp]",
    "test_unusable_group_is_refused[closed-by-id]",
)
"""Tests that judge a queue or a listing other tests change; each must have run and passed."""


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


# -- turns -------------------------------------------------------------------------------------
def _hold(turn: object, entered: threading.Event, leave: threading.Event) -> threading.Thread:
    """A thread that takes ``turn`` (a context manager), says so, and keeps it until told."""

    def run() -> None:
        with turn:  # type: ignore[attr-defined]
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_shared_turns_overlap_and_a_test_alone_waits_for_them(tmp_path: Path) -> None:
    """flock locks belong to an open file, so threads with their own opens stand in for the
    workers' processes."""
    turns = Turns(tmp_path)
    first, second, alone = threading.Event(), threading.Event(), threading.Event()
    leave_shared, leave_alone = threading.Event(), threading.Event()
    holders = [
        _hold(turns.shared(), first, leave_shared),
        _hold(turns.shared(), second, leave_shared),
    ]
    assert first.wait(5) and second.wait(5)  # two ordinary tests at once
    waiting = _hold(turns.alone(), alone, leave_alone)
    assert not alone.wait(0.3)  # not while another test is inside
    leave_shared.set()
    assert alone.wait(5)
    leave_alone.set()
    for thread in [*holders, waiting]:
        thread.join(5)


def test_no_test_starts_while_one_alone_waits_or_runs(tmp_path: Path) -> None:
    """A waiting ``alone`` turn goes before shared turns asked for later: a stream of short
    tests on the other workers cannot keep it waiting."""
    turns = Turns(tmp_path)
    inside, alone, later = threading.Event(), threading.Event(), threading.Event()
    leave_inside, leave_alone, leave_later = threading.Event(), threading.Event(), threading.Event()
    holder = _hold(turns.shared(), inside, leave_inside)
    assert inside.wait(5)
    waiting = _hold(turns.alone(), alone, leave_alone)
    time.sleep(0.2)  # the alone turn now holds the gate, waiting for the room
    latecomer = _hold(turns.shared(), later, leave_later)
    assert not later.wait(0.3)
    leave_inside.set()
    assert alone.wait(5)
    assert not later.wait(0.3)  # nothing starts while the test alone runs
    leave_alone.set()
    assert later.wait(5)
    leave_later.set()
    for thread in (holder, waiting, latecomer):
        thread.join(5)


def test_without_posix_locks_sharing_one_target_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_turns_possible()  # this system has them
    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on a system without them
    with pytest.raises(UsageError, match=r"-n with one external target needs POSIX file locks"):
        check_turns_possible()


# -- runs ------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The suite with ``-n 2``."""
    command = [
        sys.executable, "-m", "pytest", *PLUGIN,
        "-p", "no:cacheprovider", "-q", "--om-no-allure", "-n", "2", *args,
    ]  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)


@pytest.fixture
def vendor_emulator() -> Iterator[EmulatorUrls]:
    """The emulator as its own process: the suite reaches it only as a vendor server."""
    process = EmbeddedEmulator()
    try:
        yield process.start()
    finally:
        process.stop()


WINDOWS = """
import os, time
import pytest

def _window(name):
    start = time.monotonic()
    time.sleep(0.3)
    with open(os.environ["WINDOWS_FILE"], "a") as out:
        out.write(f"{name} {start} {time.monotonic()}\\n")

@pytest.mark.parametrize("n", range(8))
def test_ordinary(n):
    _window(f"ordinary-{n}")

@pytest.mark.alone
@pytest.mark.parametrize("n", range(2))
def test_alone(n):
    _window(f"alone-{n}")
"""


def test_workers_take_turns_a_test_alone_overlaps_no_other(
    vendor_emulator: EmulatorUrls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real workers against one external target: each ``alone`` test's run overlaps no other
    test's, while ordinary tests do overlap (the workers still run in parallel)."""
    (tmp_path / "test_windows.py").write_text(WINDOWS)
    windows = tmp_path / "windows.txt"
    monkeypatch.setenv("WINDOWS_FILE", str(windows))
    done = _pytest(tmp_path, "--om-target-url", vendor_emulator.service_url, "test_windows.py")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    spans = [
        (name, float(a), float(b))
        for name, a, b in map(str.split, windows.read_text().splitlines())
    ]
    assert len(spans) == 10

    def overlap(x: tuple[str, float, float], y: tuple[str, float, float]) -> bool:
        return x[1] < y[2] and y[1] < x[2]

    for one in (s for s in spans if s[0].startswith("alone")):
        assert not [other[0] for other in spans if other != one and overlap(one, other)]
    ordinary = [s for s in spans if s[0].startswith("ordinary")]
    assert any(overlap(x, y) for x in ordinary for y in ordinary if x != y)


def _vendor_profile(folder: Path) -> Path:
    """The emulator's world described as a vendor's server: safe mode on, no control plane."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(
        r"(?m)^safe_mode = false.*$", "safe_mode = true\nmax_requests_per_second = 500", text
    )
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    path = folder / "vendor.toml"
    path.write_text(text)
    return path


def test_two_workers_share_one_vendor_target_without_false_failures(
    vendor_emulator: EmulatorUrls, tmp_path: Path
) -> None:
    """``-n 2`` twice in a row against one vendor-style target (the second run meets the
    first's leftovers too): no failure, and the tests that judge a queue or a listing ran."""
    profile = _vendor_profile(tmp_path)
    for attempt in (1, 2):
        done = _pytest(
            tmp_path, "-rfEp", "--om-target-url", vendor_emulator.service_url,
            "--om-profile", str(profile), "-k", SKIPPED, "--pyargs", *SHARED_MODULES,
        )  # fmt: skip
        out = done.stdout + done.stderr
        assert done.returncode == 0, f"run {attempt}:\n{out[-6000:]}"
        assert " failed" not in out and "verdicts:" in out, f"run {attempt}:\n{out[-3000:]}"
        passed = set(re.findall(r"(?m)^PASSED \S*::(\S+)", out))
        assert set(JUDGING_TESTS) <= passed, f"run {attempt}: {sorted(set(JUDGING_TESTS) - passed)}"


IN_USE_PROFILE = """
data_expiration_minutes = 30

[target]
name = "a vendor server in use: group 11 serves real customers, the suite may not name it"
safe_mode = true
max_requests_per_second = 500

[auth]
enabled = false
logon_id = "admin"

[tenant]
id = 1
disabled_id = 2

[[groups]]
id = 10
name = "Support"
role = "open"
session_priority = true

[[groups]]
id = 12
name = "Closed"
role = "closed"

[[groups]]
id = 13
name = "Voice"
role = "not-open-media"

[[groups]]
id = 20
name = "Billing"
tenant_id = 2
role = "open"

[control]
features = []
"""
LISTING_MODULES = (
    "conformance.suite.test_add_request_limits",
    "conformance.suite.test_requests_by_time",
    "conformance.suite.test_all_status",
)
"""The modules whose checks judge the target's whole request list or all its recent events."""


def test_another_clients_requests_are_not_blamed_on_the_target(
    vendor_emulator: EmulatorUrls, tmp_path: Path
) -> None:
    """A server in use: another client adds a request to a group the profile does not name
    every 50 ms, all through a run (no ``-n``) of the modules that read whole listings. None of
    them is taken for a request a refused call created (ADD-FAILURE-CREATES-NOTHING: before
    ``not_ours`` looked at groups, every refused AddRequest failed it) or for an event after
    the latest TimeStamp (TIM-EMPTY)."""
    profile = tmp_path / "in-use.toml"
    profile.write_text(IN_USE_PROFILE)
    stop, added = threading.Event(), []

    def other_client() -> None:
        with OpenMediaClient(vendor_emulator.service_url, timeout_s=10) as om:
            while not stop.is_set():
                reply = om.add_request(ServiceGroupID=11, IVRInfo=[{"Label": "Chat", "Data": "1"}])
                added.append(reply.value.open_media_id)
                stop.wait(0.05)

    traffic = threading.Thread(target=other_client, daemon=True)
    traffic.start()
    try:
        command = [
            sys.executable, "-m", "pytest", *PLUGIN, "-p", "no:cacheprovider", "-q",
            "--om-no-allure", "-rfE", "--om-target-url", vendor_emulator.service_url,
            "--om-profile", str(profile), "-k", SKIPPED, "--pyargs", *LISTING_MODULES,
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600
        )
    finally:
        stop.set()
        traffic.join(10)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert " failed" not in out and "verdicts:" in out, out[-3000:]
    assert len(added) > 20 and all(added), added[:5]  # the other client was really at work
