"""Real SOAP clients that nobody here wrote use the reference emulator from its WSDL alone.

Why: an emulator that only our own envelope builder can talk to proves nothing about the
contract. suds-community (Python), PHP's ``SoapClient`` (ext-soap) and node-soap (npm ``soap``)
each load ``GET /OpenMediaService?wsdl`` with the XSDs it imports, build their own envelopes and
decode the replies with their own rules. Each must: add a request and read its status back,
recognise a typed fault by its detail element, and pass the ``LogonID``/``Password`` headers
(R16) when authentication is on.

The PHP and Node clients are scripts under ``tests/clients/`` that print one JSON line; suds runs
in this process and produces the same report shape. Every limit and scenario value reaches the
scripts as an argument from here (``CONSTRAINTS``, the demo scenario).

A missing runtime (``php``, PHP's soap extension, ``node``, ``node_modules/soap``, suds) skips
with the reason and the fix, and FAILS when ``CI`` is true, so CI never passes without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

from conformance.contract import namespaces as ns
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import FaultRef, operation
from conformance.contract.paths import fixtures_dir
from conformance.contract.xmlsafe import parse

ROOT = Path(__file__).resolve().parent.parent
CLIENTS_DIR = Path(__file__).resolve().parent / "clients"
START_TIMEOUT_S = 30
CLIENT_TIMEOUT_S = 90

ADD = "AddRequest"
STATUS = "GetOpenMediaRequestStatusByID"

NEVER_ISSUED_ID = 2**31 - 1
"""The largest xs:int: an emulator counting IDs up from its first never reaches it in a run."""

ADMIN = ("admin", "secret")
"""The host administrator this module puts into the scenario it enables authentication with."""

_BANNER = re.compile(
    r"^openmedia-emulator listening on (?P<url>http://\S+"
    + re.escape(ns.SERVICE_PATH)
    + r") control (?P<control>http://\S+"
    + re.escape(ns.CONTROL_PATH)
    + r")\s*$"
)
_PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)

Report = dict[str, Any]


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _missing(reason: str) -> NoReturn:
    """Skip with the reason locally; under CI=true a missing runtime is a failure."""
    if _on_ci():
        pytest.fail(
            f"{reason} (CI is true: a missing client runtime fails the build)", pytrace=False
        )
    pytest.skip(reason)


def _loopback_env() -> dict[str, str]:
    """The environment for child processes: the project importable, no HTTP proxy in the way."""
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARIABLES}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# --- the emulator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Emulator:
    url: str
    control_url: str

    @property
    def wsdl_url(self) -> str:
        return self.url + "?wsdl"


@dataclass(frozen=True)
class _Process:
    """The emulator process and the thread that reads its stdout line by line."""

    popen: subprocess.Popen[str]
    lines: queue.Queue[str]
    reader: threading.Thread


def _start(stderr: Any) -> _Process:
    command = [sys.executable, "-m", "conformance.emulator", "--host", "127.0.0.1", "--port", "0"]
    popen = subprocess.Popen(
        command, cwd=ROOT, env=_loopback_env(), stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # keeps the pipe from filling once the banner is read
        assert popen.stdout is not None
        with popen.stdout:
            for line in popen.stdout:
                lines.put(line)
        lines.put("")  # end of output: the process exited, stop waiting for the banner

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return _Process(popen, lines, reader)


def _stop(process: _Process) -> None:
    process.popen.terminate()
    try:
        process.popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        process.popen.wait(timeout=10)
    process.reader.join(timeout=10)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator process on a free loopback port, found through the line it prints."""
    if importlib.util.find_spec("conformance.emulator") is None:
        _missing("the reference emulator (conformance.emulator) is not importable")
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = _start(stderr)
        try:
            banner = process.lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            banner = ""
        match = _BANNER.match(banner)
        if match is None:
            _stop(process)
            stderr.seek(0)
            pytest.fail(
                f"the emulator did not announce itself within {START_TIMEOUT_S} s; "
                f"first line {banner!r}; stderr: {stderr.read()[-3000:]}"
            )
        running = Emulator(match["url"], match["control"])
        assert urlsplit(running.url).hostname == "127.0.0.1", running.url
        try:
            yield running
        finally:
            _stop(process)


