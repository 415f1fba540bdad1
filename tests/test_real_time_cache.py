"""The data cache's real-time tier (``--om-real-time``): expiry observed by waiting, on a target
whose clock the suite cannot drive.

The proof is physical. Reference emulators run as processes of their own, each started the way
a vendor's server would be (``python -m conformance.cli emulator --port 0 --scenario S.json``,
with DataExpiration 1 minute and nobody stepping its clock), and are described by profiles
written outside the checkout as vendor servers (safe mode, no control URL, no features). The
suite runs against each in a subprocess, all at once, so the batch takes one DataExpiration plus
margin, not one per run:

* the clean emulator: the tier's tests apply and pass, taking about a minute plus the margin,
  and nothing the run created is left queued;
* one emulator per planted cache defect: the run fails, citing the defect's requirement;
* ``-n 2``: each xdist worker runs its own tier and judges it; the run passes;
* without ``--om-real-time``: the tier's tests are *not applicable*, naming the option;
* Ctrl-C while a cache test waits: the run stops within seconds, and its requests are cancelled.

The rest is quick: the bound on DataExpiration and the margin (usage errors), the profile keys,
and the order of collection (the tier's tests last, the same IDs plus the new one).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.catalogue import CATALOGUE
from conformance.contract.paths import fixtures_dir
from conformance.emulator import RunningEmulator
from conformance.emulator.faults import BY_NAME
from conformance.plugin.options import OptionValues
from conformance.plugin.settings import build_settings
from conformance.profile import Profile, load_profile
from conformance.profile.model import REAL_TIME_MARGIN_S, REAL_TIME_MAX_MINUTES
from conformance.suite_support.real_time_cache import RealTimeCache
from conformance.verdicts import Blocked, SuiteError, UsageError
from conformance.wire import Exchange, OpenMediaClient

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCE = re.compile(r"listening on (http://\S+/OpenMediaService) control (http://\S+/control)")
EXPIRY_MINUTES = 1
MARGIN_S = 10
"""The self-test's margin: the emulator ages its cache out at the exact moment, so a few
seconds for a loaded machine's calls are enough (the default is for real servers' timers)."""
RUN_TIMEOUT_S = 600
STOP_S = 30
"""How soon a Ctrl-C ends the run, with its summary and clean-up (measured: a few seconds on an
idle machine, 12 s with the whole batch and other work on two CPUs; the wait was 70 s)."""
TIER_TESTS = (
    "test_terminated_request_leaves_at_data_expiration[cancelled-queued]",
    "test_active_request_never_expires[queued]",
    "test_configured_data_expiration_in_force",
)
"""The cache tests that need no control feature: the ones the tier makes applicable."""

DEFECTS = {
    "cache-expires-early": "CACHE-TERMINATED-EXPIRES",
    "cache-expires-late": "CACHE-TERMINATED-EXPIRES",
    "active-requests-expire": "CACHE-ACTIVE-NEVER-EXPIRES",
    "expired-answered-by-id": "CACHE-EXPIRED-BY-ID",
    "expired-listed-by-time": "CACHE-EXPIRED-LEFT-OUT",
    "configured-expiration-ignored": "CACHE-CONFIGURED-EXPIRATION",
}
"""Every planted defect of the data cache the tier can meet, and the requirement it fails."""
OUT_OF_REACH = {
    "default-expiration-shorter": "acts only at the default DataExpiration (30 minutes), "
    f"which is beyond the tier's bound of {REAL_TIME_MAX_MINUTES}",
}
"""Cache defects the tier cannot meet, and why (the clock-driven form catches them)."""


# -- the batch: every run at once ------------------------------------------------------------------
@dataclass
class Run:
    """One suite run against one emulator process of its own."""

    name: str
    args: tuple[str, ...]
    faults: tuple[str, ...] = ()
    interrupt: bool = False
    folder: Path = Path()
    service_url: str = ""
    control_url: str = ""
    emulator: subprocess.Popen[str] | None = None
    suite: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ended: float = 0.0
    interrupted_at: float | None = None
    returncode: int | None = None
    output: str = ""
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.folder / "output.txt"

    @property
    def junit(self) -> Path:
        return self.folder / "junit.xml"

    @property
    def wall_s(self) -> float:
        return self.ended - self.started

    def call_s(self) -> dict[str, float]:
        """Each test's call time (JUnit): how long a cache test waited for the tier."""
        cases = ET.parse(self.junit).getroot().iter("testcase")
        return {case.get("name", ""): float(case.get("time", "nan")) for case in cases}


def _scenario(folder: Path) -> Path:
    scenario = json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text())
    scenario["data_expiration_minutes"] = EXPIRY_MINUTES
    path = folder / "scenario.json"
    path.write_text(json.dumps(scenario))
    return path


