"""A vendor-style target with an agentless group: the queue tests apply there, and can fail.

The reference emulator runs as its own process (``openmedia-conformance emulator --port 0``,
optionally with one planted defect), described by a profile written outside the checkout as a
vendor server: safe mode, no control plane, no control feature, and its open groups 10
(session priority) and 11 marked ``agentless = true``. ``openmedia-conformance run -k`` then
runs only the tests that became applicable through the agentless group and the local clock
(queue positions, EWT, SessionPriority, QueueStartTime, the response and event TimeStamps), and
the JUnit file says each test's verdict:

* on the clean emulator they apply and pass;
* with a planted defect, the test of that defect's requirement fails (a warning for a SHOULD),
  citing that requirement;
* without an ``agentless`` group they are *not applicable*, naming what the profile lacks;
* the local clock's tolerance is the profile's ``[target] clock_tolerance_s``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from conformance.checks.status import Stamp, expect_now, local_clock, target_clock
from conformance.contract.paths import fixtures_dir
from conformance.emulator import RunningEmulator
from conformance.verdicts import ConformanceFailure
from conformance.wire import OpenMediaClient
from conformance.wire.exchange import Exchange

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCE = re.compile(r"listening on (http://\S+/OpenMediaService) control")
RUN_TIMEOUT_S = 300
SELECTED = " or ".join(
    (
        "test_queue_positions_count_from_one",
        "test_ewt_does_not_shrink_as_the_queue_grows",
        "test_queue_start_time",
        "test_session_priority_goes_ahead_of_lower_priority",
        "test_response_timestamp_is_now_in_utc",
        "test_each_state_entered_is_one_event",
    )
)
"""The tests an agentless group and the local clock make applicable on such a target."""
NEWLY_APPLICABLE = (
    "test_add_request.py::test_queue_positions_count_from_one",
    "test_add_request.py::test_ewt_does_not_shrink_as_the_queue_grows",
    "test_add_request.py::test_queue_start_time_in_the_past",
    "test_add_request.py::test_queue_start_time_in_the_future_is_ignored",
    "test_add_request.py::test_queue_start_time_wins_over_session_priority_among_own_requests",
    "test_add_request.py::test_session_priority_goes_ahead_of_lower_priority",
)
"""Those not applicable on this target before the ``agentless`` key existed."""


@dataclass(frozen=True)
class Outcome:
    """One run: its exit status, console output and each test's verdict (JUnit ``verdict``)."""

    returncode: int
    output: str
    verdicts: dict[str, str]
    messages: dict[str, str]

    def of(self, verdict: str) -> list[str]:
        return sorted(test for test, seen in self.verdicts.items() if seen == verdict)


