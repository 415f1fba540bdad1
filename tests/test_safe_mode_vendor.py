"""A vendor-style run leaves the server as it found it: options, requests and queues.

The emulator runs as a separate process (``openmedia-conformance emulator --port 0``), started
the way a vendor's server would be, before and apart from the suite; it already holds options
and a request of a "real" client. The whole suite then runs against it in safe mode, from a
profile written outside the checkout that gives the control URL and every control feature, so
the target *offers* everything that could change it. Only these tests look at the emulator's
own state (``GET /control/state``) and its SOAP listing, before, during and after the run:

* without the opt-in, no SetOptions reaches the server, every test that would send one is *not
  applicable* by its marker (none is stopped by the transport's gate, which would mean a test
  that is not marked), and the options, the live requests and every queue are exactly as before;
* during the run, after each test has ended, none of the requests the run created is still
  queued or with an agent (a probe plugin reads the emulator's state after each test's
  teardown), and the end-of-run cleanup (the safety net) has nothing left to cancel;
* with ``[[overwrite_server_options]]``, SetOptions is sent, and only with the profile's values:
  the emulator's options afterwards are still exactly the ones it ran with, and the leak audit
  lists every SetOptions sent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.run import plugin_installed
from conformance.contract.paths import fixtures_dir
from conformance.profile import CONTROL_FEATURES
from conformance.wire import OpenMediaClient

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]
ANNOUNCE = re.compile(r"listening on (http://\S+/OpenMediaService) control (http://\S+/control)")
LIVE = ("Queued", "AllocatedToAgent", "AgentProcessing")
RUN_TIMEOUT_S = 900
PRODUCTION_OPTIONS = (
    {"TypeOfSession": 0, "MaxNumberOfSessions": 1},
    {"TypeOfSession": 7, "AgentActionOptions": 3, "CloseTabOptions": 2},
)
"""What the "production" server runs with before the suite comes (set by a real client)."""

PROBE_PLUGIN = """
import json, os, urllib.request

FIRST = int(os.environ["SAFETY_PROBE_FIRST"])


def pytest_runtest_logfinish(nodeid, location):
    '''After the test's teardown: which requests of the run does the emulator still hold?'''
    with urllib.request.urlopen(os.environ["SAFETY_PROBE_STATE"], timeout=10) as answer:
        state = json.load(answer)
    queued = [i for g in state["service_groups"] for i in g["queue"] if i >= FIRST]
    held = [i for a in state["agents"] for i in a["sessions"] if i >= FIRST]
    with open(os.environ["SAFETY_PROBE_OUT"], "a") as out:
        out.write(json.dumps({"test": nodeid, "live": queued + held}) + "\\n")
