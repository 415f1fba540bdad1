"""Secrets: the administrator's password appears in nothing a run writes or prints.

One real run of a representative part of the suite, in its own process and folder, against the
embedded emulator with authentication on and a password made up for this test (given with
``--password``, and to the profile through ``password_env`` so the emulator's scenario uses it
too). Two planted defects make tests fail, so the run prints what a failing run prints (the
exchanges, the curl replay, the re-run command). It writes every output there is: console,
JUnit (with captured output), Allure results, the certificate, a DEBUG log file, pytest's cache.
Then every byte of all of it is searched for the password: as written, URL-encoded, XML- and
JSON-escaped, and base64-encoded at each of the three alignments it can have inside a longer
encoded text.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from conformance.contract.paths import fixtures_dir
from conformance.runner import plugin_installed

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]
PASSWORD_ENV = "OPENMEDIA_SECRET_UNDER_TEST"
FAULTS = ("status-by-id-skips-authentication", "status-by-id-first-event")
SELECTION = "test_status_by_id or AddRequest or GetOpenMediaRequestStatusByID"
MODULES = ("conformance.suite.test_status_by_id", "conformance.suite.test_authentication")
SERVED_WITH_THE_PASSWORD = "test_host_administrator_is_served[AddRequest]"
RUN_TIMEOUT_S = 300


def forms(secret: str) -> dict[str, bytes]:
    """Every way the secret could sit in a text file, each as bytes to search for."""
    raw = secret.encode()
    found = {
        "as written": raw,
        "URL-encoded": quote(secret, safe="").encode(),
        "URL-encoded (form)": quote_plus(secret).encode(),
        "XML-escaped": escape(secret).encode(),
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
    assert not leaks(b"nothing to see " * 100, secret)


@dataclass(frozen=True)
class Run:
    folder: Path
    console: str
    returncode: int
    secret: str = field(repr=False)


def auth_profile(folder: Path) -> Path:
    """The emulator's profile with authentication on and the password from the environment."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(r"(?m)^enabled = false.*$", "enabled = true", text, count=1)
    text = re.sub(r"(?m)^password = .*$", f'password_env = "{PASSWORD_ENV}"', text, count=1)
    path = folder / "auth.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("secret-run")
    secret = "S3cr3t-" + secrets.token_hex(8)
    profile = auth_profile(folder)
    assert secret not in profile.read_text()
    command = [
        sys.executable, "-m", "pytest", *PLUGIN, "-rA",
        "--profile", str(profile), "--password", secret,
        *(arg for fault in FAULTS for arg in ("--emulator-fault", fault)),
        "--junitxml", "reports/junit.xml", "-o", "junit_logging=all",
        "--certificate", "reports/certificate",
        "--log-file", "reports/run.log", "--log-file-level", "DEBUG",
        "--pyargs", *MODULES, "-k", SELECTION,
    ]  # fmt: skip
    environ = {**os.environ, "PYTHONPATH": str(ROOT), PASSWORD_ENV: secret}
    for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        environ.pop(name, None)
    done = subprocess.run(
        command, cwd=folder, env=environ, capture_output=True, timeout=RUN_TIMEOUT_S
    )
    console = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    return Run(folder, console, done.returncode, secret)


def outputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "auth.toml")


def test_the_run_used_the_password_and_wrote_every_kind_of_output(run: Run) -> None:
    assert run.returncode == 1, run.console[-4000:]  # the planted defects fail tests
    reports = run.folder / "reports"
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    served = cases[SERVED_WITH_THE_PASSWORD]  # accepted: the emulator knew this password
    assert not [child.tag for child in served if child.tag in ("failure", "error", "skipped")]
    assert any(case.find("failure") is not None for case in cases.values())
    results = list((reports / "allure-results").glob("*-result.json"))
    assert len(results) == len(cases)
    assert list((reports / "allure-results").glob("*-attachment*"))
    assert (reports / "certificate" / "certificate.json").is_file()
    assert (reports / "certificate" / "certificate.html").is_file()
    assert (reports / "run.log").is_file()
    assert "replay the request that failed" in run.console
    assert "curl " in run.console


def test_no_output_of_the_run_holds_the_password_in_any_form(run: Run) -> None:
    found = {"console": leaks(run.console.encode(), run.secret)}
    files = outputs(run.folder)
    assert len(files) > 10
    for path in files:
        found[str(path.relative_to(run.folder))] = leaks(path.read_bytes(), run.secret)
    assert {where: how for where, how in found.items() if how} == {}


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