def vendor_profile(
    folder: Path, *, minutes: int = EXPIRY_MINUTES, margin: object = MARGIN_S, extra: str = ""
) -> Path:
    """The emulator's world as a vendor server: safe mode, no control URL, no features."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(
        r"(?m)^data_expiration_minutes = .*$", f"data_expiration_minutes = {minutes}", text
    )
    target = "safe_mode = true\nmax_requests_per_second = 1000"
    target += "" if margin is None else f"\nreal_time_margin_s = {margin}"
    text = re.sub(r"(?m)^safe_mode = false.*$", target + extra, text)
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    path = folder / "vendor.toml"
    path.write_text(text)
    return path


def _start_emulator(run: Run) -> None:
    command = [sys.executable, "-m", "conformance.cli", "emulator", "--host", "127.0.0.1"]
    command += ["--port", "0", "--scenario", str(_scenario(run.folder))]
    for fault in run.faults:
        command += ["--fault", fault]
    run.emulator = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def _announced(run: Run) -> None:
    assert run.emulator is not None and run.emulator.stdout is not None
    found = ANNOUNCE.search(run.emulator.stdout.readline())
    assert found, f"the emulator of {run.name} did not announce itself"
    run.service_url, run.control_url = found.group(1), found.group(2)


def _start_suite(run: Run) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENMEDIA_"))}
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable, "-m", "conformance.cli", "run", "-rs", "--om-no-allure",
        "--om-target-url", run.service_url, "--om-profile", str(vendor_profile(run.folder)),
        "-k", "data_cache", "--junitxml", str(run.junit), "-o", "junit_duration_report=call",
        *run.args,
    ]  # fmt: skip
    run.started = time.monotonic()
    with run.log.open("wb") as out:
        run.suite = subprocess.Popen(command, cwd=run.folder, env=env, stdout=out, stderr=out)


def _state(run: Run) -> dict[str, Any]:
    with urllib.request.urlopen(f"{run.control_url}/state", timeout=10) as answer:
        return dict(json.load(answer))


def _waiting(run: Run) -> bool:
    return "openmedia real-time cache: waiting" in run.log.read_text(errors="replace")


def _finish(runs: list[Run]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    waiting = list(runs)
    while waiting and time.monotonic() < deadline:
        for run in list(waiting):
            assert run.suite is not None
            if run.interrupt and run.interrupted_at is None and _waiting(run):
                run.interrupted_at = time.monotonic()
                run.suite.send_signal(signal.SIGINT)
            if run.suite.poll() is not None:
                run.ended = time.monotonic()
                run.returncode = run.suite.returncode
                run.output = run.log.read_text(errors="replace")
                run.state = _state(run)
                waiting.remove(run)
        time.sleep(0.2)
    assert not waiting, f"runs still going after {RUN_TIMEOUT_S} s: {[r.name for r in waiting]}"


def _stop(run: Run) -> None:
    for process in (run.suite, run.emulator):
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)
    if run.emulator is not None and run.emulator.stdout is not None:
        run.emulator.stdout.close()


@contextlib.contextmanager
def batch_of_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Every run, made at once (one DataExpiration + margin for all)."""
    batch = [
        Run("clean", ("--om-real-time",)),
        Run("workers", ("--om-real-time", "-n", "2")),
        Run("without", ()),
        Run("interrupted", ("--om-real-time",), interrupt=True),
        *(Run(name, ("--om-real-time",), faults=(name,)) for name in DEFECTS),
    ]
    try:
        for run in batch:
            run.folder = tmp_path_factory.mktemp(run.name)
            _start_emulator(run)
        for run in batch:
            _announced(run)
            _start_suite(run)
        _finish(batch)
        yield {run.name: run for run in batch}
    finally:
        for run in batch:
            _stop(run)


def _live_requests(state: dict[str, Any]) -> list[int]:
    queued = [i for group in state["service_groups"] for i in group["queue"]]
    return queued + [i for agent in state["agents"] for i in agent["sessions"]]


def _verdicts(output: str) -> str:
    found = re.search(r"(?m)^verdicts: (.*)$", output)
    assert found, output[-3000:]
    return found.group(1)


# -- the physical runs -----------------------------------------------------------------------------
def check_clean(run: Run) -> None:
    """A clean server passes, in about one DataExpiration plus margin, and is left clean."""
    assert run.returncode == 0, run.output[-4000:]
    assert _verdicts(run.output) == "3 pass, 9 not applicable", run.output[-3000:]
    assert "openmedia real-time cache: waiting" in run.output
    assert f"(1 min + {MARGIN_S} s, [target] real_time_margin_s)" in run.output
    expiry = EXPIRY_MINUTES * 60
    assert run.wall_s >= expiry + MARGIN_S  # the "gone" moment is that long after the cancel
    waited = max(run.call_s()[name] for name in TIER_TESTS)  # the first of them waits
    assert waited <= expiry + MARGIN_S + 5, run.call_s()  # not more: the tier began with the run
    assert "left behind: []" in run.output
    assert _live_requests(run.state) == []