@cache
def _demo_scenario() -> dict[str, Any]:
    path = fixtures_dir() / "scenarios" / "demo.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the emulator's demo scenario is part of the contract")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _reset(emulator: Emulator, scenario: dict[str, Any]) -> None:
    """POST {control}/reset (control plane v1), bypassing any configured proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        emulator.control_url + "/reset",
        data=json.dumps(scenario).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request, timeout=10) as response:
        assert response.status in (200, 204), response.status


@pytest.fixture
def open_group() -> int:
    """An open Open Media group of an enabled tenant in the demo scenario."""
    scenario = _demo_scenario()
    enabled = {t["id"] for t in scenario.get("tenants", []) if t.get("enabled", True)}
    for group in scenario.get("service_groups", []):
        if group.get("open_media") and group.get("open", True) and group["tenant_id"] in enabled:
            return int(group["id"])
    pytest.fail("the demo scenario has no open Open Media group of an enabled tenant")


@pytest.fixture
def authentication(emulator: Emulator) -> Iterator[tuple[str, str]]:
    """The demo scenario with authentication on for one host administrator; demo restored."""
    logon, password = ADMIN
    scenario = dict(_demo_scenario())
    scenario["authentication"] = {
        "enabled": True,
        "users": [{"logon_id": logon, "password": password, "host_administrator": True}],
    }
    _reset(emulator, scenario)
    try:
        yield ADMIN
    finally:
        _reset(emulator, _demo_scenario())


# --- the clients ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """One independent SOAP stack: why it cannot run here (None when it can), and a runner."""

    name: str
    missing: Callable[[], str | None]
    run: Callable[[str, str, dict[str, str]], Report]


def _script(argv: list[str], wsdl: str, mode: str, options: dict[str, str]) -> Report:
    command = [*argv, wsdl, mode, *(f"{key}={value}" for key, value in options.items())]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=_loopback_env(),
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_S,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(
            f"{' '.join(argv)} printed no JSON report (exit {done.returncode}); "
            f"stdout: {done.stdout[-2000:]!r}; stderr: {done.stderr[-2000:]!r}"
        )
    return dict(json.loads(lines[-1]))


@cache
def _php_missing() -> str | None:
    php = shutil.which("php")
    if php is None:
        return "php is not installed (Debian: apt-get install php-cli php-soap php-xml)"
    probe = "exit(class_exists('SoapClient') ? (class_exists('DOMDocument') ? 0 : 4) : 3);"
    code = subprocess.run([php, "-r", probe], capture_output=True, timeout=30, check=False)
    if code.returncode == 3:
        return "PHP's soap extension is missing (Debian: apt-get install php-soap)"
    if code.returncode == 4:
        return "PHP's dom extension is missing (Debian: apt-get install php-xml)"
    return None if code.returncode == 0 else f"php -r failed: {code.stderr!r}"


@cache
def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if not (ROOT / "node_modules" / "soap" / "package.json").is_file():
        return "node_modules/soap is absent: run `npm ci` in the repository root"
    return None


def _suds_missing() -> str | None:
    if importlib.util.find_spec("suds") is None:
        return "suds is not installed: pip install -e '.[dev]' (suds-community)"
    return None


def _plain(value: Any) -> Any:
    """A suds value as JSON-able data: enum names stay names, times ISO strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int)):
        return value
    return str(value)


