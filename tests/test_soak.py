"""``openmedia-conformance soak``: many clients, a random valid mix, the invariants held.

The judgements are pure and tested as such; the model is tested for the races a concurrent
soak meets (an answer that overlaps another call proves nothing). The command is run as a user
runs it, a child process against a real emulator: clean → exit 0 with its JSON; a planted defect
that breaks an invariant → exit 1 naming the requirement; a wrong option, a closed port, an
HTML page → exit 2 or 3 with one clear line; Ctrl-C in safe mode → the summary so far, and
every request it created cancelled on the target.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hostile import answers, servers

from conformance.checks.status import Stamp, later
from conformance.contract.namespaces import SOAP_ENV
from conformance.contract.operations import fault_ref
from conformance.contract.paths import fixtures_dir
from conformance.plugin.embedded import EmbeddedEmulator
from conformance.profile import ServerOptions, load_profile
from conformance.soak.invariants import (
    Invariant,
    judge_events,
    judge_fault,
    judge_http,
    judge_listed,
    judge_new_id,
    judge_repeat,
    judge_step,
)
from conformance.soak.mix import Mix
from conformance.soak.model import SoakModel
from conformance.soak.stats import Histogram
from conformance.suite_support.lifecycle_values import Status
from conformance.wire import Exchange, OpenMediaClient
from conformance.wire.values import SoapFault

ROOT = Path(__file__).resolve().parents[1]
JSON_KEYS = {
    "target", "profile", "safe_mode", "clients", "seed", "bounds", "stopped", "interrupted",
    "elapsed_s", "requests", "per_s", "latency_ms", "operations", "not_sent", "violations",
    "violation_count", "failing", "strict", "leak_audit", "exit_status",
}  # fmt: skip
OPERATION_KEYS = {"requests", "per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "results"}
AUDIT = re.compile(r"openmedia leak audit: created (\d+), cleaned (\d+), left behind: \[([^\]]*)\]")


# -- the pure judgements ---------------------------------------------------------------------
def test_an_add_success_needs_a_usable_id_never_seen_before() -> None:
    assert judge_new_id(7, known_before=False) is None
    reused = judge_new_id(7, known_before=True)
    assert reused is not None and reused.requirement == "ADD-OPENMEDIAID-UNIQUE"
    for unusable in (0, None, -1):
        found = judge_new_id(unusable, known_before=False)
        assert found is not None and found.requirement == "ADD-VALID-BY-GROUP-ID"


def test_statuses_move_forward_and_only_a_divert_requeues() -> None:
    assert judge_step(Status.QUEUED, Status.ALLOCATED, diverted=False) is None
    assert judge_step(Status.QUEUED, Status.CANCELLED, diverted=False) is None
    assert judge_step(Status.QUEUED, Status.COMPLETE, diverted=False) is None  # polled past
    final = judge_step(Status.CANCELLED, Status.QUEUED, diverted=True)
    assert final is not None and final.requirement == "LIFE-TERMINAL-FINAL"
    back = judge_step(Status.ALLOCATED, Status.QUEUED, diverted=False)
    assert back is not None and back.requirement == "LIFE-DIVERT-REQUEUES"
    assert judge_step(Status.ALLOCATED, Status.QUEUED, diverted=True) is None


def test_one_state_recorded_twice_is_found_unless_a_divert_explains_it() -> None:
    twice = [(Status.QUEUED, 10), (Status.QUEUED, 10)]
    found = judge_events(twice, diverted=False)
    assert [f.requirement for f in found] == ["EVT-EVENT-PER-STATE"]
    assert judge_events(twice, diverted=True) == []
    assert judge_events([(Status.QUEUED, 10), (Status.QUEUED, 11)], diverted=False) == []
    assert judge_events([(Status.QUEUED, 10), (Status.CANCELLED, 10)], diverted=False) == []


def test_listing_misses_and_duplicates_are_found_several_records_are_not() -> None:
    records = {1: [("Queued", "t1")], 2: [("Queued", "t1"), ("Cancelled", "t2")]}
    assert judge_listed([1, 2], records) == []
    missing = judge_listed([1, 2, 3], records)
    assert len(missing) == 1 and "3" in missing[0].detail
    assert missing[0].requirement == "ALL-EVERY-REQUEST"
    doubled = judge_listed([1], {1: [("Queued", "t1"), ("Queued", "t1")]})
    assert len(doubled) == 1 and "twice" in doubled[0].detail


def _fault(name: str) -> SoapFault:
    """The fault ``name`` as a target raises it: its typed detail in the contract's namespace."""
    return SoapFault(SOAP_ENV, "Server", name, name, fault_ref(name).namespace)


