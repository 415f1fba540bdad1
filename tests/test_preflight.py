"""The pre-flight: a user's wrong URL, password or profile stops the run at once, saying so.

Every case drives a real server on loopback: the emulator as a separate process (a scenario with
authentication on, tenants 1 and 3 enabled and 2 disabled, and profiles that describe it right
or wrong), and plain HTTP servers (``tests/hostile/servers.py``) for the targets that are not
the Open Media service at all. ``openmedia-conformance check`` is run as a child process and
judged by its exit status, its words and its time; ``run`` must stop the same way before any
test (no test line, no verdict table, no baseline entry, no xdist worker).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile import answers, servers

from conformance.contract import namespaces as ns
from conformance.contract.paths import fixtures_dir
from conformance.plugin.embedded import EmbeddedEmulator
from conformance.profile import load_profile

ROOT = Path(__file__).resolve().parents[1]
EMULATOR_PROFILE = fixtures_dir() / "profiles" / "emulator.toml"
PASSWORD = "pre-flight-admin-secret"
WRONG = "pre-flight-wrong-guess"
TIME_LIMIT_S = 30.0
"""The pre-flight's bound with the default 10 s exchange timeout, generous for a shared machine."""
NOT_THE_SERVICE, SETUP = 3, 2


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    elapsed_s: float