@contextlib.contextmanager
def emulator_process(fault: str | None) -> Iterator[str]:
    """The emulator as its own process (with ``fault`` planted): its SOAP URL while it runs."""
    command = [sys.executable, "-m", "conformance.cli", "emulator", "--host", "127.0.0.1"]
    command += ["--port", "0", *(["--fault", fault] if fault else [])]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        found = ANNOUNCE.search(process.stdout.readline())
        assert found, "the emulator did not announce itself"
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def vendor_profile(folder: Path, *, agentless: bool = True, target_extra: str = "") -> Path:
    """The emulator's world as a vendor's profile: safe mode, no control plane, no control
    feature; with ``agentless`` its open groups 10 and 11 are marked so."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    target = f"safe_mode = true\nmax_requests_per_second = 1000\n{target_extra}"
    text = re.sub(r"(?m)^safe_mode = false.*$", target.rstrip(), text)
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    if agentless:
        for name in ("Support", "Sales"):
            text = text.replace(f'name = "{name}"\n', f'name = "{name}"\nagentless = true\n')
    path = folder / "vendor.toml"
    path.write_text(text)
    return path


def run(folder: Path, url: str, profile: Path) -> Outcome:
    """``openmedia-conformance run -k SELECTED`` from ``folder`` (outside the checkout)."""
    junit = folder / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENMEDIA_"))}
    command = [
        sys.executable, "-m", "conformance.cli", "run", "--om-target-url", url,
        "--om-profile", str(profile), "--om-no-allure", "-q", "-k", SELECTED,
        "--junitxml", str(junit),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=folder,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    verdicts: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in etree.parse(str(junit)).iter("testcase"):
        name = f"{Path(case.get('classname', '').replace('.', '/')).name}.py::{case.get('name')}"
        name = name.replace(".py.py", ".py")
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        verdicts[name] = str(props.get("verdict"))
        messages[name] = " ".join(
            (child.get("message") or "") + (child.text or "")
            for child in case
            if child.tag in ("failure", "error", "skipped")
        )
    return Outcome(done.returncode, done.stdout, verdicts, messages)


def outcome(folder: Path, fault: str | None = None, **profile: object) -> Outcome:
    with emulator_process(fault) as url:
        return run(folder, url, vendor_profile(folder, **profile))  # type: ignore[arg-type]


def _short(test: str) -> str:
    return test.split("[")[0]


def test_the_queue_tests_apply_and_pass_on_a_clean_server(tmp_path: Path) -> None:
    done = outcome(tmp_path)
    assert done.returncode == 0, done.output[-3000:]
    passed = {_short(t) for t in done.of("pass")}
    assert set(NEWLY_APPLICABLE) <= passed, done.verdicts
    assert {"test_status_requests.py::test_response_timestamp_is_now_in_utc"} <= passed
    assert done.of("fail") == [] and done.of("warning") == [] and done.of("error") == []
    assert "control features: none" in done.output


@pytest.mark.parametrize(
    ("fault", "requirement", "verdict", "tests"),
    [
        pytest.param(
            "add-queue-position-zero-based",
            "ADD-QUEUE-POSITION-QUEUED",
            "fail",
            ["test_add_request.py::test_queue_positions_count_from_one"],
            id="add-queue-position-zero-based",
        ),
        pytest.param(
            "ewt-negative",
            "ADD-EWT",
            "fail",
            ["test_add_request.py::test_queue_positions_count_from_one"],
            id="ewt-negative",
        ),
        pytest.param(
            "queue-start-time-past-ignored",
            "ADD-QUEUE-START-TIME-PAST",
            "fail",
            ["test_add_request.py::test_queue_start_time_in_the_past"],
            id="queue-start-time-past-ignored",
        ),
        pytest.param(
            "future-queue-start-time-used",
            "ADD-QUEUE-START-TIME-NOT-PAST",
            "warning",
            ["test_add_request.py::test_queue_start_time_in_the_future_is_ignored"],
            id="future-queue-start-time-used",
        ),
        pytest.param(
            "session-priority-beats-queue-start-time",
            "ADD-PRECEDENCE-QUEUE-START-TIME",
            "fail",
            [
                "test_add_request.py::test_queue_start_time_wins_over_session_priority_among_own_requests"
            ],
            id="session-priority-beats-queue-start-time",
        ),
        pytest.param(
            "priority-inverted",
            "ADD-SESSION-PRIORITY-AHEAD",
            "fail",
            ["test_add_request.py::test_session_priority_goes_ahead_of_lower_priority"],
            id="priority-inverted",
        ),
        pytest.param(
            "response-timestamp-ahead",
            "EVT-RESPONSE-TIMESTAMP",
            "fail",
            ["test_status_requests.py::test_response_timestamp_is_now_in_utc"],
            id="response-timestamp-ahead",
        ),
    ],
)
def test_a_planted_defect_fails_its_requirement(
    tmp_path: Path, fault: str, requirement: str, verdict: str, tests: list[str]
) -> None:
    done = outcome(tmp_path, fault)
    cited = f"[{requirement}]"
    # a warning is a passed JUnit case: its message is in the console's warnings summary
    caught = [t for t in done.of(verdict) if cited in done.messages[t] or cited in done.output]
    assert {_short(t) for t in caught} >= set(tests), (done.verdicts, done.output[-3000:])
    assert done.returncode == (1 if verdict == "fail" else 0)
    assert done.of("error") == [], done.output[-3000:]


def test_the_local_clock_failure_says_how_now_was_read(tmp_path: Path) -> None:
    """Without a control-plane clock, "now" is the local clock around the exchange, widened by
    the profile's tolerance, and the failure says so; a tolerance wider than the defect's hour
    lets the same server pass."""
    done = outcome(tmp_path, "response-timestamp-ahead")
    failed = [t for t in done.of("fail") if "test_response_timestamp_is_now_in_utc" in t]
    assert failed, done.output[-3000:]
    message = done.messages[failed[0]]
    for words in (
        "the local clock",
        "send/receive window",
        "tolerance of 5 s",
        "clock_tolerance_s",
    ):
        assert words in message, message
    lenient = outcome(tmp_path, "response-timestamp-ahead", target_extra="clock_tolerance_s = 7200")
    judged = [t for t in lenient.verdicts if "test_response_timestamp_is_now_in_utc" in t]
    assert judged and all(lenient.verdicts[t] == "pass" for t in judged), lenient.verdicts


def test_without_an_agentless_group_they_are_not_applicable(tmp_path: Path) -> None:
    done = outcome(tmp_path, agentless=False)
    assert done.returncode == 0, done.output[-3000:]
    for test in NEWLY_APPLICABLE:
        (seen,) = [t for t in done.verdicts if _short(t) == test]
        assert done.verdicts[seen] == "not applicable", (seen, done.verdicts[seen])
        assert "an agentless open group" in done.messages[seen], done.messages[seen]
        assert "agentless = true" in done.messages[seen], done.messages[seen]


# -- "now" without the control plane's clock (pure checks) --------------------------------------
def _exchange(sent_at: datetime | None, elapsed_s: float = 0.2) -> Exchange:
    return Exchange("GetAllOpenMediaRequestStatus", "POST", "http://t/", (), b"", 200, "OK", (),
                    b"", elapsed_s, sent_at)  # fmt: skip


def _stamp(moment: datetime) -> Stamp:
    return Stamp(moment.isoformat().replace("+00:00", "Z"), moment)


def test_local_now_is_the_exchange_window_widened_by_the_tolerance() -> None:
    sent = datetime(2026, 12, 7, 12, 0, 0, tzinfo=timezone.utc)
    first, last = _exchange(sent), _exchange(sent + timedelta(seconds=3), elapsed_s=1.0)
    now = local_clock(first, 5.0, last)
    assert (now.earliest, now.latest) == (sent - timedelta(seconds=5), sent + timedelta(seconds=9))
    for inside in (now.earliest, sent, now.latest):
        expect_now("EVT-RESPONSE-TIMESTAMP", _stamp(inside), now, "the TimeStamp", first)
    with pytest.raises(ValueError):
        local_clock(_exchange(None), 5.0)


@pytest.mark.parametrize(("off_s", "side"), [(-0.5, "before"), (4.25, "after")])
def test_a_time_outside_now_fails_saying_how_now_was_read(off_s: float, side: str) -> None:
    sent = datetime(2026, 12, 7, 12, 0, 0, tzinfo=timezone.utc)
    exchange = _exchange(sent, elapsed_s=0.0)
    now = local_clock(exchange, 5.0)
    edge = now.earliest if off_s < 0 else now.latest
    with pytest.raises(ConformanceFailure) as caught:
        expect_now(
            "EVT-RESPONSE-TIMESTAMP",
            _stamp(edge + timedelta(seconds=off_s)),
            now,
            "the response TimeStamp",
            exchange,
        )
    failure = caught.value
    assert failure.requirement == "EVT-RESPONSE-TIMESTAMP" and failure.exchange is exchange
    assert f"{abs(off_s):g} s {side} that window" in failure.actual
    said = (
        "2026-12-07T11:59:55.000Z",
        "2026-12-07T12:00:05.000Z",
        "the local clock",
        "send/receive window",
        "tolerance of 5 s",
        "[target] clock_tolerance_s",
    )
    assert all(words in failure.expected for words in said), failure.expected
    clock = target_clock(sent, sent + timedelta(seconds=1), timedelta(seconds=1))
    assert "the target's clock" in clock.describe() and clock.holds(sent + timedelta(seconds=2))


def test_the_transport_stamps_each_exchange_with_the_local_clock(
    emulator: RunningEmulator,
) -> None:
    """A real exchange carries its send time (UTC, local clock) and its receive time after it."""
    with OpenMediaClient(emulator.url, timeout_s=10) as om:
        before = datetime.now(timezone.utc)
        exchange = om.get_all_status().exchange
        after = datetime.now(timezone.utc)
    assert exchange.sent_at is not None and exchange.received_at is not None
    assert before <= exchange.sent_at <= exchange.received_at <= after