def test_faults_http_status_and_repeats() -> None:
    assert judge_fault("CancelRequest", _fault("InvalidOpenMediaIDFault")) is None
    assert judge_fault("CancelRequest", _fault("OpenMediaRequestTerminatedFault")) is None  # R4
    assert judge_fault("ModifyRequest", _fault("InvalidDataException")) is None  # R3
    undeclared = judge_fault("GetOpenMediaRequestsByTime", _fault("InvalidDataException"))
    assert undeclared is not None and undeclared.requirement == "WIRE-FAULT-DECLARED"
    assert judge_http(200, is_fault=False) is None and judge_http(500, is_fault=True) is None
    wrong = judge_http(200, is_fault=True)
    assert wrong is not None and wrong.requirement == "WIRE-HTTP-STATUS"
    assert judge_repeat(False, True, "e") is None
    assert judge_repeat(True, True, "e") is not None
    assert judge_repeat(False, False, "e") is not None


def test_an_event_one_dotnet_tick_after_the_timestamp_fed_back_is_no_repeat() -> None:
    """Seven fraction digits (a .NET target) on the same microsecond: the digits decide (R12)."""
    moment = datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)
    fed_back = Stamp("2026-01-01T00:00:00.1234561Z", moment)
    assert later(Stamp("2026-01-01T00:00:00.1234567Z", moment), fed_back)
    assert not later(fed_back, fed_back)
    assert not later(Stamp("2026-01-01T00:00:00.123456Z", moment), fed_back)
    assert later(Stamp("2026-01-01T00:00:01Z", moment.replace(second=1)), fed_back)


def test_the_histogram_answers_percentiles_within_one_percent() -> None:
    histogram = Histogram()
    for micros in range(1, 1001):
        histogram.add(micros / 1e6)
    for fraction, wanted in ((0.5, 500e-6), (0.99, 990e-6)):
        assert abs(histogram.percentile(fraction) - wanted) <= wanted * 0.011
    assert histogram.percentile(1.0) == pytest.approx(1000e-6)
    assert Histogram().percentile(0.5) == 0.0


def test_set_options_sends_only_what_safe_mode_allows(tmp_path: Path) -> None:
    emulator = load_profile(fixtures_dir() / "profiles" / "emulator.toml")
    assert Mix.of(emulator).options and "SetOptions" in Mix.of(emulator).weights
    safe = load_profile(_safe_profile(tmp_path))
    assert Mix.of(safe).options == () and "SetOptions" not in Mix.of(safe).weights
    assert "SetOptions" in Mix.of(safe).not_sent
    entry = ServerOptions((("TypeOfSession", 0), ("MaxNumberOfSessions", 4)))
    opted_in = dataclasses.replace(safe, overwrite_server_options=(entry,))
    assert Mix.of(opted_in).options == ({"TypeOfSession": 0, "MaxNumberOfSessions": 4},)
    rng = random.Random(1)
    assert Mix.of(opted_in).set_options(rng) == {"request": entry.request()}
    assert all(Mix.of(safe).cancel(rng, 5)["request"]["DoNotReport"] for _ in range(20))


# -- the model: what a concurrent answer proves ------------------------------------------------
def _exchange() -> Exchange:
    return Exchange(
        "X", "POST", "http://127.0.0.1:1/OpenMediaService", (), b"", 200, "OK", (), b"", 0.0
    )


def test_an_answer_overlapping_a_cancel_proves_nothing_one_sent_after_it_does() -> None:
    model, ex = SoakModel(1800.0, started=0.0), _exchange()
    model.created(5, 10, sent_at=1.0, received_at=2.0, ex=ex)
    model.cancelled(5, sent_at=3.0, received_at=4.0, ex=ex)
    model.observed(5, "Queued", 3.5, 4.5, "GetOpenMediaRequestStatusByID", ex)  # sent before 4.0
    assert model.violations == {}
    model.observed(5, "Queued", 5.0, 6.0, "GetOpenMediaRequestStatusByID", ex)  # sent after it
    assert [v.requirement for v in model.violations.values()] == ["LIFE-TERMINAL-FINAL"]


