"""Safe mode: a production target is left as the suite found it, even when a run is cut short.

The pieces (profile keys, the withheld control features, the pace, tracking, the cleanup with
DoNotReport, the audit) are checked against a real emulator in this process; the promise as a
whole by running the suite in a separate process against that emulator as a *vendor* target
(safe mode on, no control URL for the suite) and stopping it: Ctrl-C in the middle of real
suite modules, SIGTERM, a pytest internal error, an exception in a fixture, and an xdist worker
that dies outright. Only this test looks at the emulator through its control plane, to see
that nothing the run created is still queued and that the audit counted every ID the emulator
issued during the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import main as cli_main
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE
from conformance.contract.paths import fixtures_dir
from conformance.emulator.edge import control as emulator_control
from conformance.emulator.edge.server import RunningEmulator
from conformance.plugin.embedded import EmbeddedEmulator, EmulatorUrls
from conformance.profile import CONTROL_FEATURES, SAFE_MODE_RATE, Profile, load_profile
from conformance.profile.session import SAFE_MODE_WITHHELD, OptionsSent, TargetSession
from conformance.safemode.audit import Audit
from conformance.safemode.cleanup import clean_target
from conformance.safemode.ledger import Ledger
from conformance.safemode.transport import OptionsGate, RateLimiter, options_texts, safe_transport
from conformance.verdicts import NotApplicable, UsageError
from conformance.wire import ControlClient, OpenMediaClient
from conformance.wire.encode import INT_MAX

ROOT = Path(__file__).resolve().parent.parent
IVR = [{"Label": "Case", "Data": "safe-mode"}]
LIVE = ("Queued", "AllocatedToAgent", "AgentProcessing")
AUDIT = re.compile(r"openmedia leak audit: created (\d+), cleaned (\d+), left behind: \[(.*)\]")
MUST_ID = next(r.id for r in CATALOGUE.requirements if r.level == "MUST")
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]
RUN_TIMEOUT_S = 120

pytest_plugins = ["pytester"]


@pytest.fixture
def control(emulator: RunningEmulator, demo_scenario: dict[str, Any]) -> Iterator[ControlClient]:
    client = ControlClient(emulator.control_url, timeout_s=10)
    client.reset(demo_scenario)
    yield client
    client.close()


def safe_profile(folder: Path, extra: str = "max_requests_per_second = 50") -> Path:
    """The emulator's world, described as a vendor server: safe mode on, no control plane."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(r"(?m)^safe_mode = false.*$", f"safe_mode = true\n{extra}", text)
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    path = folder / "vendor-safe.toml"
    path.write_text(text)
    return path


def live_ids(emulator: RunningEmulator | str, since: int) -> list[int]:
    """IDs issued from ``since`` on that are still queued or with an agent (SOAP view)."""
    url = emulator if isinstance(emulator, str) else emulator.url
    with OpenMediaClient(url, timeout_s=10) as om:
        reply = om.get_all_status()
    assert reply.fault is None, reply.fault
    return sorted(r.id for r in reply.value.requests if r.id >= since and r.status in LIVE)


# -- the profile and the target session --------------------------------------------------------
def test_the_rate_limit_is_a_profile_key_with_a_default_only_in_safe_mode(tmp_path: Path) -> None:
    vendor = load_profile(safe_profile(tmp_path, extra=""))
    assert vendor.target.max_requests_per_second is None
    assert vendor.target.rate_limit == SAFE_MODE_RATE
    paced = load_profile(safe_profile(tmp_path, extra="max_requests_per_second = 7"))
    assert paced.target.rate_limit == 7.0
    emulator = load_profile(fixtures_dir() / "profiles" / "emulator.toml")
    assert emulator.target.safe_mode is False and emulator.target.rate_limit is None
    with pytest.raises(UsageError, match=r"max_requests_per_second.*positive number"):
        load_profile(safe_profile(tmp_path, extra="max_requests_per_second = 0"))
    with pytest.raises(UsageError, match="max_requests_per_second"):
        load_profile(safe_profile(tmp_path, extra='max_requests_per_second = "fast"'))


def _session(profile: Profile, safe: bool) -> TargetSession:
    target = dataclasses.replace(profile.target, safe_mode=safe)
    return TargetSession(
        url="http://127.0.0.1:1/OpenMediaService",
        control_url="http://127.0.0.1:1/control",
        profile=dataclasses.replace(profile, target=target),
        features=frozenset({"scenario", "agents", "router", "license", "restart", "clock"}),
        strict=False,
        timeout_s=1,
        credentials=None,
        embedded=False,
    )


def test_safe_mode_withholds_every_feature_that_disturbs_the_whole_server() -> None:
    profile = load_profile(fixtures_dir() / "profiles" / "emulator.toml")
    safe, free = _session(profile, True), _session(profile, False)
    assert {"scenario", "agents", "router", "license", "restart", "clock"} == SAFE_MODE_WITHHELD
    for feature in SAFE_MODE_WITHHELD:
        assert free.has(feature)
        assert not safe.has(feature) and safe.missing(feature) == (feature,)
        assert "safe mode" in safe.why_missing(feature)
    assert "safe mode" not in safe.why_missing("statistics")


OPT_IN = """
[[overwrite_server_options]]
TypeOfSession = 0
MaxNumberOfSessions = 4

[[overwrite_server_options]]
TypeOfSession = 1
AgentActionOptions = 4
"""


