"""The lifecycle machine and the burst's queue positions on a target without agents.

The reference emulator runs as its own process without its control plane, on the observable
profile (``conformance.mutation.observable``: safe mode, authentication on, agentless groups 14
and 15), optionally with one planted defect. ``openmedia-conformance run -k`` runs only
``test_lifecycle_in_agentless_groups_follows_the_model`` (AddRequest, CancelRequest,
DivertRequest and ModifyRequest in random order, every status view of the suite's own requests
compared with the model after each step) and the concurrent-adds positions test, and the JUnit
file says each one's verdict:

* on the clean emulator both apply and pass;
* with a planted defect the machine can see (a status view, an event, a queue position or a
  transition broken), the machine fails; with ``add-position-race`` the positions test fails;
* without an ``agentless`` group both are *not applicable*, naming the profile key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from conformance.mutation import observable
from conformance.suite_support.lifecycle_values import (
    Event,
    Status,
    match_events,
    position_agrees,
    record_mismatch,
    skips_a_state,
)

RUN_TIMEOUT_S = 300
MACHINE = "test_lifecycle.py::test_lifecycle_in_agentless_groups_follows_the_model"
POSITIONS = "test_concurrency.py::test_adds_at_once_to_an_empty_group_count_positions_from_one"
SELECTED = " or ".join(name.split("::")[1] for name in (MACHINE, POSITIONS))
WITHOUT_WAITING = observable.Observable(real_time=False)
"""The observable profile without ``--om-real-time``: nothing selected here waits."""


@dataclass(frozen=True)
class Outcome:
    """One run: its exit status, console output and each test's verdict (JUnit ``verdict``)."""

    returncode: int
    output: str
    verdicts: dict[str, str]
    messages: dict[str, str]


def outcome(
    folder: Path, fault: str | None = None, variant: observable.Observable = WITHOUT_WAITING
) -> Outcome:
    """The emulator on its own (with ``fault``), and ``run -k SELECTED`` against it."""
    files = observable.write(folder, variant)
    junit = folder / "junit.xml"
    with observable.emulator(files, (fault,) if fault else ()) as emulator:
        assert emulator.urls is not None and emulator.urls.control_url is None
        command = [
            sys.executable, "-m", "conformance.cli", "run", "-q", "--om-no-allure",
            *observable.suite_options(files, emulator.urls.service_url),
            "-k", SELECTED, "--junitxml", str(junit),
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=folder,
            env=observable.environment(os.environ),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    verdicts: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in etree.parse(str(junit)).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        name = f"{module}.py::{case.get('name')}"
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        verdicts[name] = str(props.get("verdict"))
        messages[name] = " ".join(
            (child.get("message") or "") + (child.text or "")
            for child in case
            if child.tag in ("failure", "error", "skipped")
        )
    return Outcome(done.returncode, done.stdout, verdicts, messages)


def test_both_apply_and_pass_on_a_clean_server(tmp_path: Path) -> None:
    done = outcome(tmp_path)
    assert done.returncode == 0, done.output[-3000:]
    assert done.verdicts == {MACHINE: "pass", POSITIONS: "pass"}, done.output[-3000:]
    assert "control features: none" in done.output


@pytest.mark.parametrize(
    ("fault", "test"),
    [
        pytest.param(fault, MACHINE, id=fault)
        for fault in (
            "queued-status-unknown",
            "queued-event-recorded-twice",
            "history-drops-first-event",
            "divert-queued-not-moved",
            "cancel-terminated-records-cancelled",
            "cancel-queued-left-in-queue",
            "current-position-as-queued",
            "history-position-current",
            "by-time-inclusive",
            "status-as-number",
        )
    ]
    + [pytest.param("add-position-race", POSITIONS, id="add-position-race")],
)
def test_a_planted_defect_fails_it(tmp_path: Path, fault: str, test: str) -> None:
    done = outcome(tmp_path, fault)
    assert done.verdicts.get(test) == "fail", (done.verdicts, done.output[-3000:])
    assert done.returncode == 1
    assert "error" not in done.verdicts.values(), done.output[-3000:]


def test_without_an_agentless_group_both_are_not_applicable(tmp_path: Path) -> None:
    variant = observable.Observable(agentless=False, real_time=False)
    done = outcome(tmp_path, variant=variant)
    assert done.returncode == 0, done.output[-3000:]
    for test in (MACHINE, POSITIONS):
        assert done.verdicts[test] == "not applicable", (test, done.verdicts)
        assert "agentless = true" in done.messages[test], done.messages[test]


# -- the pure rules the agentless machine adds ---------------------------------------------------
def test_a_skipped_state_is_one_entered_from_the_wrong_one() -> None:
    processing, complete = Status.PROCESSING.value, Status.COMPLETE.value
    assert skips_a_state(None, processing) and skips_a_state(Status.QUEUED, complete)
    assert skips_a_state(Status.ALLOCATED, complete)
    assert not skips_a_state(Status.ALLOCATED, processing)
    assert not skips_a_state(Status.PROCESSING, complete)
    assert not skips_a_state(Status.QUEUED, Status.CANCELLED.value)
    assert not skips_a_state(None, "Unknown")  # another requirement's failure (LIFE-NO-UNKNOWN)


@dataclass(frozen=True)
class _Record:
    status: str | None
    service_group_id: int | None
    queue_position: int | None
    agent_id: int | None = 0
    tenant_id: int | None = 0
    logon_id: str | None = ""


def test_a_queued_place_may_stand_behind_others_up_to_ahead() -> None:
    """In a shared group a Queued record may stand 0..ahead places further back; never further
    forward, never more; any other status, and a group without slack, exactly."""
    queued = Event(1, Status.QUEUED, 14, queue_position=2)
    ahead = {14: 2}
    for position, agrees in (
        (2, True),
        (3, True),
        (4, True),
        (5, False),
        (1, False),
        (None, False),
    ):
        record = _Record("Queued", 14, position)
        assert position_agrees(queued, record, ahead) is agrees, position
    assert not position_agrees(queued, _Record("Queued", 14, 3), {})
    cancelled = Event(1, Status.CANCELLED, 14)
    assert not position_agrees(cancelled, _Record("Cancelled", 14, 1), ahead)
    assert record_mismatch(queued, _Record("Queued", 14, 5), ahead) == (
        "EVT-QUEUE-POSITION-HISTORICAL"
    )
    assert match_events([queued], [_Record("Queued", 14, 4)], ahead) is None