def test_a_listing_owes_only_the_requests_created_before_it_was_sent() -> None:
    model, ex = SoakModel(1800.0, started=0.0), _exchange()
    model.created(1, 10, sent_at=0.5, received_at=1.0, ex=ex)
    model.created(2, 10, sent_at=2.5, received_at=3.0, ex=ex)
    listing = [(1, "Queued", "2026-12-07T10:00:00Z")]
    model.listed(listing, {1: "Queued"}, sent_at=2.0, received_at=3.5, ex=ex)  # before 2 existed
    assert model.violations == {}
    model.listed(listing, {1: "Queued"}, sent_at=4.0, received_at=4.5, ex=ex)
    (found,) = model.violations.values()
    assert found.requirement == "ALL-EVERY-REQUEST" and "2" in found.detail


def test_an_id_listed_before_an_add_was_sent_is_no_new_id() -> None:
    model, ex = SoakModel(1800.0, started=0.0), _exchange()
    model.listed([(77, "Queued", "t")], {77: "Queued"}, sent_at=0.0, received_at=1.0, ex=ex)
    model.created(77, 10, sent_at=0.5, received_at=1.5, ex=ex)  # overlapped: proves nothing
    assert model.violations == {}
    model.created(78, 10, sent_at=2.0, received_at=2.5, ex=ex)
    listing = [(oid, "Queued", f"t{oid}") for oid in (77, 78, 79)]
    model.listed(listing, {}, sent_at=3.0, received_at=3.5, ex=ex)
    model.created(79, 10, sent_at=4.0, received_at=4.5, ex=ex)
    (found,) = model.violations.values()
    assert found.requirement == "ADD-OPENMEDIAID-UNIQUE"


def test_a_stream_that_gives_an_event_before_its_add_is_answered_skips_nothing() -> None:
    model, ex = SoakModel(1800.0, started=0.0), _exchange()
    event = (9, "Queued", 10, "2026-12-07T10:00:00.000001Z", True)
    model.streamed([event], sent_at=1.0, received_at=1.5, ex=ex)  # AddRequest answer not in yet
    model.created(9, 10, sent_at=0.9, received_at=1.6, ex=ex)
    model.streamed([], sent_at=2.0, received_at=2.5, ex=ex)
    assert model.violations == {}


def test_a_stream_that_never_gives_an_event_skipped_it() -> None:
    model, ex = SoakModel(1800.0, started=0.0), _exchange()
    model.created(9, 10, sent_at=0.9, received_at=1.0, ex=ex)
    model.streamed([], sent_at=0.95, received_at=1.5, ex=ex)  # overlapped the add: owes nothing
    assert model.violations == {}
    model.streamed([], sent_at=2.0, received_at=2.5, ex=ex)
    (found,) = model.violations.values()
    assert found.invariant is Invariant.NO_SKIP and found.requirement == "EVT-TIMESTAMP-FEEDBACK"


# -- the command ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    code: int
    out: str


def _env() -> dict[str, str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        environ.pop(name, None)
    for name in ("OPENMEDIA_PASSWORD", "OPENMEDIA_LOGON_ID"):
        environ.pop(name, None)
    return environ


def soak(*args: str, cwd: Path) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "soak", *args],
        cwd=cwd, env=_env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    return Result(done.returncode, done.stdout + done.stderr)


@pytest.fixture
def standalone() -> Iterator[EmbeddedEmulator]:
    """The emulator as a separate process on a loopback port, as a user starts it."""
    with EmbeddedEmulator() as emulator:
        yield emulator