def check_workers(run: Run) -> None:
    """``-n 2``: each worker runs its own tier (two requests) and judges that one."""
    assert run.returncode == 0, run.output[-4000:]
    assert _verdicts(run.output) == "3 pass, 9 not applicable", run.output[-3000:]
    created = re.search(r"leak audit: created (\d+)", run.output)
    assert created and int(created.group(1)) == 4, run.output[-2000:]  # two tiers of two
    assert "left behind: []" in run.output
    assert _live_requests(run.state) == []


def check_without(run: Run) -> None:
    """Without the option the tier's tests are not applicable, naming it; nothing waits."""
    assert run.returncode == 0, run.output[-4000:]
    assert _verdicts(run.output) == "12 not applicable", run.output[-3000:]
    reasons = [line for line in run.output.splitlines() if "--om-real-time" in line]
    assert len(reasons) == len(TIER_TESTS), run.output[-3000:]
    assert all("no control plane" in line and "lacks control feature 'clock'" in line
               for line in reasons)  # fmt: skip
    assert max(run.call_s().values()) < 5  # nothing waited


def check_interrupted(run: Run) -> None:
    """Ctrl-C during the wait stops the run promptly, and its requests are cancelled."""
    assert run.interrupted_at is not None, run.output[-3000:]
    assert run.returncode == 3, run.output[-3000:]
    assert run.ended - run.interrupted_at < STOP_S, run.ended - run.interrupted_at
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "left behind: []" in run.output, run.output[-3000:]
    assert _live_requests(run.state) == []


def check_defect(run: Run) -> None:
    """A planted cache defect fails the run, citing its requirement."""
    assert run.returncode == 1, run.output[-4000:]
    assert f"[{DEFECTS[run.name]}]" in run.output, run.output[-4000:]
    assert "left behind: []" in run.output  # (active-requests-expire leaves a queue entry of
    # its own: the defect drops the request from the cache, not from the queue)


CHECKS = {
    "clean": check_clean,
    "workers": check_workers,
    "without": check_without,
    "interrupted": check_interrupted,
    **dict.fromkeys(DEFECTS, check_defect),
}


def test_the_tier_against_emulator_processes_all_at_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Every run above at once, each checked; one test, not one per run: under ``-n auto`` a
    module fixture shared by several tests is made by every worker that runs one of them, and
    the batch would run twice. Every problem of every run is reported together."""
    problems = []
    with batch_of_runs(tmp_path_factory) as runs:
        assert set(runs) == set(CHECKS)
        for name, run in runs.items():
            try:
                CHECKS[name](run)
            except AssertionError as exc:
                problems.append(f"{name} ({' '.join(run.args)}): {exc}")
    assert not problems, "\n\n".join(problems)


def test_every_planted_cache_defect_is_met_or_said_out_of_reach() -> None:
    cache = {r.id for r in CATALOGUE.requirements if r.section == "data-cache"}
    planted = {name for name, row in BY_NAME.items() if row.requirement in cache}
    assert planted == set(DEFECTS) | set(OUT_OF_REACH)
    assert all(BY_NAME[name].requirement == rid for name, rid in DEFECTS.items())


# -- settings, profile, collection -----------------------------------------------------------------
def test_the_profile_keys_and_their_defaults(tmp_path: Path) -> None:
    plain = load_profile(vendor_profile(tmp_path))
    assert plain.target.real_time is False and plain.target.real_time_margin_s == MARGIN_S
    on = load_profile(vendor_profile(tmp_path, extra="\nreal_time = true"))
    assert on.target.real_time is True
    default = load_profile(fixtures_dir() / "profiles" / "vendor-example.toml")
    assert default.target.real_time_margin_s == REAL_TIME_MARGIN_S
    bad = vendor_profile(tmp_path, margin=0)
    wanted = r"\[target\] real_time_margin_s: must be a number of seconds, more than zero"
    with pytest.raises(UsageError, match=wanted):
        load_profile(bad)


def _settings(profile: Path, *, real_time: bool) -> bool:
    options = OptionValues(target_url="http://127.0.0.1:9/OpenMediaService", profile=str(profile))
    options = OptionValues(**{**options.__dict__, "real_time": real_time})
    return build_settings(options, {}).real_time


def test_a_long_data_expiration_is_refused_not_waited_for(tmp_path: Path) -> None:
    long = vendor_profile(tmp_path, minutes=30)
    assert _settings(long, real_time=False) is False
    with pytest.raises(UsageError) as caught:
        _settings(long, real_time=True)
    message = str(caught.value)
    assert "--om-real-time" in message and "data_expiration_minutes = 30" in message
    assert f"at most {REAL_TIME_MAX_MINUTES}" in message and "README" in message
    by_key = vendor_profile(tmp_path, minutes=30, extra="\nreal_time = true")
    with pytest.raises(UsageError, match=r"\[target\] real_time of profile"):
        _settings(by_key, real_time=False)
    assert _settings(vendor_profile(tmp_path, minutes=REAL_TIME_MAX_MINUTES), real_time=True)


def test_a_margin_of_half_the_expiry_or_more_is_refused(tmp_path: Path) -> None:
    wide = vendor_profile(tmp_path, margin=30)
    with pytest.raises(UsageError, match=r"real_time_margin_s = 30 is not less than half"):
        _settings(wide, real_time=True)


COLLECTED = (
    "test_terminated_request_leaves_at_data_expiration[complete]",
    "test_terminated_request_leaves_at_data_expiration[cancelled-queued]",
    "test_terminated_request_leaves_at_data_expiration[cancelled-processing]",
    "test_terminated_request_leaves_at_data_expiration[failed-router]",
    "test_terminated_request_leaves_at_data_expiration[failed-preferred-timeout]",
    "test_active_request_never_expires[queued]",
    "test_active_request_never_expires[allocated]",
    "test_active_request_never_expires[processing]",
    "test_default_data_expiration",
    "test_configured_data_expiration[one-minute]",
    "test_configured_data_expiration[twice-the-default]",
)
"""The module's test IDs before the tier (they stay; one is new)."""
WAITING = 9
"""The tests that use the tier's fixture: both parametrized ones and the new one."""