def _run_suds(wsdl: str, mode: str, options: dict[str, str]) -> Report:
    """suds does in-process what the PHP and Node scripts do, reported the same way."""
    import suds
    from suds import WebFault
    from suds.client import Client as SudsClient
    from suds.sax.element import Element

    report: Report = {
        "client": "suds",
        "runtime": f"suds-community {suds.__version__}",
        "mode": mode,
        "calls": [],
    }
    client = SudsClient(wsdl, cache=None, timeout=10)
    if "logon" in options:
        header_ns = ("om", options["auth_ns"])
        client.set_options(
            soapheaders=[
                Element("LogonID", ns=header_ns).setText(options["logon"]),
                Element("Password", ns=header_ns).setText(options["password"]),
            ]
        )

    def call(name: str, argument: Any, decode: Callable[[Any], Any]) -> Any:
        entry: dict[str, Any] = {"operation": name}
        outcome = None
        try:
            outcome = getattr(client.service, name)(argument)
            entry["result"] = decode(outcome)
        except WebFault as error:
            detail = getattr(error.fault, "detail", None)
            entry["fault"] = {
                "class": type(error).__name__,
                "faultcode": str(error.fault.faultcode),
                "faultstring": str(error.fault.faultstring),
                "detail_names": [name for name, _ in detail] if detail is not None else [],
            }
        entry["sent"] = str(client.last_sent())
        entry["received"] = str(client.last_received())
        report["calls"].append(entry)
        return outcome

    def add(label: str) -> Any:
        request = client.factory.create(ns.qname(ns.DATA, "AddOpenMediaRequest"))
        item = client.factory.create(ns.qname(ns.DATA, "IVRInformation"))
        item.Label, item.Data = label, "suds-1"
        request.IVRInfo = client.factory.create(ns.qname(ns.DATA, "ArrayOfIVRInformation"))
        request.IVRInfo.IVRInformation = [item]
        request.ServiceGroupID = int(options["group"])
        return call(ADD, request, lambda r: {k: _plain(v) for k, v in r})

    def status(open_media_id: int) -> Any:
        def decode(r: Any) -> dict[str, Any]:
            items = getattr(r.OpenMediaRequests, "OpenMediaRequest", None) or []
            return {
                "records": [{k: _plain(v) for k, v in item} for item in items],
                "TimeStamp": _plain(r.TimeStamp),
            }

        return call(STATUS, open_media_id, decode)

    if mode == "add-status":
        added = add("Case")
        if added is not None:
            status(added.OpenMediaID)
    elif mode == "add-label":
        add("L" * int(options["label_length"]))
    else:
        status(int(options["id"]))
    return report


CLIENTS = (
    Client("suds", _suds_missing, _run_suds),
    Client(
        "php-soapclient",
        _php_missing,
        lambda *a: _script(["php", str(CLIENTS_DIR / "php_client.php")], *a),
    ),
    Client(
        "node-soap",
        _node_missing,
        lambda *a: _script(["node", str(CLIENTS_DIR / "node_client.js")], *a),
    ),
)


@pytest.fixture(params=CLIENTS, ids=[c.name for c in CLIENTS])
def client(request: pytest.FixtureRequest) -> Client:
    chosen: Client = request.param
    reason = chosen.missing()
    if reason is not None:
        _missing(f"{chosen.name}: {reason}")
    return chosen


# --- reading a report -----------------------------------------------------------------------


def _summary(report: Report) -> str:
    """The report with the wire text cut short: what a failing assertion shows."""

    def cut(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: (v[:1500] if isinstance(v, str) else v) for k, v in entry.items()}

    return json.dumps({**report, "calls": [cut(c) for c in report.get("calls", [])]}, indent=1)


def _succeeded(report: Report, *operations: str) -> list[dict[str, Any]]:
    calls = report.get("calls", [])
    names = [c.get("operation") for c in calls]
    assert names == list(operations), f"calls made {names}, expected {operations}\n" + _summary(
        report
    )
    for entry in calls:
        assert "result" in entry, f"{entry['operation']} did not succeed\n" + _summary(report)
    return list(calls)


def _fault(report: Report, op: str) -> dict[str, Any]:
    calls = report.get("calls", [])
    assert [c.get("operation") for c in calls] == [op], _summary(report)
    assert "fault" in calls[0], f"{op}: expected a SOAP fault the client recognises\n" + _summary(
        report
    )
    return dict(calls[0]["fault"])


def _declared(op: str, local: str) -> FaultRef:
    """The fault as our WSDL declares it for the operation (so the test cannot expect a stray)."""
    for fault in operation(op).faults:
        if fault.local == local:
            return fault
    raise AssertionError(f"our WSDL declares no {local} on {op}")