def test_a_short_soak_of_the_embedded_emulator_is_clean_and_writes_its_figures(
    tmp_path: Path,
) -> None:
    result = soak("--requests", "600", "--seed", "7", "--json", "figures.json", cwd=tmp_path)
    assert result.code == 0, result.out
    assert "violations: none" in result.out
    assert "Traceback" not in result.out
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert set(figures) == JSON_KEYS
    assert figures["violations"] == [] and figures["violation_count"] == 0
    assert figures["clients"] == 8 and figures["seed"] == 7
    assert figures["requests"] == 600 and figures["per_s"] > 0
    assert figures["exit_status"] == 0 and figures["safe_mode"] is False
    assert len(figures["operations"]) == 12
    for name, op in figures["operations"].items():
        assert set(op) == OPERATION_KEYS, name
    assert figures["operations"]["AddRequest"]["requests"] > 0
    assert figures["operations"]["GetOpenMediaRequestsByTime"]["requests"] > 0


@pytest.mark.parametrize(
    ("fault", "requirement"),
    [
        ("queued-event-recorded-twice", "EVT-EVENT-PER-STATE"),
        ("add-success-id-zero", "ADD-VALID-BY-GROUP-ID"),
        ("all-status-omits-terminated", "ALL-EVERY-REQUEST"),
    ],
)
def test_a_planted_defect_in_the_embedded_emulator_is_a_violation_named_by_its_requirement(
    tmp_path: Path, fault: str, requirement: str
) -> None:
    # the duration bounds it, not the requests: GetAllOpenMediaRequestStatus is sent at most
    # every 2 s, and at 1,100 requests/s a bound of 1,500 ended the soak after its first one
    result = soak(
        "--om-emulator-fault", fault, "--duration", "3s", "--requests", "20000",
        "--json", "figures.json", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result.out
    assert f"FAIL [{requirement}]" in result.out, result.out
    figures = json.loads((tmp_path / "figures.json").read_text())
    found = {v["requirement"]: v for v in figures["violations"]}
    assert requirement in found
    first = found[requirement]["first"]
    assert first["exchange"]["request"] and first["exchange"]["response"]
    assert figures["exit_status"] == 1 and figures["failing"] > 0


def test_a_standalone_emulator_whose_poll_skips_events_fails_the_soak(tmp_path: Path) -> None:
    """``emulator --fault by-time-timestamp-ahead`` as its own process, soaked by URL (with the
    pre-flight, as a vendor server): polling by time loses events (R12)."""
    command = [
        sys.executable, "-m", "conformance.cli", "emulator",
        "--fault", "by-time-timestamp-ahead", "--host", "127.0.0.1", "--port", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"listening on (\S+)", line)
        assert url, line
        result = soak(
            "--om-target-url", url.group(1),
            "--om-profile", str(fixtures_dir() / "profiles" / "emulator.toml"),
            "--requests", "800", cwd=tmp_path,
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(10)
    assert result.code == 1, result.out
    assert "openmedia pre-flight passed" in result.out, result.out
    assert "FAIL [EVT-TIMESTAMP-FEEDBACK]" in result.out, result.out
    assert "skips no event" in result.out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--duration=-5s"], "more than 0 s"),
        (["--duration", "-5s"], "argument --duration"),
        (["--duration", "0"], "more than 0 s"),
        (["--duration", "soon"], "no duration"),
        (["--clients", "0"], "give 1 to 64"),
        (["--clients", "500"], "give 1 to 64"),
        (["--requests", "many"], "no whole number of requests"),
        (["--om-emulator-fault", "no-such-defect"], "no-such-defect"),
        (["--om-profile", "/nonexistent/profile.toml"], "/nonexistent/profile.toml"),
    ],
)
def test_a_wrong_option_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: list[str], says: str
) -> None:
    result = soak(*args, cwd=tmp_path)
    assert result.code == 2, result.out
    assert says in result.out, result.out
    assert "Traceback" not in result.out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_target_or_an_html_page_is_exit_3(tmp_path: Path) -> None:
    profile = str(fixtures_dir() / "profiles" / "emulator.toml")
    closed = f"http://127.0.0.1:{_closed_port()}/OpenMediaService"
    result = soak("--om-target-url", closed, "--om-profile", profile, cwd=tmp_path)
    assert result.code == 3, result.out
    assert "pre-flight stopped" in result.out and "Traceback" not in result.out
    page = b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head></html>"
    html = answers.http(200, "OK", "text/html; charset=utf-8", page)
    with servers.HostileServer(servers.answer(html)) as target:
        result = soak("--om-target-url", target.url, "--om-profile", profile, cwd=tmp_path)
    assert result.code == 3, result.out
    assert "an HTML page titled 'Welcome to nginx!'" in result.out, result.out
    assert "Traceback" not in result.out