"""


@dataclass(frozen=True)
class Server:
    url: str
    control_url: str

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.control_url}/state", timeout=10) as answer:
            return dict(json.load(answer))

    def listing(self) -> dict[int, str]:
        """Every request the SOAP interface lists, with its status."""
        with OpenMediaClient(self.url, timeout_s=10) as om:
            reply = om.get_all_status()
        assert reply.fault is None, reply.fault
        return {r.id: r.status for r in reply.value.requests}


@pytest.fixture
def server() -> Iterator[Server]:
    """The emulator as its own process, already serving "production": options set and one
    request of a real client queued, as the suite will find it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "emulator", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = ANNOUNCE.search(process.stdout.readline())
        assert found, "the emulator did not announce itself"
        running = Server(found.group(1), found.group(2))
        with OpenMediaClient(running.url, timeout_s=10) as om:
            for members in PRODUCTION_OPTIONS:
                assert om.set_options(**members).value is True
        yield running
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def vendor_profile(folder: Path, server: Server, extra: str = "") -> Path:
    """The emulator's world as a vendor's profile: safe mode on, the control URL and every
    control feature given (so only safe mode keeps the suite from changing the server)."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    target = (
        f'safe_mode = true\nmax_requests_per_second = 1000\ncontrol_url = "{server.control_url}"'
    )
    text = re.sub(r"(?m)^safe_mode = false.*$", target, text)
    text = re.sub(r"(?m)^features = \[.*\]$", f"features = {json.dumps(CONTROL_FEATURES)}", text)
    path = folder / "vendor.toml"
    path.write_text(text + extra)
    return path


@dataclass(frozen=True)
class Run:
    output: str
    returncode: int
    audit: dict[str, Any]
    after_each_test: list[dict[str, Any]]


def run_suite(folder: Path, server: Server, profile: Path) -> Run:
    """The whole suite in a separate process, from ``folder`` (outside the checkout)."""
    first = server.state()["next_open_media_id"]
    (folder / "safety_probe.py").write_text(PROBE_PLUGIN)
    probe_out = folder / "after-each-test.jsonl"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENMEDIA_"))},
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(folder)]),
        "SAFETY_PROBE_FIRST": str(first),
        "SAFETY_PROBE_STATE": f"{server.control_url}/state",
        "SAFETY_PROBE_OUT": str(probe_out),
    }
    command = [
        sys.executable, "-m", "pytest", *PLUGIN, "-p", "safety_probe", "-p", "no:cacheprovider",
        "-q", "-rs", "--om-no-allure", "--om-target-url", server.url, "--om-profile", str(profile),
        "--pyargs", "conformance.suite",
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
    audit = json.loads((folder / "reports" / "leak-audit.json").read_text())
    lines = probe_out.read_text().splitlines() if probe_out.exists() else []
    return Run(done.stdout, done.returncode, audit, [json.loads(line) for line in lines])


def set_options_reasons(output: str) -> list[str]:
    return [line for line in output.splitlines() if "SKIPPED" in line and "SetOptions" in line]


def expect_left_as_found(server: Server, run: Run, before: dict[str, Any]) -> None:
    """The server's whole state as before (options, queues, groups, agents, router, licence,
    tenants, authentication), but for the clock, the next ID and the run's own requests, which
    are all terminal; every request live before still is."""
    after = server.state()
    assert after["options"] == before["options"]
    queues = {g["id"]: g["queue"] for g in after["service_groups"]}
    assert queues == {g["id"]: g["queue"] for g in before["service_groups"]}
    moving = ("now", "next_open_media_id", "requests", "listing")
    assert {k: v for k, v in after.items() if k not in moving} == {
        k: v for k, v in before.items() if k not in moving
    }
    listing = server.listing()
    live_before = {i: s for i, s in before["listing"].items() if s in LIVE}
    assert {i: s for i, s in listing.items() if s in LIVE} == live_before
    created = run.audit["created_ids"]
    assert created and all(listing.get(i) not in LIVE for i in created)
    assert run.audit["left_behind"] == [] and run.audit["cancelled_at_end"] == []
    # after each test's teardown, nothing the run created was queued or with an agent
    assert len(run.after_each_test) > 900
    stayed = [entry for entry in run.after_each_test if entry["live"]]
    assert stayed == [], f"requests outlived their test: {stayed[:5]}"


def snapshot(server: Server) -> dict[str, Any]:
    with OpenMediaClient(server.url, timeout_s=10) as om:  # a real client's queued request
        om.add_request(ServiceGroupID=10, IVRInfo=[{"Label": "Case", "Data": "real client"}])
    return {**server.state(), "listing": server.listing()}


def test_a_vendor_run_in_safe_mode_leaves_options_requests_and_queues_as_they_were(
    server: Server, tmp_path: Path
) -> None:
    before = snapshot(server)
    assert before["options"] == {
        "0": {"MaxNumberOfSessions": 1},
        "7": {"AgentActionOptions": 3, "CloseTabOptions": 2},
    }
    run = run_suite(tmp_path, server, vendor_profile(tmp_path, server))

    assert run.returncode == 0, run.output[-4000:]
    expect_left_as_found(server, run, before)
    assert run.audit["set_options_sent"] == []
    assert "SetOptions sent: none" in run.output
    reasons = set_options_reasons(run.output)
    assert reasons, "no test that sends SetOptions was reported not applicable"
    assert all("[[overwrite_server_options]]" in r for r in reasons), reasons[:3]
    gated = [r for r in reasons if "stopped before sending" in r]
    assert gated == [], f"tests that send SetOptions without the sets_options marker: {gated}"


def test_with_the_opt_in_only_the_profiles_values_reach_the_server(
    server: Server, tmp_path: Path
) -> None:
    before = snapshot(server)
    opt_in = "".join(
        "\n[[overwrite_server_options]]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items())
        for entry in PRODUCTION_OPTIONS
    )
    run = run_suite(tmp_path, server, vendor_profile(tmp_path, server, opt_in))

    assert run.returncode == 0, run.output[-4000:]
    expect_left_as_found(server, run, before)
    sent = run.audit["set_options_sent"]
    allowed = [{k: str(v) for k, v in entry.items()} for entry in PRODUCTION_OPTIONS]
    assert sent and all(members in allowed for members in sent), sent
    assert f"SetOptions sent: {len(sent)} (TypeOfSession 0: MaxNumberOfSessions 1; " in run.output
    own = [r for r in set_options_reasons(run.output) if "needs values of its own" in r]
    assert own, "the tests with values of their own ran"