def test_the_set_options_opt_in_names_values_the_server_would_accept(tmp_path: Path) -> None:
    profile = load_profile(safe_profile(tmp_path, extra=""))
    assert profile.overwrite_server_options == ()
    opted = load_profile(_with(tmp_path, OPT_IN))
    assert [o.request() for o in opted.overwrite_server_options] == [
        {"TypeOfSession": 0, "MaxNumberOfSessions": 4},
        {"TypeOfSession": 1, "AgentActionOptions": 4},
    ]
    assert opted.overwrite_server_options[1].describe() == "TypeOfSession 1: AgentActionOptions 4"
    mistakes = {
        "MaxNumberOfSessions = 0": r"#1 MaxNumberOfSessions: 0 means the option is not given",
        "CloseTabOptions = 5": r"#1 CloseTabOptions: must be at least 1 and at most 4, got 5",
        "MaxNumberOfSessions = -3": r"#1 MaxNumberOfSessions: must be at least 1, got -3",
        "AgentActionOptions = 4": r"#1 AgentActionOptions: AgentActionOptions 4 acts per type",
        "TypeOfSession = 3": r"#1: names no option",
        "TypeOfSession = 3\nResetAllOptions = true": r"#1 ResetAllOptions: restores the defaults",
        "TypeOfSession = 3\nMaxSessions = 2": r"#1 MaxSessions: is not a known key; did you mean",
        'MaxNumberOfSessions = "4"': r"#1 MaxNumberOfSessions: must be an integer",
    }
    for body, message in mistakes.items():
        entry = f"\n[[overwrite_server_options]]\n{body}\n"
        with pytest.raises(UsageError, match=rf"overwrite_server_options\]\] {message}"):
            load_profile(_with(tmp_path, entry))


def test_the_example_opt_in_of_the_vendor_profile_is_valid_as_written(tmp_path: Path) -> None:
    """Uncommenting the example's ``[[overwrite_server_options]]`` tables gives a valid profile."""
    text = (fixtures_dir() / "profiles" / "vendor-example.toml").read_text()
    keys = r"\[\[overwrite_server_options\]\]|TypeOfSession|MaxNumberOfSessions|AllowDifferentTypes"
    opened = re.sub(rf"(?m)^# ({keys})", r"\1", text)
    path = tmp_path / "vendor.toml"
    path.write_text(opened)
    entries = load_profile(path).overwrite_server_options
    assert len(entries) == 2 and entries[0].describe() == "TypeOfSession 0: MaxNumberOfSessions 4"


def _with(folder: Path, extra: str) -> Path:
    path = safe_profile(folder, extra="")
    path.write_text(path.read_text() + extra)
    return path


def test_safe_mode_sends_set_options_only_when_the_profile_opts_in(tmp_path: Path) -> None:
    plain = load_profile(safe_profile(tmp_path, extra=""))
    opted = load_profile(_with(tmp_path, OPT_IN))
    for sent in OptionsSent:
        assert _session(plain, False).why_no_set_options(sent) is None
        assert "[[overwrite_server_options]]" in str(_session(plain, True).why_no_set_options(sent))
    assert _session(opted, True).why_no_set_options(OptionsSent.IN_FORCE) is None
    assert "values of its own" in str(_session(opted, True).why_no_set_options(OptionsSent.OWN))
    assert _session(opted, True).options_allowed() == (
        {"TypeOfSession": 0, "MaxNumberOfSessions": 4},
        {"TypeOfSession": 1, "AgentActionOptions": 4},
    )


