"""The emulator's command line as a user (and the embedded-emulator plugin) runs it: a process.

It must print exactly one announce line, serve, stop cleanly on SIGINT/SIGTERM, and refuse a
bad command line with exit status 2 before binding anything.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.wire import OpenMediaClient

ANNOUNCE = re.compile(
    r"^openmedia-emulator listening on (http://127\.0\.0\.1:(\d+)/OpenMediaService) "
    r"control (http://127\.0\.0\.1:\2/control)\n$"
)
ROOT = Path(__file__).resolve().parent.parent


def start(*args: str, module: str = "conformance.emulator") -> subprocess.Popen[str]:
    command = [sys.executable, "-m", module]
    if module == "conformance.cli":
        command.append("emulator")
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize(
    ("module", "stop"),
    [("conformance.emulator", signal.SIGTERM), ("conformance.cli", signal.SIGINT)],
)
def test_announces_serves_and_stops_cleanly(
    processes: list[subprocess.Popen[str]], module: str, stop: signal.Signals
) -> None:
    process = start(module=module)
    processes.append(process)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = ANNOUNCE.match(line)
    assert match, line
    assert get_json(match.group(3))["contract"] == "openmedia-control"  # type: ignore[index]
    stalled = socket.create_connection(("127.0.0.1", int(match.group(2))), timeout=10)
    if stop is signal.SIGTERM:  # a client that never finishes its body
        stalled.sendall(
            b"POST /OpenMediaService HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n<"
        )
    get_json(match.group(3))  # the stalled request holds nothing up
    process.send_signal(stop)
    assert process.wait(10) == 0  # nor does it hold up the shutdown
    stalled.close()
    assert process.stdout.read() == ""  # exactly one line


def test_scenario_file_is_installed(processes: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    scenario = tmp_path / "one.json"
    scenario.write_text(json.dumps({"service_groups": [{"id": 77, "name": "Only"}]}))
    process = start("--scenario", str(scenario))
    processes.append(process)
    assert process.stdout is not None
    match = ANNOUNCE.match(process.stdout.readline())
    assert match
    state = get_json(match.group(3) + "/state")
    assert [g["id"] for g in state["service_groups"]] == [77]  # type: ignore[index]


@pytest.mark.parametrize(
    "args",
    [
        ("--fault", "no-such-flag"),
        ("--scenario", "/nonexistent/scenario.json"),
        ("--port", "70000"),
    ],
)
def test_bad_command_line_exits_2(
    processes: list[subprocess.Popen[str]], args: tuple[str, ...]
) -> None:
    process = start(*args, module="conformance.cli")
    processes.append(process)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "usage:" in stderr and "error:" in stderr


NO_CONTROL = re.compile(
    r"^openmedia-emulator listening on (http://127\.0\.0\.1:\d+/OpenMediaService) "
    r"without control plane\n$"
)


def _status(url: str, method: str = "GET", body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("module", ["conformance.emulator", "conformance.cli"])
def test_no_control_plane_serves_soap_and_no_control(
    processes: list[subprocess.Popen[str]], module: str
) -> None:
    """``--no-control-plane``: the announce line names no control URL and says so; SOAP and
    the WSDL are served, every control path is 404 like any unknown path (reads and changes
    alike), and the emulator still stops cleanly."""
    process = start("--no-control-plane", module=module)
    processes.append(process)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = NO_CONTROL.match(line)
    assert match, line
    service = match.group(1)
    base = service.removesuffix("/OpenMediaService")
    with OpenMediaClient(service, timeout_s=10) as om:
        assert om.get_all_service_group_status(1).fault is None
    assert _status(service + "?wsdl") == 200
    for method, path, body in [
        ("GET", "/control", None),
        ("GET", "/control/state", None),
        ("POST", "/control/reset", b"{}"),
        ("POST", "/control/agents/501/logon", b""),
        ("POST", "/control/clock", b'{"advance_s": 60}'),
        ("GET", "/no-such-path", None),
    ]:
        assert _status(base + path, method, body) == 404, path
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert process.stdout.read() == ""  # exactly one line
