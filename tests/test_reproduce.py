"""Reproduction: what a failure prints re-runs it, and its curl replays the exact request.

The curl command is executed for real (bash + curl against a loopback capture server) with the
password in ``$OPENMEDIA_PASSWORD``: the server must receive byte for byte what the suite sent,
while the printed command never contains the password. A failing Hypothesis test prints the
run's seed and its ``@reproduce_failure`` blob, and the printed re-run command fails again with
the same example.
"""

from __future__ import annotations

import http.server
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import hypothesis
import pytest
from hypothesis import core

import conformance.plugin.runtime  # noqa: F401  # imported once, not afresh in every in-process run
from conformance.cli.run import plugin_installed, pytest_args
from conformance.contract.catalogue import CATALOGUE
from conformance.contract.namespaces import soap_action
from conformance.contract.paths import SUITE_DIR
from conformance.plugin.options import PASSWORD
from conformance.plugin.settings import OptionValues, build_settings
from conformance.profile import bundled_profile
from conformance.reporting.reproduce import (
    command_line,
    hypothesis_lines,
    replay_curl,
    rerun_command,
    suite_selector,
)
from conformance.wire import Credentials, OpenMediaClient, build_envelope

pytest_plugins = ["pytester"]

SECRET = "pa'ss $word\"x"
MUST_ID = next(r.id for r in CATALOGUE.requirements if r.level == "MUST")
SUITE = SUITE_DIR
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]