def command(verb: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Result:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        environ.pop(name, None)
    for name in ("OPENMEDIA_PASSWORD", "OPENMEDIA_LOGON_ID"):
        if name not in (env or {}):
            environ.pop(name, None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", verb, *args],
        cwd=cwd, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return Result(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def check(*args: str, env: dict[str, str] | None = None) -> Result:
    return command("check", *args, env=env)


# -- the emulator, configured as a vendor's server ----------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator process with authentication on (admin / ``PASSWORD``) and an extra enabled
    tenant 3: the emulator profile describes it once authentication is turned on."""
    scenario = load_profile(EMULATOR_PROFILE).to_scenario()
    scenario["authentication"] = {
        "enabled": True,
        "users": [{"logon_id": "admin", "password": PASSWORD, "host_administrator": True}],
    }
    scenario["tenants"].append({"id": 3, "enabled": True})
    path = tmp_path_factory.mktemp("scenario") / "vendor.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    emulator = EmbeddedEmulator(extra_args=("--scenario", str(path)))
    try:
        yield emulator.start().service_url
    finally:
        emulator.stop()


def profile(folder: Path, *changes: tuple[str, str]) -> Path:
    """The emulator profile with authentication on (no literal password), edited by
    ``(old, new)`` text replacements, written to ``folder``."""
    text = EMULATOR_PROFILE.read_text(encoding="utf-8")
    text = text.replace("enabled = false ", "enabled = true ").replace(
        'password = "secret"', 'password_env = "PREFLIGHT_ADMIN_PASSWORD"'
    )
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / "my-server.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def assert_clean(result: Result) -> None:
    assert "Traceback" not in result.out and "INTERNALERROR" not in result.out, result.out
    assert PASSWORD not in result.out and WRONG not in result.out, "a password was shown"
    assert result.elapsed_s < TIME_LIMIT_S, f"{result.elapsed_s:.1f} s\n{result.out}"


def test_a_profile_that_describes_the_server_passes(server: str, tmp_path: Path) -> None:
    """The check passes on the right setup: one timed line per check, exit 0."""
    path = profile(tmp_path)
    result = check(
        "--om-target-url", server, "--om-profile", str(path),
        env={"PREFLIGHT_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.code == 0, result.out
    for name in ("service", "wsdl", "credentials", "tenant", "group 12", "disabled", "names"):
        assert f"openmedia pre-flight {name}" in result.out, result.out
    assert "group 12     ok" in result.out and "; closed" in result.out
    assert "openmedia pre-flight passed in" in result.out
    assert_clean(result)


@pytest.mark.parametrize(
    ("options", "env", "source"),
    [
        (("--om-password", WRONG), {}, "the password came from --om-password"),
        ((), {"OPENMEDIA_PASSWORD": WRONG}, "the password came from $OPENMEDIA_PASSWORD"),
        ((), {"PREFLIGHT_ADMIN_PASSWORD": WRONG}, "$PREFLIGHT_ADMIN_PASSWORD (the profile's"),
    ],
    ids=["option", "environment", "profile-password-env"],
)
def test_a_wrong_password_stops_with_exit_2_naming_logon_and_source(
    server: str, tmp_path: Path, options: tuple[str, ...], env: dict[str, str], source: str
) -> None:
    path = profile(tmp_path)
    result = check("--om-target-url", server, "--om-profile", str(path), *options, env=env)
    assert result.code == SETUP, result.out
    assert "the server refused LogonID 'admin' (InvalidUserFault" in result.out, result.out
    assert source in result.out, result.out
    assert "credentials  STOP" in result.out
    assert_clean(result)


def test_authentication_off_in_the_profile_but_on_in_the_server_is_exit_2(
    server: str, tmp_path: Path
) -> None:
    path = profile(tmp_path, ("enabled = true ", "enabled = false "))
    result = check("--om-target-url", server, "--om-profile", str(path))
    assert result.code == SETUP, result.out
    enabled = next(line for line in path.read_text().splitlines() if "enabled = false" in line)
    where = f"{path}:{line_of(path, enabled)}"
    assert "the server demands authentication" in result.out and where in result.out, result.out
    assert "refused LogonID 'admin'" in result.out and "came from nowhere" in result.out
    assert_clean(result)


GROUP_CASES = {
    "closed-group-said-open": (
        ('id = 12\nname = "Closed"\nrole = "closed"', 'id = 12\nname = "Closed"\nrole = "open"'),
        "id = 12",
        'answers Open false, so it is closed; give role = "closed"',
    ),
    "unknown-group-id": (
        ('id = 12\nname = "Closed"', 'id = 99\nname = "Closed"'),
        "id = 99",
        "so the server has no Open Media group 99",
    ),
    "open-media-group-said-not": (
        ('name = "Sales"\nrole = "open"', 'name = "Sales"\nrole = "not-open-media"'),
        "id = 11",
        "so it is an Open Media group (open), not not-open-media",
    ),
    "group-of-another-tenant": (
        ("tenant_id = 2\n", ""),
        "id = 20",
        "does not list it: it is not a group of tenant 1; give its tenant_id",
    ),
}


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_a_group_that_does_not_match_stops_with_exit_2_naming_its_line(
    server: str, tmp_path: Path, name: str
) -> None:
    change, id_line, says = GROUP_CASES[name]
    path = profile(tmp_path, change)
    result = check(
        "--om-target-url", server, "--om-profile", str(path),
        env={"PREFLIGHT_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.code == SETUP, result.out
    entry = line_of(path, id_line) - 1  # the [[groups]] line above the id
    assert path.read_text().splitlines()[entry - 1] == "[[groups]]"
    assert f"{path}:{entry})" in result.out, result.out
    assert says in result.out, result.out
    assert "--om-no-preflight lets the suite judge it" in result.out
    assert_clean(result)


@pytest.mark.parametrize(
    ("changes", "key", "says"),
    [
        ((("id = 1\ndisabled_id = 2", "id = 2\ndisabled_id = 3"),), "id = 2",
         "[tenant] id = 2"),
        ((("disabled_id = 2", "disabled_id = 3"), ("tenant_id = 2", "tenant_id = 3")),
         "disabled_id = 3", "[tenant] disabled_id = 3"),
    ],
    ids=["tenant-is-disabled", "disabled-tenant-is-enabled"],
)  # fmt: skip
def test_a_tenant_that_does_not_match_stops_with_exit_2(
    server: str, tmp_path: Path, changes: tuple[tuple[str, str], ...], key: str, says: str
) -> None:
    path = profile(tmp_path, *changes)
    result = check(
        "--om-target-url", server, "--om-profile", str(path),
        env={"PREFLIGHT_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.code == SETUP, result.out
    assert f"{says} ({path}:{line_of(path, key)})" in result.out, result.out
    assert_clean(result)


# -- targets that are not the Open Media service ------------------------------------------------
def html(status: int, reason: str, title: str) -> bytes:
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>hi</body></html>"
    return answers.http(status, reason, "text/html; charset=utf-8", page.encode())


WCF = (
    f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><s:Fault>'
    '<faultcode xmlns:a="http://www.w3.org/2005/08/addressing">a:ActionNotSupported</faultcode>'
    "<faultstring>The message with Action '' cannot be processed at the receiver, due to a "
    "ContractFilter mismatch at the EndpointDispatcher.</faultstring>"
    "</s:Fault></s:Body></s:Envelope>"
).encode()
"""What a WCF endpoint of another contract answers an action it does not know."""

NOT_THE_SERVICE_CASES: dict[str, tuple[servers.Behaviour, tuple[str, ...]]] = {
    "html-page": (
        servers.answer(html(200, "OK", "Welcome to nginx!")),
        ("an HTML page titled 'Welcome to nginx!' (HTTP 200 OK)",),
    ),
    "http-404": (
        servers.answer(answers.http(404, "Not Found", "text/plain", b"Not Found")),
        ("HTTP 404 Not Found", "nothing answers SOAP at this path"),
    ),
    "http-405": (
        servers.answer(answers.http(405, "Method Not Allowed", None, b"")),
        ("HTTP 405 Method Not Allowed",),
    ),
    "soap-1.2": (servers.answer(answers.SOAP12_FAULT), ("a SOAP 1.2 envelope",)),
    "malformed-xml": (servers.answer(answers.MALFORMED), ("not well-formed XML",)),
    "doctype": (
        servers.answer(answers.external_entity("/etc/passwd")),
        ("DTDs and entities are refused",),
    ),
    "50-mb": (
        servers.stream(
            answers.HUGE_HEAD_CHUNKED, answers.HUGE_FIRST, answers.HUGE_FILLER, 50 << 20, True
        ),
        ("response larger than 8 MiB",),
    ),
    "another-operations-answer": (
        servers.answer(answers.DRIP),
        ("GetServiceGroupStatusResponse", f"not {{{ns.TEMPURI}}}GetAllOpenMediaService"),
    ),
    "another-soap-service": (
        servers.answer(answers.http(500, "Internal Server Error", ns.SOAP11_CONTENT_TYPE, WCF)),
        ("is a SOAP service that does not know", "faultcode ActionNotSupported"),
    ),
    "silence": (servers.never_answer, ("within 10 s (timed out)",)),
}


@pytest.mark.parametrize("name", list(NOT_THE_SERVICE_CASES))
def test_a_target_that_is_not_the_service_stops_with_exit_3_naming_what_came_back(
    name: str,
) -> None:
    behaviour, says = NOT_THE_SERVICE_CASES[name]
    with servers.HostileServer(behaviour) as target:
        result = check(
            "--om-target-url", target.url,
            "--om-profile", str(fixtures_dir() / "profiles" / "vendor-example.toml"),
            env={"ACME_OM_PASSWORD": PASSWORD},
        )  # fmt: skip
    assert result.code == NOT_THE_SERVICE, result.out
    assert "openmedia pre-flight service      STOP" in result.out, result.out
    for words in says:
        assert words in result.out, f"{words!r} not in\n{result.out}"
    assert "credentials" not in result.out, "checks went on after the service stop"
    assert_clean(result)


def test_an_odd_wsdl_alone_is_reported_not_stopped(tmp_path: Path) -> None:
    """A server whose ``?wsdl`` is no WSDL but whose SOAP answer is right: tested, not stopped
    (here every answer is the tenant listing, so the profile check goes on and passes)."""
    listing = (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body>'
        f'<GetAllOpenMediaServiceGroupStatusResponse xmlns="{ns.TEMPURI}">'
        "<GetAllOpenMediaServiceGroupStatusResult/></GetAllOpenMediaServiceGroupStatusResponse>"
        "</s:Body></s:Envelope>"
    ).encode()
    path = tmp_path / "p.toml"
    path.write_text('[target]\nname = "x"\n[tenant]\nid = 1\n', encoding="utf-8")
    reply = answers.http(200, "OK", "text/xml; charset=utf-8", listing)
    with servers.HostileServer(servers.answer(reply)) as target:
        result = check("--om-target-url", target.url, "--om-profile", str(path))
    assert result.code == 0, result.out
    assert "openmedia pre-flight wsdl         note" in result.out, result.out
    assert "root element" in result.out and "no WSDL definitions" in result.out
    assert_clean(result)


# -- `run` stops before any test -----------------------------------------------------------------
def assert_no_test_ran(result: Result) -> None:
    for words in ("PASSED", "FAILED", "verdicts:", "[[expected]]", "test session starts"):
        assert words not in result.out, f"{words!r} in\n{result.out}"
    assert "::" not in result.out and "workers" not in result.out, result.out
    assert_clean(result)


def test_run_stops_before_any_test_on_an_html_page(tmp_path: Path) -> None:
    with servers.HostileServer(servers.answer(html(200, "OK", "Login"))) as target:
        result = command(
            "run", "--om-target-url", target.url, "-n", "2",
            "--om-profile", str(fixtures_dir() / "profiles" / "vendor-example.toml"),
            env={"ACME_OM_PASSWORD": PASSWORD}, cwd=tmp_path,
        )  # fmt: skip
    assert result.code == NOT_THE_SERVICE, result.out
    assert "an HTML page titled 'Login'" in result.out
    assert result.out.count("openmedia pre-flight service") == 1, result.out
    assert_no_test_ran(result)


def test_run_stops_before_any_test_on_a_wrong_password(server: str, tmp_path: Path) -> None:
    result = command(
        "run", "--om-target-url", server, "--om-profile", str(profile(tmp_path)),
        env={"PREFLIGHT_ADMIN_PASSWORD": WRONG}, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == SETUP, result.out
    assert "the server refused LogonID 'admin'" in result.out
    assert_no_test_ran(result)


def test_run_stops_before_any_test_on_a_wrong_group(server: str, tmp_path: Path) -> None:
    path = profile(tmp_path, ('id = 12\nname = "Closed"', 'id = 99\nname = "Closed"'))
    result = command(
        "run", "--om-target-url", server, "--om-profile", str(path),
        env={"PREFLIGHT_ADMIN_PASSWORD": PASSWORD}, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == SETUP, result.out
    assert "no Open Media group 99" in result.out
    assert_no_test_ran(result)


def test_a_wrong_group_name_passes_the_pre_flight_and_its_failure_names_the_line(
    server: str, tmp_path: Path
) -> None:
    """Names cannot be checked harmlessly: the pre-flight says so, and the one test that adds
    by name tells the user which profile line to look at when the server does not know it."""
    path = profile(tmp_path, ('name = "Support"', 'name = "Helpdesk"'))
    result = command(
        "run", "--om-target-url", server, "--om-profile", str(path), "--om-no-allure", "-n", "2",
        "conformance.suite.test_add_request", "-k", "test_add_by_tenant_and_group_name",
        env={"PREFLIGHT_ADMIN_PASSWORD": PASSWORD}, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result.out
    assert result.out.count("openmedia pre-flight passed in") == 1, "once, not per worker"
    assert "openmedia pre-flight names        not checked" in result.out, result.out
    entry = line_of(path, "id = 10") - 1
    hint = "if group 10 is not named 'Helpdesk' in tenant 1 on the server, fix the profile"
    assert f"{hint} ({path}:{entry})" in result.out, result.out
    assert "[ADD-VALID-BY-GROUP-NAME]" in result.out


@pytest.mark.parametrize("verb", ["check", "run"])
def test_ctrl_c_during_the_pre_flight_ends_it_without_a_traceback(
    verb: str, tmp_path: Path
) -> None:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "ACME_OM_PASSWORD": PASSWORD}
    environ.pop("PYTEST_ADDOPTS", None)
    vendor = fixtures_dir() / "profiles" / "vendor-example.toml"
    with servers.HostileServer(servers.never_answer) as target:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", verb, "--om-target-url", target.url,
             "--om-profile", str(vendor)],
            cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not target.stats.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert target.stats.requests, "the pre-flight never reached the server"
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == NOT_THE_SERVICE, out
    assert "openmedia pre-flight interrupted" in out, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out


def test_check_without_a_target_is_a_usage_error() -> None:
    result = check("--om-profile", str(EMULATOR_PROFILE))
    assert result.code == SETUP, result.out
    assert "check needs a target: pass --om-target-url" in result.out
    assert_clean(result)