def _safe_profile(folder: Path) -> Path:
    """The emulator's world described as a vendor server: safe mode on, paced."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(
        r"(?m)^safe_mode = false.*$", "safe_mode = true\nmax_requests_per_second = 150", text
    )
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    path = folder / "vendor-safe.toml"
    path.write_text(text)
    return path


def test_ctrl_c_in_safe_mode_prints_the_summary_and_cancels_every_request_created(
    tmp_path: Path, standalone: EmbeddedEmulator
) -> None:
    assert standalone.urls is not None
    url = standalone.urls.service_url
    command = [
        sys.executable, "-m", "conformance.cli", "soak", "--om-target-url", url,
        "--om-profile", str(_safe_profile(tmp_path)), "--duration", "60s",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, env=_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("requests |" in line for line in lines):  # the first progress line
        assert process.poll() is None, "".join(lines)
        assert time.monotonic() < deadline, "".join(lines)
        time.sleep(0.1)
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    code = process.wait(60)
    reader.join(10)
    out = "".join(lines)
    assert time.monotonic() - started < 30, out
    assert code == 3, out  # interrupted before its bound, no violation
    assert "openmedia soak interrupted" in out, out
    assert "violations: none" in out, out
    assert "GetAllOpenMediaServiceGroupStatus" in out  # the table so far
    assert "SetOptions" in out and "not sent: safe mode" in out
    assert "Traceback" not in out
    pace = re.search(r"interrupted: ([\d,]+) requests in ([\d.]+) s", out)
    assert pace, out
    sent, seconds = int(pace.group(1).replace(",", "")), float(pace.group(2))
    assert sent <= 150 * seconds * 1.05 + 2, f"{sent} in {seconds} s: the pace did not hold"
    (created, cleaned, left) = AUDIT.findall(out)[0]
    assert int(created) > 0 and created == cleaned and left == "", out
    audit = json.loads((tmp_path / "reports" / "leak-audit.json").read_text())
    assert audit["left_behind"] == [] and audit["target"] == url
    with OpenMediaClient(url, timeout_s=10) as om:
        for oid in audit["created_ids"]:
            records = om.get_status_by_id(oid).value.requests  # type: ignore[union-attr]
            assert [r.status for r in records] == ["Cancelled"], oid


# -- one judgement for the soak and the suite ---------------------------------------------------
def test_a_diverted_request_queued_twice_on_one_clock_tick_is_listed_once() -> None:
    """A divert re-queues (in the same group when there is no other) and a coarse clock may stamp
    both Queued events alike: presence only. An undiverted request queued twice is a duplicate."""
    twice = {4: [("Queued", "t1"), ("Queued", "t1")], 5: [("Queued", "t1"), ("Queued", "t2")]}
    assert judge_listed([4, 5], twice, diverted={4, 5}) == []
    (found,) = judge_listed([4, 5], twice, diverted={4})
    assert found.requirement == "ALL-EVERY-REQUEST" and "{5: 2}" in found.detail


def test_a_divert_on_the_add_s_clock_tick_is_no_repeat_a_later_poll_giving_it_again_is() -> None:
    """Queued at 10, diverted to 11 on the same tick: two events in one answer, not one twice.
    The same event given again by the next poll is a repeat (R12)."""
    model, ex = SoakModel(1800.0, started=0.0), _exchange()
    model.created(9, 10, sent_at=0.5, received_at=0.6, ex=ex)
    model.diverting(9)
    stamp = "2026-12-07T10:00:00.123Z"
    both = [(9, "Queued", 10, stamp, True), (9, "Queued", 11, stamp, True)]
    model.streamed(both, sent_at=1.0, received_at=1.5, ex=ex)
    assert model.violations == {}
    model.streamed([(9, "Queued", 11, stamp, True)], sent_at=2.0, received_at=2.5, ex=ex)
    (found,) = model.violations.values()
    assert found.invariant is Invariant.NO_REPEAT and found.requirement == "EVT-TIMESTAMP-FEEDBACK"
