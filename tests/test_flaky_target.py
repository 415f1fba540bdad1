"""A real server made intermittently wrong yields *flaky*, not *fail* (issue 14, item 2).

The reference emulator runs as its own process, as a vendor's server would; a loopback proxy in
front of it (``tests/hostile/proxy.py``) trips the first request of one SOAP operation: it
holds it past ``--om-exchange-timeout`` (the client times out, the server never sees it), or
passes the server's answer back in the SOAP 1.2 namespace (WIRE-ENVELOPE, a MUST). The suite
runs against the proxy in safe mode, as ``openmedia-conformance run`` in a child process (and
as plain ``pytest --pyargs ... -n 2``), with JUnit and Allure written; the tests read its exit
status, its console, ``junit.xml``, the Allure results and the safe-mode leak audit:

* a timeout once, and a wrong answer once: *flaky*, exit 0 (1 under ``--om-strict``; with
  ``--om-reruns 0`` the same wrong answer is a *fail*, exit 1);
* a wrong answer every time: *fail* on every attempt, exit 1, each attempt reported;
* JUnit: ``verdict`` ``flaky`` and a ``<flakyError>`` / ``<flakyFailure>`` (``<rerunFailure>``
  beside the ``<failure>`` of a fail); Allure: one result per attempt, the same ``historyId``,
  the last one passed and marked flaky;
* safe mode: the request an attempt created is cancelled after that attempt, not left behind.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conformance.cli.run import plugin_installed
from conformance.contract.paths import fixtures_dir
from conformance.profile import CONTROL_FEATURES
from conformance.reporting.exchange_log import read_log
from conformance.verdicts import Verdict
from tests.hostile.proxy import FlakyProxy, Trip

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCE = re.compile(r"listening on (http://\S+/OpenMediaService) control (http://\S+/control)")
RUN_LIMIT_S = 300
GROUP_STATUS = "conformance.suite.test_service_group_status"
FIRST_GROUP_TEST = "test_open_group_is_open"
"""The module's first test: the first to ask GetServiceGroupStatus, so the one the proxy trips."""