class _Capture(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    _Capture.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/OpenMediaService", _Capture.received
    finally:
        server.shutdown()
        server.server_close()


SECRET_FLAGS = (PASSWORD.flag, PASSWORD.alias)


def test_the_curl_command_replays_the_exact_request_without_showing_the_password(
    capture: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = capture
    body = build_envelope(
        "GetAllOpenMediaRequestStatus", {}, credentials=Credentials("admin", SECRET)
    )
    headers = (
        ("Content-Type", "text/xml; charset=utf-8"),
        ("SOAPAction", f'"{soap_action("GetAllOpenMediaRequestStatus")}"'),
    )
    with OpenMediaClient(url) as client:
        exchange = client.send("POST", url, body, headers, operation_name="x")
    command = replay_curl(exchange)
    assert SECRET not in command and "$OPENMEDIA_PASSWORD" in command
    env = {**os.environ, "OPENMEDIA_PASSWORD": SECRET}
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    (sent_headers, sent_body), (replayed_headers, replayed_body) = received
    assert replayed_body == sent_body == body
    assert replayed_headers["SOAPAction"] == sent_headers["SOAPAction"]
    assert replayed_headers["Content-Type"] == sent_headers["Content-Type"]


@pytest.mark.parametrize(
    ("sent", "known"),
    [
        (SECRET, SECRET),  # the run's own password: from the environment
        (f"{SECRET}-wrong", SECRET),  # a wrong one made from it: the same wrong one again
        ("made-up", SECRET),  # unrelated to it (maybe another user's): shown as ***
        (SECRET, None),  # the run's password unknown: the whole text from the environment
    ],
    ids=["own", "derived", "unrelated", "unknown"],
)
def test_the_curl_command_replays_the_password_that_was_sent(
    capture: tuple[str, list[tuple[dict[str, str], bytes]]], sent: str, known: str | None
) -> None:
    url, received = capture
    body = build_envelope(
        "GetAllOpenMediaRequestStatus", {}, credentials=Credentials("admin", sent)
    )
    headers = (("Content-Type", "text/xml; charset=utf-8"),)
    with OpenMediaClient(url) as client:
        exchange = client.send("POST", url, body, headers, operation_name="x")
    command = replay_curl(exchange, known)
    assert SECRET not in command
    env = {**os.environ, "OPENMEDIA_PASSWORD": SECRET}
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    (_, sent_body), (_, replayed_body) = received
    assert sent_body == body
    assert replayed_body == (body.replace(b">made-up<", b">***<") if sent == "made-up" else body)


def test_the_rerun_command_names_the_target_but_never_the_password(tmp_path: Path) -> None:
    settings = build_settings(
        OptionValues(
            target_url="http://127.0.0.1:9/OpenMediaService",
            logon_id="admin",
            password=SECRET,
            timeout_s=3,
        ),
        {},
    )
    nodeid = "conformance/suite/test_service.py::test_x[a b]"
    command = rerun_command(settings, nodeid, SUITE / "test_service.py", seed="7")
    assert command == (
        "OPENMEDIA_PASSWORD=... openmedia-conformance run --om-target-url "
        "http://127.0.0.1:9/OpenMediaService --om-logon-id admin --om-exchange-timeout 3 "
        "--hypothesis-seed=7 'conformance.suite.test_service::test_x[a b]'"
    )
    assert suite_selector("x.py::t", tmp_path / "x.py") is None
    outside = rerun_command(settings, "suite/t.py::t", tmp_path / "suite" / "t.py")
    assert " python -m pytest " in outside and outside.endswith("suite/t.py::t")


def test_the_bundled_profile_and_its_own_password_need_no_extra_option() -> None:
    settings = build_settings(OptionValues(emulator_faults=("fault-http-200",)), {})
    command = rerun_command(settings, "n::t", SUITE / "test_service.py")
    assert command == (
        "openmedia-conformance run --om-logon-id admin --om-emulator-fault fault-http-200 "
        "conformance.suite.test_service::t"
    )
    assert str(bundled_profile("emulator")) not in command


def test_the_run_command_line_drops_what_run_adds_and_the_password() -> None:
    given = ["--om-target-url", "http://127.0.0.1:9/x", "--om-password", SECRET, "-k", "add"]
    invocation = ["-p", "conformance.plugin", *pytest_args(given)]  # -p: when not installed
    assert command_line(invocation, "42", True, SECRET_FLAGS) == (
        "OPENMEDIA_PASSWORD=... openmedia-conformance run --om-target-url http://127.0.0.1:9/x "
        "-k add --hypothesis-seed=42"
    )
    plain = command_line(
        ["tests", "--om-password=" + SECRET, "--hypothesis-seed", "3"], "3", True, SECRET_FLAGS
    )
    assert plain == "OPENMEDIA_PASSWORD=... python -m pytest tests --hypothesis-seed 3"


def test_hypothesis_notes_give_the_example_and_the_blob() -> None:
    notes = [
        "Falsifying example: test_h(\n    n=10,\n)",
        "You can reproduce this example by temporarily adding "
        "@reproduce_failure('6.1.0', b'AEEK') as a decorator on your test case",
    ]
    lines = hypothesis_lines(notes)
    assert lines[:3] == ["Falsifying example: test_h(", "    n=10,", ")"]
    assert lines[3].startswith("@reproduce_failure('6.1.0', b'AEEK')")
    assert hypothesis_lines(["something else"]) == []
    newer = hypothesis_lines(["Failing test case: test_h(\n    n=10,\n)"])
    assert newer == ["Failing test case: test_h(", "    n=10,", ")"]


HYPOTHESIS_TEST = f"""
import pytest
from hypothesis import given, settings, strategies as st

@pytest.mark.requirement("{MUST_ID}")
@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0))
def test_small(n):
    assert n < 1000
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(**{"suite/test_h": HYPOTHESIS_TEST})
    pytester._monkeypatch.setenv("PYTHONPATH", str(SUITE.parent.parent))
    return pytester


def test_a_hypothesis_failure_prints_seed_and_blob_and_its_rerun_fails_alike(
    suite: pytest.Pytester,
) -> None:
    first = suite.runpytest_subprocess(*PLUGIN, "-p", "no:cacheprovider", "--om-password", SECRET)
    assert first.ret == 1
    out = first.stdout.str()
    example = re.search(r"(?:Falsifying example|Failing test case): test_small\(\n.*\n", out)
    assert "@reproduce_failure(" in out and example is not None, out
    rerun = re.search(r"re-run this test alone:\n\s+(.*)\n", out)
    assert rerun is not None
    command = rerun.group(1)
    seed = re.search(r"--hypothesis-seed=(\d+)", command)
    assert seed is not None and SECRET not in out
    words = shlex.split(command)
    assert words[:4] == ["OPENMEDIA_PASSWORD=...", "python", "-m", "pytest"]
    again = suite.runpytest_subprocess(*PLUGIN, "-p", "no:cacheprovider", *words[4:])
    assert again.ret == 1
    assert example.group(0) in again.stdout.str()
    assert f"--hypothesis-seed={seed.group(1)}" in again.stdout.str()


def test_an_in_process_run_leaves_hypothesis_as_it_found_it(suite: pytest.Pytester) -> None:
    before = (core.global_force_seed, hypothesis.settings.get_current_profile_name())
    result = suite.runpytest_inprocess(*PLUGIN, "-p", "no:cacheprovider")
    assert result.ret == 1 and "@reproduce_failure(" in result.stdout.str()
    assert (core.global_force_seed, hypothesis.settings.get_current_profile_name()) == before