def _assert_detail(report: Report, op: str, expected: FaultRef) -> None:
    fault = _fault(report, op)
    assert fault["detail_names"] == [expected.local], (
        f"{report['client']} saw detail {fault['detail_names']}, expected {expected.local}\n"
        + _summary(report)
    )
    for raw in fault.get("raw_detail", []):  # the PHP script also reads the raw response
        assert (raw["local"], raw["namespace"]) == (expected.local, expected.namespace), raw


def _auth_headers_sent(sent: str) -> dict[str, str | None]:
    header = parse(sent.encode("utf-8")).find(ns.qname(ns.SOAP_ENV, "Header"))
    assert header is not None, f"no soap:Header was sent:\n{sent}"
    return {
        local: header.findtext(ns.qname(ns.AUTH_HEADER, local)) for local in ("LogonID", "Password")
    }


# --- the tests ------------------------------------------------------------------------------


def test_add_request_then_status_by_id(client: Client, emulator: Emulator, open_group: int) -> None:
    """AddRequest into the open group succeeds and GetOpenMediaRequestStatusByID returns it."""
    report = client.run(emulator.wsdl_url, "add-status", {"group": str(open_group)})
    added, status = _succeeded(report, ADD, STATUS)
    assert added["result"]["RequestStatus"] == "Success", _summary(report)
    open_media_id = int(added["result"]["OpenMediaID"])
    assert open_media_id > 0, _summary(report)
    records = status["result"]["records"]
    assert [int(r["ID"]) for r in records] == [open_media_id], _summary(report)
    assert records[0]["Status"] == "Queued", _summary(report)
    assert int(records[0]["ServiceGroupID"]) == open_group, _summary(report)


def test_label_one_over_the_limit_is_a_typed_fault(
    client: Client, emulator: Emulator, open_group: int
) -> None:
    """AddRequest with a Label one unit over the limit arrives as InvalidDataException (R2, R3)."""
    over = CONSTRAINTS.length("Label").max + 1
    report = client.run(
        emulator.wsdl_url, "add-label", {"group": str(open_group), "label_length": str(over)}
    )
    _assert_detail(report, ADD, _declared(ADD, CONSTRAINTS.violation_fault))


def test_unknown_id_is_invalid_open_media_id_fault(client: Client, emulator: Emulator) -> None:
    """GetOpenMediaRequestStatusByID on an ID never issued arrives as InvalidOpenMediaIDFault."""
    report = client.run(emulator.wsdl_url, "status", {"id": str(NEVER_ISSUED_ID)})
    _assert_detail(report, STATUS, _declared(STATUS, "InvalidOpenMediaIDFault"))


def test_auth_headers_accepted(
    client: Client, emulator: Emulator, open_group: int, authentication: tuple[str, str]
) -> None:
    """With authentication on, the client's LogonID/Password headers let both calls through."""
    logon, password = authentication
    report = client.run(
        emulator.wsdl_url,
        "add-status",
        {"group": str(open_group), "logon": logon, "password": password, "auth_ns": ns.AUTH_HEADER},
    )
    for entry in _succeeded(report, ADD, STATUS):
        assert _auth_headers_sent(entry["sent"]) == {"LogonID": logon, "Password": password}


def test_auth_wrong_password_is_invalid_user_fault(
    client: Client, emulator: Emulator, open_group: int, authentication: tuple[str, str]
) -> None:
    """With authentication on, a wrong Password header arrives as InvalidUserFault (R16)."""
    logon, password = authentication
    report = client.run(
        emulator.wsdl_url,
        "add-status",
        {
            "group": str(open_group),
            "logon": logon,
            "password": password + "-wrong",
            "auth_ns": ns.AUTH_HEADER,
        },
    )
    _assert_detail(report, ADD, _declared(ADD, "InvalidUserFault"))


def test_node_soap_is_pinned_exactly() -> None:
    """package.json pins npm soap to one version and package-lock.json agrees (npm ci)."""
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert manifest.get("private") is True
    pinned = manifest["devDependencies"]["soap"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"soap is not pinned exactly: {pinned!r}"
    assert lock["packages"]["node_modules/soap"]["version"] == pinned
    assert lock["packages"][""]["devDependencies"]["soap"] == pinned
