"""Secrets: no password the run is given appears in anything it writes or prints.

A run is given passwords from six places: ``--om-password``, ``$OPENMEDIA_PASSWORD``, the profile's
``password`` or ``password_env``, and its ``non_admin_password`` or ``non_admin_password_env``
(a profile holds a literal or a variable, never both: so two runs). Each run plants a distinct,
recognisable password in every source it can at once, with authentication on, against the
embedded emulator, and two planted defects make tests fail, so the run prints what a failing run
prints (the exchanges, the curl replay, the re-run command):

* ``literals``: option, environment, both profile literals; the emulator is controllable, so
  every test's scenario reset (a JSON body with the users and their passwords) is evidence;
* ``variables``: option, environment, both ``*_env`` variables; safe mode, so the run also
  writes the leak audit.

Each writes every output there is: console (``-v -rA``), JUnit (with captured output), Allure
results with attachments and environment.properties, the certificate, the leak audit (safe
mode), a DEBUG log file, pytest's cache. Then every byte of all of it is searched for each
password: as written, URL-encoded, XML- and JSON-escaped, shell-quoted, and base64-encoded at
each of the three alignments it can have inside a longer encoded text.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from conformance.cli.run import plugin_installed
from conformance.contract.paths import fixtures_dir
from conformance.emulator import RunningEmulator
from conformance.plugin.runtime import SessionRuntime
from conformance.plugin.settings import OptionValues, build_settings
from conformance.secrets import Secrets
from conformance.wire import ControlClient

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]
ADMIN_ENV = "OPENMEDIA_SECRET_UNDER_TEST"
CLERK_ENV = "OPENMEDIA_CLERK_SECRET_UNDER_TEST"
FAULTS = ("status-by-id-skips-authentication", "status-by-id-first-event")
SELECTION = "test_status_by_id or AddRequest or GetOpenMediaRequestStatusByID"
MODULES = ("conformance.suite.test_status_by_id", "conformance.suite.test_authentication")
SERVED_WITH_THE_PASSWORD = "test_host_administrator_is_served[AddRequest]"
RUN_TIMEOUT_S = 600
PROFILE_NAME = "auth.toml"


def forms(secret: str) -> dict[str, bytes]:
    """Every way the secret could sit in a text file, each as bytes to search for."""
    raw = secret.encode()
    found = {
        "as written": raw,
        "URL-encoded": quote(secret, safe="").encode(),
        "URL-encoded (form)": quote_plus(secret).encode(),
        "XML-escaped": escape(secret).encode(),
        "XML-escaped (text)": escape(secret, quote=False).encode(),
        "shell-quoted": shlex.quote(secret).strip("'").encode(),
        "JSON-escaped": json.dumps(secret)[1:-1].encode(),
    }
    for offset in range(3):  # base64 of a text holding the secret at any byte position
        encoded = base64.b64encode(b"\0" * offset + raw)
        first = -(-offset // 3) * 4  # the first group made of the secret's bytes only
        last = (offset + len(raw)) // 3 * 4
        found[f"base64 (+{offset})"] = encoded[first:last]
        found[f"base64url (+{offset})"] = encoded[first:last].translate(
            bytes.maketrans(b"+/", b"-_")
        )
    return found


def leaks(data: bytes, secret: str) -> list[str]:
    return [name for name, form in forms(secret).items() if form and form in data]


def test_the_search_finds_the_secret_in_every_form_it_looks_for() -> None:
    """The grep below can fail: each encoding of a text holding the secret is recognised."""
    secret = "S3cr3t-" + secrets.token_hex(6)
    for prefix in ("", "x", "xy", "admin:"):
        text = f"{prefix}{secret} trailing".encode()
        assert "as written" in leaks(text, secret)
        assert leaks(base64.b64encode(text), secret), prefix
        assert leaks(base64.urlsafe_b64encode(b"?>" + text), secret), prefix
    assert leaks(quote(f"p={secret}&").encode(), secret)
    odd = f"Odd<&>\"\\'{secret}"
    for encoded in (escape(odd, quote=False), json.dumps(odd), shlex.quote(odd), quote_plus(odd)):
        assert leaks(f"<x>{encoded}</x>".encode(), odd), encoded
    assert not leaks(b"nothing to see " * 100, secret)


def test_the_registry_masks_each_secret_in_each_encoding_and_the_longest_first() -> None:
    registry = Secrets.of(['pw<&>"1', 'pw<&>"1-longer', None, " ", "ab"]) | Secrets.of(["x/y z"])
    assert registry.values == {'pw<&>"1', 'pw<&>"1-longer', "ab", "x/y z"}
    for encoded in (
        "pw<&>\"1-longer", escape("pw<&>\"1", quote=False), escape("pw<&>\"1"),
        json.dumps("pw<&>\"1")[1:-1], quote("x/y z", safe=""), quote_plus("x/y z"), "x/y z",
    ):  # fmt: skip
        assert registry.mask(f"[{encoded}]") == "[***]", encoded
    assert (
        registry.mask("ab is too short to mask in free text")
        == "ab is too short to mask in free text"
    )
    assert "pw" not in repr(registry) and "pw" not in str(registry)


def test_the_run_knows_each_password_its_exchanges_carried(
    emulator: RunningEmulator, demo_scenario: dict[str, Any]
) -> None:
    """A password only a test knows (a user of its own scenario) is masked in the run's
    outputs once the exchange that carried it was recorded: the target may echo it later."""
    runtime = SessionRuntime(build_settings(OptionValues(password="Opt-pw-1"), {}))
    own = {"logon_id": "own", "password": "Own-pw-2", "host_administrator": True}
    demo_scenario["authentication"]["users"].append(own)
    control = ControlClient(emulator.control_url, on_exchange=runtime.record)
    try:
        assert runtime.redact("Own-pw-2") == "Own-pw-2"
        control.reset(demo_scenario)
    finally:
        control.close()
    said = "echoed Own-pw-2, Opt-pw-1 and the profile's clerk-secret"
    assert runtime.redact(said) == "echoed ***, *** and the profile's ***"


@dataclass(frozen=True)
class Planting:
    """Which sources a run plants passwords in (the profile's as literals or variables)."""

    name: str
    literals: bool
    safe_mode: bool


PLANTINGS = (Planting("literals", True, False), Planting("variables", False, True))


@dataclass(frozen=True)
class Run:
    planting: Planting
    folder: Path
    console: str
    returncode: int
    planted: dict[str, str] = field(repr=False)
    """Each source, and the password planted there."""


def toml(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a TOML basic string


def plant(folder: Path, planting: Planting) -> tuple[Path, dict[str, str]]:
    """The emulator's profile with authentication on and a made-up password in every source
    (each with a character some output escapes), and the passwords by source."""
    token = secrets.token_hex(6)
    planted = {
        "--om-password": f"Opt<&>{token}",
        "$OPENMEDIA_PASSWORD": f'Env"q{token}',
        "password": f"Prof/+= {token}",
        "non_admin_password": f"Clerk\\{token}",
        "password_env": f"PEnv<{token}>",
        "non_admin_password_env": f'NEnv"{token}%',
    }
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(r"(?m)^enabled = false.*$", "enabled = true", text, count=1)
    if planting.literals:
        del planted["password_env"], planted["non_admin_password_env"]
        admin = f"password = {toml(planted['password'])}"
        clerk = f"non_admin_password = {toml(planted['non_admin_password'])}"
    else:
        del planted["password"], planted["non_admin_password"]
        admin, clerk = f'password_env = "{ADMIN_ENV}"', f'non_admin_password_env = "{CLERK_ENV}"'
    text = re.sub(r"(?m)^password = .*$", lambda _: admin, text, count=1)  # as written
    text = re.sub(r"(?m)^non_admin_password = .*$", lambda _: clerk, text, count=1)
    if planting.safe_mode:
        text = re.sub(
            r"(?m)^safe_mode = false.*$", "safe_mode = true\nmax_requests_per_second = 1000", text
        )
    path = folder / PROFILE_NAME
    path.write_text(text)
    return path, planted


@pytest.fixture(scope="module", params=PLANTINGS, ids=lambda p: p.name)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    planting: Planting = request.param
    folder = tmp_path_factory.mktemp(f"secret-run-{planting.name}")
    profile, planted = plant(folder, planting)
    command = [
        sys.executable, "-m", "pytest", *PLUGIN, "-v", "-rA",
        "--om-profile", str(profile), "--om-password", planted["--om-password"],
        *(arg for fault in FAULTS for arg in ("--om-emulator-fault", fault)),
        "--junitxml", "reports/junit.xml", "-o", "junit_logging=all",
        "--om-certificate", "reports/certificate",
        "--log-file", "reports/run.log", "--log-file-level", "DEBUG",
        "--pyargs", *MODULES, "-k", SELECTION,
    ]  # fmt: skip
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ["OPENMEDIA_PASSWORD"] = planted["$OPENMEDIA_PASSWORD"]
    environ[ADMIN_ENV] = planted.get("password_env", "")
    environ[CLERK_ENV] = planted.get("non_admin_password_env", "")
    for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        environ.pop(name, None)
    done = subprocess.run(
        command, cwd=folder, env=environ, capture_output=True, timeout=RUN_TIMEOUT_S
    )
    console = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    return Run(planting, folder, console, done.returncode, planted)


def outputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != PROFILE_NAME)


def test_the_run_used_the_password_and_wrote_every_kind_of_output(run: Run) -> None:
    assert run.returncode == 1, run.console[-4000:]  # the planted defects fail tests
    reports = run.folder / "reports"
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    served = cases[SERVED_WITH_THE_PASSWORD]  # accepted: the emulator knew this password
    assert not [child.tag for child in served if child.tag in ("failure", "error", "skipped")]
    assert any(case.find("failure") is not None for case in cases.values())
    allure = reports / "allure-results"
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    # one history per test case; a failed test's re-run attempt is a result of its own
    assert len({r["historyId"] for r in results}) == len(cases) <= len(results)
    attachments = [path.read_bytes() for path in allure.glob("*-attachment*")]
    assert attachments
    assert (allure / "environment.properties").is_file()
    assert (reports / "certificate" / "certificate.json").is_file()
    assert (reports / "certificate" / "certificate.html").is_file()
    assert (reports / "run.log").is_file()
    assert "replay the request that failed" in run.console
    assert "curl " in run.console
    if run.planting.safe_mode:
        assert json.loads((reports / "leak-audit.json").read_text())
    else:  # every test's scenario reset carried the users, their passwords masked
        resets = [data for data in attachments if b'"users": [{"logon_id"' in data]
        assert resets and all(data.count(b'"password": "***"') == 2 for data in resets)
        assert b"curl -sS -i -X POST" in run.console.encode()  # the resets' own curl lines


def test_no_output_of_the_run_holds_any_password_in_any_form(run: Run) -> None:
    files = {"console": run.console.encode()}
    files.update({str(p.relative_to(run.folder)): p.read_bytes() for p in outputs(run.folder)})
    assert len(files) > 10
    found = {
        (where, source): how
        for where, data in files.items()
        for source, secret in run.planted.items()
        if (how := leaks(data, secret))
    }
    assert found == {}


def test_reproduction_commands_name_a_placeholder_instead(run: Run) -> None:
    """Each curl line that carries a Password header says where to take it from (and a wrong
    password the test made from the real one is replayed as that same wrong password)."""
    lines = [line for line in run.console.splitlines() if line.lstrip().startswith("curl ")]
    with_password = [line for line in lines if "Password" in line]
    assert with_password
    for line in with_password:
        values = re.findall(r"<(?:\w+:)?Password\b[^>]*>(.*?)</(?:\w+:)?Password>", line)
        assert values, line
        # the run's password comes from the environment, also inside a wrong one made from it
        assert all("'\"$OPENMEDIA_PASSWORD\"'" in v or v == "***" for v in values), values