@dataclass(frozen=True)
class Emulator:
    url: str
    control_url: str


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """The reference emulator as its own process (``openmedia-conformance emulator``)."""
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
        yield Emulator(found.group(1), found.group(2))
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def safe_profile(folder: Path, emulator: Emulator) -> Path:
    """The emulator's world as a vendor's profile in safe mode (so ``-n 2`` may share it)."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    target = (
        f'safe_mode = true\nmax_requests_per_second = 1000\ncontrol_url = "{emulator.control_url}"'
    )
    text = re.sub(r"(?m)^safe_mode = false.*$", target, text)
    text = re.sub(r"(?m)^features = \[.*\]$", f"features = {json.dumps(CONTROL_FEATURES)}", text)
    path = folder / "vendor.toml"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class Run:
    folder: Path
    exit_code: int
    output: str

    @property
    def verdicts(self) -> str:
        return self.output.rsplit("verdicts: ", 1)[-1].splitlines()[0]

    def junit_case(self, name: str) -> Any:
        tree = etree.parse(str(self.folder / "reports" / "junit.xml"))
        return next(case for case in tree.iter("testcase") if case.get("name") == name)

    def allure_results(self, name: str) -> list[dict[str, Any]]:
        """The Allure results of one test, oldest first."""
        folder = self.folder / "reports" / "allure-results"
        results = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
        return sorted((r for r in results if r["name"] == name), key=lambda r: r["start"])

    def audit(self) -> dict[str, Any]:
        return dict(json.loads((self.folder / "reports" / "leak-audit.json").read_text()))


def run_suite(
    folder: Path, emulator: Emulator, proxy: FlakyProxy, *args: str, xdist: bool = False
) -> Run:
    """The suite against the proxy, in a child process run from ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    common = [
        "--om-target-url", proxy.url, "--om-profile", str(safe_profile(folder, emulator)),
        "--om-exchange-timeout", "1", "--om-no-preflight",
        "--junitxml", str(folder / "reports" / "junit.xml"),
    ]  # fmt: skip
    if xdist:  # plain pytest, the plugin as installed (or named), two workers
        plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
        command = [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-n", "2"]
        command += ["--alluredir", str(folder / "reports" / "allure-results")]
    else:
        command = [sys.executable, "-m", "conformance.cli", "run"]
    done = subprocess.run(
        [*command, *common, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT_S,
    )
    return Run(folder, done.returncode, done.stdout + done.stderr)


def test_a_target_that_times_out_once_is_flaky_not_failed(
    tmp_path: Path, emulator: Emulator
) -> None:
    with FlakyProxy(emulator.url, "GetServiceGroupStatus", Trip.LATE) as proxy:
        run = run_suite(tmp_path, emulator, proxy, "--pyargs", GROUP_STATUS)
    out = run.output
    assert proxy.tripped == 1
    assert run.exit_code == 0, out
    assert run.verdicts.endswith(", 1 flaky") and "fail" not in run.verdicts, out
    assert f"{FIRST_GROUP_TEST}: failed on attempt 1 of 2 (error: TransportError: " in out
    assert "within 1 s (timed out)" in out
    # JUnit: a passed test case, verdict flaky, the timed-out attempt as <flakyError>
    case = run.junit_case(FIRST_GROUP_TEST)
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert (properties["verdict"], properties["attempts"]) == ("flaky", "2")
    assert [child.tag for child in case] == ["properties", "flakyError"]
    assert case.find("flakyError").get("type") == "TransportError"
    # Allure: one result per attempt, one history: the last passed and marked flaky
    first, last = run.allure_results(FIRST_GROUP_TEST)
    assert first["historyId"] == last["historyId"]
    assert (first["status"], last["status"]) == ("broken", "passed")
    label = {r["status"]: [x["value"] for x in r["labels"] if x["name"] == "verdict"] for r in
             (first, last)}  # fmt: skip
    assert label == {"broken": ["error"], "passed": ["flaky"]}
    assert last["statusDetails"]["flaky"] is True
    assert last["statusDetails"]["message"].startswith("flaky: failed on attempt 1 of 2 (error")
    names = [a["name"] for a in last["attachments"]]
    assert "1. GetServiceGroupStatus: response 200 OK" in names  # the passing attempt's evidence
    # the exchange log (what `compare` reads): the last attempt, saying it was the second
    log = read_log(run.folder / "reports")
    logged = next(t for name, t in log.tests.items() if name.endswith(f"::{FIRST_GROUP_TEST}"))
    assert (logged.verdict, logged.attempt, log.attempts[logged.test]) == (Verdict.FLAKY, 2, 2)
    assert [(e.what, e.status) for e in logged.exchanges][-1:] == [("GetServiceGroupStatus", 200)]


def test_a_wrong_answer_once_is_flaky_unless_strict_or_without_reruns(
    tmp_path: Path, emulator: Emulator
) -> None:
    outcomes = {}
    for name, extra in (
        ("default", []),
        ("strict", ["--om-strict"]),
        ("off", ["--om-reruns", "0"]),
    ):
        with FlakyProxy(emulator.url, "GetServiceGroupStatus", Trip.SOAP12) as proxy:
            run = run_suite(tmp_path / name, emulator, proxy, *extra, "--pyargs", GROUP_STATUS)
        assert proxy.tripped == 1
        outcomes[name] = (run.exit_code, run.verdicts.rsplit(", ", 1)[-1])
        if name == "default":
            case = run.junit_case(FIRST_GROUP_TEST)
            assert [child.tag for child in case] == ["properties", "flakyFailure"]
            failure = case.find("flakyFailure")
            assert failure.get("message").startswith("[WIRE-ENVELOPE]")
            assert "SOAP 1.2" in failure.findtext("stackTrace")
            assert "GetServiceGroupStatus" in failure.findtext("system-out")  # its exchange
    assert outcomes == {"default": (0, "1 flaky"), "strict": (1, "1 flaky"), "off": (1, "1 fail")}


def test_a_consistently_wrong_target_stays_fail_with_every_attempt(
    tmp_path: Path, emulator: Emulator
) -> None:
    with FlakyProxy(emulator.url, "GetServiceGroupStatus", Trip.SOAP12, times=None) as proxy:
        run = run_suite(tmp_path, emulator, proxy, "--pyargs", GROUP_STATUS, "-k", FIRST_GROUP_TEST)
    out = run.output
    assert run.exit_code == 1, out
    assert run.verdicts == "1 fail", out
    assert proxy.tripped == 2  # both attempts asked, both got the wrong answer
    assert "openmedia attempt 1 of 2: fail" in out
    case = run.junit_case(FIRST_GROUP_TEST)
    assert [child.tag for child in case][:3] == ["properties", "failure", "rerunFailure"]
    results = run.allure_results(FIRST_GROUP_TEST)
    assert [r["status"] for r in results] == ["failed", "failed"]
    assert len({r["historyId"] for r in results}) == 1


def test_flaky_under_xdist_with_plain_pytest(tmp_path: Path, emulator: Emulator) -> None:
    with FlakyProxy(emulator.url, "GetServiceGroupStatus", Trip.SOAP12) as proxy:
        run = run_suite(tmp_path, emulator, proxy, "--pyargs", GROUP_STATUS, xdist=True)
    out = run.output
    assert proxy.tripped == 1
    assert run.exit_code == 0, out
    assert run.verdicts.endswith(", 1 flaky"), out
    assert "openmedia flaky (failed, then passed on a re-run)" in out
    tree = etree.parse(str(run.folder / "reports" / "junit.xml"))
    flaky = [c for c in tree.iter("testcase") if c.find("flakyFailure") is not None]
    assert len(flaky) == 1
    name = flaky[0].get("name")
    assert [r["status"] for r in run.allure_results(name)] == ["failed", "passed"]


def test_safe_mode_cleans_what_an_attempt_created(tmp_path: Path, emulator: Emulator) -> None:
    """The first status query of a module whose tests add requests answers wrongly once: the
    request that attempt added is cancelled after it (at its teardown), not at the end."""
    module = "conformance.suite.test_status_by_id"
    runs = {}
    for name, times in (("clean", 0), ("tripped", 1)):
        with FlakyProxy(
            emulator.url, "GetOpenMediaRequestStatusByID", Trip.SOAP12, times=times
        ) as proxy:
            runs[name] = run_suite(tmp_path / name, emulator, proxy, "--pyargs", module)
        assert proxy.tripped == times
    clean, tripped = runs["clean"], runs["tripped"]
    assert clean.exit_code == 0 and tripped.exit_code == 0, tripped.output
    assert tripped.verdicts.endswith(", 1 flaky"), tripped.output
    before, after = clean.audit(), tripped.audit()
    assert after["created"] == before["created"] + 1  # the attempt that was re-run added one
    assert len(after["cancelled_after_test"]) == len(before["cancelled_after_test"]) + 1
    assert after["left_behind"] == [] and after["cancelled_at_end"] == []