def _collected(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--collect-only", "-q",
         "conformance.suite.test_data_cache", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return [line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line]


def test_the_tier_tests_run_last_and_the_ids_only_grow(tmp_path: Path) -> None:
    plain = _collected()
    assert plain == [*COLLECTED, "test_configured_data_expiration_in_force"]
    tier_last = _collected("--om-real-time", "--om-profile", str(vendor_profile(tmp_path)))
    assert sorted(tier_last) == sorted(plain)
    kept = [i for i in plain if i.startswith(("test_default", "test_configured_data_expiration["))]
    assert tier_last == kept + [i for i in plain if i not in kept]
    assert len(plain) - len(kept) == WAITING


# -- the tier on its own (an emulator in this process, a clock of the test's) ----------------------
class Steps:
    """A monotonic clock that moves 50 s at every reading: every wait of the tier is over."""

    def __init__(self) -> None:
        self.now = -50.0

    def __call__(self) -> float:
        self.now += 50.0
        return self.now


def _tier(emulator: RunningEmulator, profile: Profile, seen: list[Exchange]) -> RealTimeCache:
    om = OpenMediaClient(emulator.url, timeout_s=10)
    tier = RealTimeCache(om, profile, replay=seen.append, say=lambda line: None, clock=Steps())
    om.on_exchange = tier.log
    return tier


def test_a_late_present_observation_is_a_suite_error_not_a_verdict(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    seen: list[Exchange] = []
    tier = _tier(emulator, load_profile(vendor_profile(tmp_path)), seen)
    tier.start()
    try:
        with pytest.raises(SuiteError, match=r"'present' observation ended .* raise \[target\]"):
            tier.observations()
    finally:
        tier.stop()
    operations = [exchange.operation for exchange in seen]
    assert operations[:4] == [
        "AddRequest", "AddRequest", "GetOpenMediaRequestStatusByID", "CancelRequest"
    ]  # fmt: skip
    assert len(operations) >= 4 + 2 * 2 * 4  # and both requests through four calls, twice
    created = tier.made()
    state = emulator.engine.state()
    assert created.active.oid not in [i for g in state["service_groups"] for i in g["queue"]]


def test_a_refused_add_blocks_every_tier_test_with_its_evidence(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    seen: list[Exchange] = []
    profile = load_profile(vendor_profile(tmp_path))
    unknown = tuple(replace(g, id=99) if g.id == 11 else g for g in profile.groups)
    tier = _tier(emulator, profile.with_changes(groups=unknown, agents=()), seen)
    tier.start()
    for _ in range(2):  # each test that uses the tier reports it
        with pytest.raises(Blocked, match="ADD-VALID-BY-GROUP-ID"):
            tier.observations()
    tier.stop()
    assert [exchange.operation for exchange in seen] == ["AddRequest"] * 2  # one, each test's