def test_a_whole_safe_mode_run_sends_the_control_plane_nothing_that_changes_it(
    emulator: RunningEmulator,
    control: ControlClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole suite in safe mode against a target that offers every control feature: the
    only control calls are reads (discovery, statistics), so no test changes the server, and
    the run passes (what cannot run is *not applicable*). This is the proof that the
    ``requires_control`` markers and the ``control`` fixture are guard enough."""
    calls: list[tuple[str, str]] = []
    handle = emulator_control.handle

    def recording(engine: Any, method: str, subpath: str, body: bytes) -> Any:
        calls.append((method, subpath))
        return handle(engine, method, subpath, body)

    monkeypatch.setattr(emulator_control, "handle", recording)
    profile = safe_profile(tmp_path, "max_requests_per_second = 1000")
    text = profile.read_text().replace("features = []", f"features = {sorted(CONTROL_FEATURES)}")
    profile.write_text(text)
    command = suite_command(
        profile, emulator.url, "--om-control-url", emulator.control_url, "--om-no-allure", "-rs",
        "--pyargs", "conformance.suite",
    )  # fmt: skip
    run = start(command, tmp_path)
    output, _ = run.communicate(timeout=RUN_TIMEOUT_S * 3)
    assert run.returncode == 0, output[-4000:]
    assert calls, "the run never asked the control plane anything (discovery)"
    changing = sorted({c for c in calls if c[0] != "GET"})
    assert changing == [], f"safe mode sent the control plane {len(changing)}: {changing[:10]}"
    assert "not applicable" in output and "safe mode" in output, output[-2000:]


CLIENT_PROBE = f"""
import pytest

@pytest.mark.requirement("{MUST_ID}")
def test_client(om, raw_om):
    for client in (om, raw_om):
        assert client.transport.timeout_s == 2.5
        print("transport:", type(client.transport).__name__)
"""


@pytest.mark.parametrize("safe", [True, False], ids=["safe", "not-safe"])
def test_suite_clients_keep_the_exchange_timeout_and_are_tracked_only_in_safe_mode(
    pytester: pytest.Pytester, safe: bool
) -> None:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(**{"suite/test_probe": CLIENT_PROBE})
    profile = safe_profile(pytester.path) if safe else fixtures_dir() / "profiles" / "emulator.toml"
    result = pytester.runpytest_inprocess(
        *PLUGIN, "-p", "no:cacheprovider", "-s", "--om-profile", str(profile),
        "--om-target-url", "http://127.0.0.1:1/OpenMediaService", "--om-exchange-timeout", "2.5",
        "--om-no-preflight",  # in process: the pre-flight would end the run at configure
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["transport: SafeTransport" if safe else "transport: Transport"])
    audit = "openmedia leak audit: created 0, cleaned 0, left behind: []"
    assert (audit in result.stdout.str()) is safe


# -- the pieces, against the emulator in this process ------------------------------------------
def test_the_rate_limiter_spaces_request_starts() -> None:
    limiter = RateLimiter(50)
    start = time.monotonic()
    for _ in range(11):
        limiter.wait()
    assert time.monotonic() - start >= 10 * limiter.interval * 0.95


def test_tracking_sees_creations_and_terminations_and_the_cleanup_cancels_the_rest(
    emulator: RunningEmulator, control: ControlClient
) -> None:
    with OpenMediaClient(emulator.url) as other:  # someone else's request, seen cancelled
        foreign = other.add_request(ServiceGroupID=10, IVRInfo=IVR).value.open_media_id
        other.cancel_request(OpenMediaID=foreign, CancelIfAllocated=True, DoNotReport=True)
    ledger = Ledger()
    om = OpenMediaClient(emulator.url, transport=safe_transport(ledger, RateLimiter(200), 10))
    control.logon(503)  # serves group 11 only, one session: the first request goes to it
    allocated = om.add_request(ServiceGroupID=11, IVRInfo=IVR).value.open_media_id
    queued = [om.add_request(ServiceGroupID=11, IVRInfo=IVR).value.open_media_id for _ in range(3)]
    cancelled = om.add_request(ServiceGroupID=11, IVRInfo=IVR).value.open_media_id
    assert om.cancel_request(OpenMediaID=cancelled, CancelIfAllocated=False, DoNotReport=True).value
    assert om.get_status_by_id(allocated).value.requests[0].status == "AllocatedToAgent"
    assert foreign in {r.id for r in om.get_all_status().value.requests}
    om.close()
    assert list(ledger.created) == [allocated, *queued, cancelled]
    assert ledger.terminated == {cancelled}
    assert ledger.pending() == [allocated, *queued]
    before = control.statistics()["service_groups"]["11"]

    ledger.set_target(emulator.url, embedded=False)
    clean_target(ledger, None, 5, None)

    assert live_ids(emulator, allocated) == []
    assert {ledger.outcome[i] for i in [*queued, allocated]} == {"cancelled"}
    after = control.statistics()["service_groups"]["11"]
    # DoNotReport: the queued ones leave no trace; one already allocated must still be reported
    assert after["abandoned"] - before["abandoned"] == 1
    audit = Audit.of([ledger])
    assert audit.line() == (
        "openmedia leak audit: created 5, cleaned 5, left behind: []; SetOptions sent: none"
    )
    assert set(audit.cancelled_at_end) == {allocated, *queued}


def test_an_id_cancelled_elsewhere_counts_as_cleaned_and_a_refusal_as_left(
    emulator: RunningEmulator, control: ControlClient
) -> None:
    with OpenMediaClient(emulator.url) as om:
        gone = om.add_request(ServiceGroupID=11, IVRInfo=IVR).value.open_media_id
        om.cancel_request(OpenMediaID=gone, CancelIfAllocated=True, DoNotReport=True)
    ledger = Ledger(url=emulator.url)
    ledger.note("created", gone)
    ledger.note("created", 10**9)  # never issued: InvalidOpenMediaIDFault, nothing to clean
    clean_target(ledger, None, 5, None)
    assert ledger.outcome == {gone: "gone", 10**9: "gone"}
    refused = Ledger(url=emulator.url)
    refused.note("created", gone + 1)
    control.license(False)  # CancelRequest now answers NoLicenseFault
    try:
        with OpenMediaClient(emulator.url) as om:
            oid = om.add_request(ServiceGroupID=11, IVRInfo=IVR)
        clean_target(refused, None, 5, None)
    finally:
        control.license(True)
    assert oid.fault is not None
    audit = Audit.of([refused])
    assert audit.left_behind == {gone + 1: "left: NoLicenseFault"}
    assert "left behind: [" + str(gone + 1) + "]" in audit.line()


def test_a_target_that_never_answers_ends_the_cleanup_within_two_timeouts() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        held: list[socket.socket] = []
        stop = threading.Event()

        def hold() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    held.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=hold, daemon=True)
        thread.start()
        ledger = Ledger(url=f"http://127.0.0.1:{server.getsockname()[1]}/OpenMediaService")
        for oid in range(1, 51):
            ledger.note("created", oid)
        start = time.monotonic()
        clean_target(ledger, None, 0.5, None)
        elapsed = time.monotonic() - start
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
    assert elapsed < 5, f"cleanup of a silent target took {elapsed:.1f} s"
    audit = Audit.of([ledger])
    assert len(audit.left_behind) == 50
    assert audit.left_behind[50] == audit.left_behind[49] == "left: timed out"  # newest first
    assert audit.left_behind[1] == "left: target not answering"


def test_the_gate_sends_only_the_allowed_set_options_and_the_audit_lists_each(
    emulator: RunningEmulator, control: ControlClient, tmp_path: Path
) -> None:
    """A SetOptions that is not one of the profile's entries never leaves the process, however
    it is built (other values, the same values nil or extended, a raw body under another
    SOAPAction); the allowed one is sent, journalled and listed by the audit."""
    allowed = {"TypeOfSession": 0, "MaxNumberOfSessions": 1}
    gate = OptionsGate((options_texts(allowed),), "safe mode: not these")
    ledger = Ledger(journal=tmp_path / "run-main.jsonl")
    om = OpenMediaClient(emulator.url, transport=safe_transport(ledger, None, 10, gate))
    before = control.state()["options"]
    stopped = [
        lambda: om.set_options(TypeOfSession=1, AgentActionOptions=4, CloseTabOptions=4),
        lambda: om.set_options(TypeOfSession=INT_MAX, MaxNumberOfSessions=1393050528),
        lambda: om.set_options(TypeOfSession=0, MaxNumberOfSessions=1, ResetAllOptions=True),
        lambda: om.set_options(MaxNumberOfSessions=1),
        lambda: om.call("SetOptions", {"request": {**allowed, "AllowDifferentTypes": None}}),
        lambda: om.post_raw(b"<not-xml SetOptions", {"SOAPAction": '"x"'}),
        lambda: om.call("GetAllOpenMediaRequestStatus", soap_action='"urn:SetOptions"'),
    ]
    for send in stopped:
        with pytest.raises(NotApplicable, match="safe mode: not these; stopped before sending"):
            send()
    assert control.state()["options"] == before
    assert om.set_options(**allowed).value is True
    assert om.get_all_status().fault is None  # any other operation passes
    om.close()
    assert control.state()["options"] == {"0": {"MaxNumberOfSessions": 1}}
    sent = [{"TypeOfSession": "0", "MaxNumberOfSessions": "1"}]
    assert ledger.options == sent
    assert Ledger.replay(ledger.journal).options == sent  # another process's journal, read back
    audit = Audit.of([ledger])
    assert audit.line().endswith("SetOptions sent: 1 (TypeOfSession 0: MaxNumberOfSessions 1)")
    assert audit.as_dict()["set_options_sent"] == sent


OWNERSHIP_SUITE = f"""
import pytest

from conformance.plugin.fixtures import _client

IVR = [{{"Label": "Case", "Data": "owner"}}]
SEEN = {{}}


def status(om, oid):
    return om.get_status_by_id(oid).value.requests[-1].status


@pytest.fixture(scope="module")
def shared(target, pytestconfig):
    om = _client(target, pytestconfig, checked=False)
    SEEN["shared"] = om.add_request(ServiceGroupID=10, IVRInfo=IVR).value.open_media_id
    yield om
    om.close()


@pytest.mark.requirement("{MUST_ID}")
def test_first(shared, om):
    SEEN["first"] = om.add_request(ServiceGroupID=10, IVRInfo=IVR).value.open_media_id
    assert status(om, SEEN["first"]) == "Queued"


@pytest.mark.requirement("{MUST_ID}")
def test_second(shared, om):
    assert status(om, SEEN["first"]) == "Cancelled"  # its test ended
    assert status(om, SEEN["shared"]) == "Queued"  # its module goes on
    print("ids:", SEEN["shared"], SEEN["first"])
"""


def test_a_request_is_cancelled_when_the_test_or_fixture_that_created_it_ends(
    pytester: pytest.Pytester, emulator: RunningEmulator, control: ControlClient
) -> None:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(**{"suite/test_owner": OWNERSHIP_SUITE})
    result = pytester.runpytest_inprocess(
        *PLUGIN, "-p", "no:cacheprovider", "-s", "--om-profile", str(safe_profile(pytester.path)),
        "--om-target-url", emulator.url,
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    shared, first = (int(i) for i in re.findall(r"ids: (\d+) (\d+)", result.stdout.str())[0])
    with OpenMediaClient(emulator.url) as om:
        assert om.get_status_by_id(shared).value.requests[-1].status == "Cancelled"
    audit = json.loads((pytester.path / "reports" / "leak-audit.json").read_text())
    assert audit["cancelled_after_test"] == [shared, first]
    assert audit["cancelled_at_end"] == [] and audit["left_behind"] == []


RETRY_SUITE = f"""
import os

import pytest

from conformance.wire import ControlClient

IVR = [{{"Label": "Case", "Data": "retry"}}]
ADDED = []


@pytest.mark.requirement("{MUST_ID}")
def test_licence_goes(om):
    ADDED.append(om.add_request(ServiceGroupID=10, IVRInfo=IVR).value.open_media_id)
    print("id:", ADDED[0])
    ControlClient(os.environ["SAFETY_CONTROL"], 10).license(False)  # its cleanup is refused


@pytest.mark.requirement("{MUST_ID}")
def test_licence_comes_back(om):
    assert om.get_status_by_id(ADDED[0]).value.requests[-1].status == "Queued"
    ControlClient(os.environ["SAFETY_CONTROL"], 10).license(True)
"""


def test_a_request_a_tests_cleanup_could_not_cancel_is_tried_again_not_given_up(
    pytester: pytest.Pytester,
    emulator: RunningEmulator,
    control: ControlClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal when the test ended (here NoLicenseFault) leaves the request pending: the next
    test's end, or the end of the run, cancels it."""
    monkeypatch.setenv("SAFETY_CONTROL", emulator.control_url)
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(**{"suite/test_retry": RETRY_SUITE})
    try:
        result = pytester.runpytest_inprocess(
            *PLUGIN, "-p", "no:cacheprovider", "-s", "--om-profile",
            str(safe_profile(pytester.path)), "--om-target-url", emulator.url,
        )  # fmt: skip
    finally:
        control.license(True)
    result.assert_outcomes(passed=2)
    (oid,) = (int(i) for i in re.findall(r"id: (\d+)", result.stdout.str()))
    audit = json.loads((pytester.path / "reports" / "leak-audit.json").read_text())
    assert audit["cleaned"] == 1 and audit["left_behind"] == [], audit
    assert live_ids(emulator, oid) == []


# -- whole runs, stopped ------------------------------------------------------------------------
def suite_command(profile: Path, url: str, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", *PLUGIN, "-p", "no:cacheprovider", "-q",
        "--om-target-url", url, "--om-profile", str(profile), "--om-exchange-timeout", "10", *args,
    ]  # fmt: skip


def start(command: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environ.pop("PYTEST_XDIST_WORKER", None)
    environ.pop("PYTEST_XDIST_WORKER_COUNT", None)
    environ.pop("PYTEST_ADDOPTS", None)
    return subprocess.Popen(
        command, cwd=cwd, env=environ, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def audit_of(output: str, folder: Path) -> tuple[int, int, list[int]]:
    found = AUDIT.findall(output)
    assert len(found) == 1, f"expected one audit line in:\n{output[-4000:]}"
    created, cleaned, left = found[0]
    ids = [int(i) for i in left.split(",") if i.strip()]
    written = json.loads((folder / "reports" / "leak-audit.json").read_text())
    assert written["line"] in output
    assert (written["created"], written["cleaned"], written["left_behind"]) == (
        int(created), int(cleaned), ids,
    )  # fmt: skip
    return int(created), int(cleaned), ids


def test_ctrl_c_in_the_middle_of_a_run_cancels_everything_it_created(
    emulator: RunningEmulator, control: ControlClient, tmp_path: Path
) -> None:
    first = control.state()["next_open_media_id"]
    run = start(
        suite_command(
            safe_profile(tmp_path), emulator.url, "--pyargs",
            "conformance.suite.test_add_request_limits", "conformance.suite.test_set_options",
        ),
        tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + RUN_TIMEOUT_S
    # each test's requests are cancelled when it ends: wait for a moment inside a test
    while run.poll() is None and not (
        control.state()["next_open_media_id"] >= first + 15 and live_ids(emulator, first)
    ):
        assert time.monotonic() < deadline, "the run added no 15 requests in time"
        time.sleep(0.02)
    assert run.poll() is None, "the run ended before it could be interrupted"
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    output, _ = run.communicate(timeout=RUN_TIMEOUT_S)

    issued = control.state()["next_open_media_id"] - first
    assert run.returncode == 3, output[-4000:]  # interrupted: suite/environment error
    assert "KeyboardInterrupt" in output
    assert live_ids(emulator, first) == []
    created, cleaned, left = audit_of(output, tmp_path)
    assert (created, cleaned, left) == (issued, issued, [])


CRASHING_SUITE = f"""
import os, signal, time
import pytest

IVR = [{{"Label": "Case", "Data": "crash"}}]
MODE = os.environ["SAFETY_CRASH"]


@pytest.fixture
def broken(om):
    om.add_request(ServiceGroupID=10, IVRInfo=IVR)
    raise RuntimeError("planted: a fixture that fails after it added a request")


@pytest.mark.requirement("{MUST_ID}")
@pytest.mark.parametrize("n", range(3))
def test_adds(om, n):
    assert om.add_request(ServiceGroupID=10, IVRInfo=IVR).value.open_media_id > 0


@pytest.mark.requirement("{MUST_ID}")
def test_crash(om, request):
    om.add_request(ServiceGroupID=11, IVRInfo=IVR)
    if MODE == "fixture":
        request.getfixturevalue("broken")
    elif MODE == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    elif MODE == "worker-exit":
        os._exit(9)


@pytest.mark.requirement("{MUST_ID}")
def test_after(om):
    assert om.add_request(ServiceGroupID=10, IVRInfo=IVR).value.open_media_id > 0
"""

INTERNAL_ERROR_CONFTEST = """
import os


def pytest_runtest_logreport(report):
    crash = report.when == "call" and report.nodeid.endswith("::test_crash")
    if os.environ["SAFETY_CRASH"] == "internal" and crash:
        raise RuntimeError("planted: a plugin hook that crashes the run")
"""

CRASHES = {
    # mode: (extra pytest args, exit codes, marker in the output)
    "fixture": ((), (3,), "planted: a fixture that fails"),
    "internal": ((), (3,), "INTERNALERROR"),
    "sigterm": ((), (3,), "stopped by SIGTERM"),
    "worker-exit": (("-n", "1", "-p", "xdist"), (1, 3), "crashed"),
}


@pytest.mark.parametrize("mode", list(CRASHES))
def test_a_run_that_crashes_cancels_everything_it_created(
    emulator: RunningEmulator, control: ControlClient, tmp_path: Path, mode: str
) -> None:
    args, codes, marker = CRASHES[mode]
    (tmp_path / "pytest.ini").write_text("[pytest]\nopenmedia_suite_dirs = crashing\n")
    (tmp_path / "crashing").mkdir()
    (tmp_path / "crashing" / "__init__.py").write_text("")
    (tmp_path / "crashing" / "test_crashing.py").write_text(CRASHING_SUITE)
    (tmp_path / "conftest.py").write_text(INTERNAL_ERROR_CONFTEST)
    first = control.state()["next_open_media_id"]
    run = start(
        suite_command(safe_profile(tmp_path), emulator.url, *args, "crashing"),
        tmp_path,
        SAFETY_CRASH=mode,
    )
    output, _ = run.communicate(timeout=RUN_TIMEOUT_S)

    issued = control.state()["next_open_media_id"] - first
    assert run.returncode in codes, output[-4000:]
    assert marker in output, output[-4000:]
    assert issued >= 4
    assert live_ids(emulator, first) == []
    assert audit_of(output, tmp_path) == (issued, issued, [])
    assert not list((tmp_path / "reports").glob("leak-audit/*.jsonl"))  # nothing left to show


# -- signals at every moment, against the emulator as its own process --------------------------
HOLDING = ("-k", "test_open_media_ids_are_unique", "conformance.suite.test_add_request")
"""One real suite test that adds five requests and holds them until it ends: interrupted while
it holds some, the run's cleanup has them to cancel whether or not requests are also cancelled
as each test ends. At two requests a second (``SLOW``) that cleanup takes seconds."""
SLOW = "max_requests_per_second = 2"
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture(scope="module")
def own_emulator() -> Iterator[EmulatorUrls]:
    """The reference emulator as a process of its own (as a vendor's server would be)."""
    with EmbeddedEmulator() as process:
        assert process.urls is not None
        yield process.urls


@pytest.fixture
def own_control(
    own_emulator: EmulatorUrls, demo_scenario: dict[str, Any]
) -> Iterator[ControlClient]:
    client = ControlClient(own_emulator.control_url, timeout_s=10)
    client.reset(demo_scenario)
    yield client
    client.close()


class Watched:
    """``openmedia-conformance run`` (or ``cleanup``) as a process whose output is read as it
    comes, so that a signal can be timed to what it has printed."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        script = Path(sys.executable).with_name("openmedia-conformance")
        # the console script, as a user starts it (``python -m`` ends by SIGINT itself when a
        # Ctrl-C lands in runpy's own imports)
        launcher = [str(script)] if script.exists() else [sys.executable, "-m", "conformance.cli"]
        self.process = start([*launcher, *args], cwd)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout_s: float = RUN_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, f"ended before {text!r}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} in time:\n{self.output()}"
            time.sleep(0.01)

    def send(self, sig: signal.Signals) -> None:
        os.killpg(self.process.pid, sig)  # the whole group, as a terminal's Ctrl-C does

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(timeout=RUN_TIMEOUT_S)
        self._reader.join(timeout=10)
        return code, self.output()

    def output(self) -> str:
        return "".join(self.lines)


def holding_run(url: str, folder: Path, *extra: str) -> Watched:
    profile = safe_profile(folder, SLOW)
    args = ["run", "-p", "no:cacheprovider", "-q", "--om-no-allure", "--om-target-url", url]
    return Watched([*args, "--om-profile", str(profile), *extra, *HOLDING], folder)


def wait_until_held(url: str, first: int, run: Watched, count: int = 4) -> None:
    """Until ``count`` of the run's requests are live on the target (the test holds them)."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while len(live_ids(url, first)) < count:
        assert run.process.poll() is None, f"the run ended first:\n{run.output()}"
        assert time.monotonic() < deadline, "the run did not add its requests in time"
        time.sleep(0.02)


@dataclass(frozen=True)
class Held:
    """A holding run that has its requests live on the emulator: ready for a signal."""

    url: str
    first: int
    run: Watched
    control: ControlClient

    @classmethod
    def start(
        cls, urls: EmulatorUrls, control: ControlClient, folder: Path, *extra: str, count: int = 4
    ) -> Held:
        first = control.state()["next_open_media_id"]
        run = holding_run(urls.service_url, folder, *extra)
        wait_until_held(urls.service_url, first, run, count)
        return cls(urls.service_url, first, run, control)

    def issued(self) -> int:
        """How many OpenMediaIDs the target handed out since the run started."""
        return int(self.control.state()["next_open_media_id"]) - self.first

    def live(self) -> list[int]:
        return live_ids(self.url, self.first)

    def expect_everything_cancelled(self, output: str, folder: Path) -> None:
        """Nothing of the run is live, and the audit says every request was cleaned."""
        assert self.live() == []
        issued = self.issued()
        assert audit_of(output, folder) == (issued, issued, [])


def written_audit(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "reports" / "leak-audit.json").read_text()))


@pytest.mark.parametrize("delay_s", [0.6, 3.0], ids=["loading", "configuring"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_while_the_run_starts_ends_it_quietly(
    own_emulator: EmulatorUrls,
    own_control: ControlClient,
    tmp_path: Path,
    sig: signal.Signals,
    delay_s: float,
) -> None:
    """While modules load, pytest configures or collects (on a fast machine: the first test):
    no traceback, an interrupted run's status, nothing left. (The first ~0.1 s belong to the
    interpreter, which prints its own traceback on a Ctrl-C.)"""
    url = own_emulator.service_url
    first = own_control.state()["next_open_media_id"]
    run = holding_run(url, tmp_path)
    time.sleep(delay_s)
    run.send(sig)
    code, output = run.finish()
    assert TRACEBACK not in output, output
    # a SIGTERM before safe mode's guard is installed has its default effect: the process ends
    assert code == 3 or (sig == signal.SIGTERM and code == -signal.SIGTERM), output
    assert live_ids(url, first) == []


@pytest.mark.parametrize("gap_s", [0.05, 1.0])
def test_a_second_ctrl_c_says_what_would_be_left_and_the_cleanup_goes_on(
    own_emulator: EmulatorUrls, own_control: ControlClient, tmp_path: Path, gap_s: float
) -> None:
    held = Held.start(own_emulator, own_control, tmp_path)
    run = held.run
    run.send(signal.SIGINT)  # stops the test that holds them: the cleanup follows
    time.sleep(gap_s)
    run.send(signal.SIGINT)
    code, output = run.finish()

    assert TRACEBACK not in output, output
    assert code == 3, output
    assert "Ctrl-C once more abandons the cleanup and leaves" in output, output
    assert re.search(r"openmedia cleanup: cancelling \d+ of \d+ …", output), output
    held.expect_everything_cancelled(output, tmp_path)


def test_the_third_ctrl_c_abandons_the_cleanup_and_the_cleanup_command_finishes_it(
    own_emulator: EmulatorUrls, own_control: ControlClient, tmp_path: Path
) -> None:
    held = Held.start(own_emulator, own_control, tmp_path)
    run = held.run
    run.send(signal.SIGINT)
    run.wait_for("openmedia cleanup: cancelling")
    run.send(signal.SIGINT)
    time.sleep(0.2)
    run.send(signal.SIGINT)
    code, output = run.finish()

    assert TRACEBACK not in output, output
    assert code == 3, output
    assert "openmedia cleanup abandoned" in output, output
    left = held.live()
    assert left, "the abandoned cleanup left nothing: it was not abandoned in time"
    issued = held.issued()
    assert audit_of(output, tmp_path) == (issued, issued - len(left), left)
    audit = written_audit(tmp_path)
    assert audit["target"] == held.url
    assert set(audit["why_left"].values()) == {"left: cleanup abandoned (Ctrl-C three times)"}
    assert "openmedia-conformance cleanup reports/leak-audit.json" in output

    profile = str(tmp_path / "vendor-safe.toml")
    cleanup = Watched(["cleanup", "--om-profile", profile], tmp_path)
    code, output = cleanup.finish()
    assert (code, TRACEBACK in output) == (0, False), output
    assert f"nothing left behind on {held.url}" in output, output
    assert held.live() == []
    audit = written_audit(tmp_path)
    assert (audit["left_behind"], audit["cleaned"], audit["created"]) == ([], issued, issued)
    assert (
        audit["line"]
        == f"openmedia leak audit: created {issued}, cleaned {issued}, left behind: []; "
        "SetOptions sent: none"
    )
    again = Watched(["cleanup", "--om-profile", profile], tmp_path)
    code, output = again.finish()
    assert (code, "nothing to cancel" in output) == (0, True), output


def test_a_run_killed_during_its_cleanup_leaves_an_audit_the_cleanup_command_finishes(
    own_emulator: EmulatorUrls, own_control: ControlClient, tmp_path: Path
) -> None:
    """SIGKILL (what follows an ignored SIGTERM) cannot be caught: the audit written as the
    cleanup begins still lists what it had to cancel."""
    held = Held.start(own_emulator, own_control, tmp_path)
    run = held.run
    run.send(signal.SIGINT)
    run.wait_for("openmedia cleanup: cancelling")
    run.send(signal.SIGKILL)
    assert run.finish()[0] == -signal.SIGKILL
    assert held.live(), "the cleanup had finished before the kill"
    listed = written_audit(tmp_path)["left_behind"]
    assert set(held.live()) <= set(listed)

    cleanup = Watched(["cleanup", "--om-profile", str(tmp_path / "vendor-safe.toml")], tmp_path)
    code, output = cleanup.finish()
    assert (code, TRACEBACK in output) == (0, False), output
    assert held.live() == []
    assert written_audit(tmp_path)["left_behind"] == []


def test_sigterm_during_the_cleanup_lets_it_finish(
    own_emulator: EmulatorUrls, own_control: ControlClient, tmp_path: Path
) -> None:
    held = Held.start(own_emulator, own_control, tmp_path)
    run = held.run
    run.send(signal.SIGTERM)
    run.wait_for("openmedia cleanup: cancelling")
    run.send(signal.SIGTERM)
    run.send(signal.SIGTERM)
    code, output = run.finish()

    assert TRACEBACK not in output, output
    assert code == 3, output
    assert "stopped by SIGTERM" in output and "SIGTERM: the cleanup goes on" in output, output
    held.expect_everything_cancelled(output, tmp_path)


def test_under_xdist_the_main_process_cleans_up_after_its_stopped_workers_and_shows_it(
    own_emulator: EmulatorUrls, own_control: ControlClient, tmp_path: Path
) -> None:
    held = Held.start(own_emulator, own_control, tmp_path, "-p", "xdist", "-n", "2", count=3)
    run = held.run
    run.send(signal.SIGINT)
    time.sleep(1.0)
    run.send(signal.SIGINT)
    code, output = run.finish()

    assert TRACEBACK not in output, output
    assert code == 3, output
    assert re.search(r"openmedia cleanup: cancelling \d+ request\(s\)", output), output
    held.expect_everything_cancelled(output, tmp_path)


# -- the cleanup command's own mistakes and failures ---------------------------------------------
def an_audit(folder: Path, target: str | None, left: list[int]) -> Path:
    ledger = Ledger()
    if target is not None:
        ledger.set_target(target, embedded=False)
    cleaned = [10**8 + 1, 10**8 + 2]
    for oid in [*cleaned, *left]:
        ledger.note("created", oid)
    for oid in cleaned:
        ledger.note("cleaned", oid, "cancelled")
    for oid in left:
        ledger.note("left", oid, "left: cleanup abandoned (Ctrl-C three times)")
    path = folder / "audit.json"
    path.write_text(json.dumps(Audit.of([ledger]).as_dict()))
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no leak audit at"),
        ("{not json", "is not a leak audit"),
        ("[1, 2]", "is not a leak audit (a JSON list, not an object)"),
        ('{"created_ids": [1]}', "is not a leak audit (no 'why_left' entry)"),
        ("no target", "does not name the target"),
    ],
    ids=["missing", "malformed", "not-an-object", "incomplete", "no-target"],
)
def test_the_cleanup_command_refuses_what_is_no_usable_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "audit.json"
    if content == "no target":
        path = an_audit(tmp_path, None, [3])
    elif content is not None:
        path.write_text(content)
    assert cli_main(["cleanup", str(path)]) == 2
    out, err = capsys.readouterr()
    assert message in err and TRACEBACK not in out + err, err


def test_the_cleanup_command_says_so_when_the_target_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    path = an_audit(tmp_path, f"http://127.0.0.1:{port}/OpenMediaService", [3, 4, 5])
    before = path.read_text()
    assert cli_main(["cleanup", str(path), "--om-exchange-timeout", "2"]) == 3
    out, err = capsys.readouterr()
    assert f"cannot reach http://127.0.0.1:{port}/OpenMediaService: connection refused" in err
    assert "nothing was cancelled" in err and TRACEBACK not in out + err
    assert path.read_text() == before


def test_the_cleanup_command_names_what_the_target_still_refuses(
    own_emulator: EmulatorUrls,
    own_control: ControlClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refusal stays left, with its why; once the target accepts, a queued request is
    cancelled and an ID it never issued counts as gone."""
    with OpenMediaClient(own_emulator.service_url) as om:
        queued = om.add_request(ServiceGroupID=11, IVRInfo=IVR).value.open_media_id
    path = an_audit(tmp_path, own_emulator.service_url, [queued, 10**9])
    own_control.license(False)  # CancelRequest now answers NoLicenseFault
    try:
        assert cli_main(["cleanup", str(path)]) == 1
    finally:
        own_control.license(True)
    out, _ = capsys.readouterr()
    assert f"2 still left behind on {own_emulator.service_url}" in out, out
    assert f"  {queued}: left: NoLicenseFault" in out, out
    audit = json.loads(path.read_text())
    assert (audit["left_behind"], audit["cleaned"]) == ([queued, 10**9], 2)
    assert live_ids(own_emulator.service_url, queued) == [queued]
    assert cli_main(["cleanup", str(path)]) == 0
    assert live_ids(own_emulator.service_url, queued) == []
    audit = json.loads(path.read_text())
    assert (audit["left_behind"], audit["cleaned"], audit["created"]) == ([], 4, 4)


def test_on_a_terminal_the_cleanup_rewrites_its_progress_line_in_place(
    own_emulator: EmulatorUrls, own_control: ControlClient, tmp_path: Path
) -> None:
    import pty

    url = own_emulator.service_url
    with OpenMediaClient(url) as om:
        ids = [om.add_request(ServiceGroupID=11, IVRInfo=IVR).value.open_media_id for _ in range(3)]
    path = an_audit(tmp_path, url, ids)
    main_end, terminal = pty.openpty()
    script = Path(sys.executable).with_name("openmedia-conformance")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "conformance.cli"]
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [*launcher, "cleanup", str(path)], stdout=terminal, stderr=terminal, env=environ
    )
    os.close(terminal)
    chunks = []
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(main_end, 4096):
            chunks.append(chunk)
    os.close(main_end)
    assert process.wait(timeout=RUN_TIMEOUT_S) == 0
    shown = b"".join(chunks).decode()
    assert "\ropenmedia cleanup: cancelling 1 of 3 …\x1b[K" in shown, repr(shown)
    assert "\ropenmedia cleanup: cancelling 3 of 3 …\x1b[K\r\n" in shown, repr(
        shown
    )  # a terminal: \r\n
    assert live_ids(url, ids[0]) == []
