"""The run's credentials: where they come from, and a controllable target gets the same ones.

The password may come from ``--om-password``, ``$OPENMEDIA_PASSWORD`` or the profile (a literal,
or the variable ``password_env`` names); the non-admin user's from the profile (literal or
variable). Whatever the source, the scenario the suite loads into a controllable target must
carry the administrator the suite's requests name, with that password, and the non-admin user:
else, with authentication on, the administrator is refused on every call. The unit tests pin
the resolution (``RunSettings``); the runs prove it end to end: a profile with authentication on
and no literal password at all, against the embedded emulator and against an emulator process
reached with ``--om-control-url``, passes the authentication module and some that reset the
scenario before each test, with zero failures and errors.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli.run import plugin_installed
from conformance.contract.paths import fixtures_dir
from conformance.plugin.embedded import EmbeddedEmulator, EmulatorUrls
from conformance.plugin.settings import ENV_PASSWORD, OptionValues, PasswordSource, build_settings

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = [] if plugin_installed() else ["-p", "conformance.plugin"]
ADMIN_ENV = "OPENMEDIA_TEST_ADMIN_PASSWORD"
CLERK_ENV = "OPENMEDIA_TEST_CLERK_PASSWORD"
MODULES = (
    "conformance.suite.test_authentication",
    "conformance.suite.test_status_by_id",
    "conformance.suite.test_cancel_request",
)
RUN_TIMEOUT_S = 600


def profile_without_passwords(folder: Path, admin: str = "") -> Path:
    """The emulator's profile with authentication on, the administrator's password named by
    ``admin`` (a profile line, or none), the non-admin user's read from ``$CLERK_ENV``."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    text = re.sub(r"(?m)^enabled = false.*$", "enabled = true", text, count=1)
    text = re.sub(r"(?m)^password = .*\n", admin + "\n" if admin else "", text, count=1)
    text = re.sub(
        r"(?m)^non_admin_password = .*$", f'non_admin_password_env = "{CLERK_ENV}"', text, count=1
    )
    path = folder / "auth-no-literals.toml"
    path.write_text(text)
    return path


def users(scenario: dict[str, object]) -> list[object]:
    authentication = scenario["authentication"]
    assert isinstance(authentication, dict)
    assert authentication["enabled"] is True
    return list(authentication["users"])


CLERK = "from-clerk-variable"


@pytest.mark.parametrize(
    ("options", "environ", "admin_line", "source", "origin", "secrets"),
    [
        (OptionValues(password="from-option"), {ENV_PASSWORD: "from-env"}, "", "OPTION",
         "--om-password", {"from-option", "from-env", CLERK}),
        (OptionValues(), {ENV_PASSWORD: "from-env"}, 'password = "overridden"', "ENVIRONMENT",
         "$OPENMEDIA_PASSWORD", {"from-env", "overridden", CLERK}),
        (OptionValues(), {}, 'password = "from-profile"', "PROFILE",
         "[auth] password of profile", {"from-profile", CLERK}),
        (OptionValues(), {ADMIN_ENV: "from-variable"}, f'password_env = "{ADMIN_ENV}"',
         "PROFILE_ENVIRONMENT", f"${ADMIN_ENV} (the profile's [auth] password_env",
         {"from-variable", CLERK}),
    ],
    ids=["option", "environment", "profile", "profile-variable"],
)  # fmt: skip
def test_the_scenario_carries_the_run_s_administrator_and_non_admin_user(
    tmp_path: Path,
    options: OptionValues,
    environ: dict[str, str],
    admin_line: str,
    source: str,
    origin: str,
    secrets: set[str],
) -> None:
    path = profile_without_passwords(tmp_path, admin_line)
    given = dataclasses.replace(options, profile=str(path), logon_id="root")
    settings = build_settings(given, {**environ, CLERK_ENV: CLERK})
    assert settings.password_source is PasswordSource[source]
    assert settings.password_origin is not None and settings.password_origin.startswith(origin)
    assert settings.password is not None and settings.password.startswith("from-")
    assert users(settings.profile.to_scenario({})) == [  # no variable read any more
        {"logon_id": "root", "password": settings.password, "host_administrator": True},
        {"logon_id": "clerk", "password": CLERK, "host_administrator": False},
    ]
    assert settings.secrets.values == secrets  # every source given, the overridden ones too
    assert "from-" not in repr(settings) and "from-" not in repr(settings.profile)


def test_without_a_password_there_is_no_source(tmp_path: Path) -> None:
    assert build_settings(OptionValues(), {}).password_source is PasswordSource.PROFILE
    bare = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    (tmp_path / "bare.toml").write_text(re.sub(r"(?m)^password = .*\n", "", bare, count=1))
    none = build_settings(OptionValues(profile=str(tmp_path / "bare.toml")), {})
    assert none.password is None and none.password_source is None and none.password_origin is None
    assert none.profile.to_scenario()["authentication"] == {  # the non-admin user alone
        "enabled": False,
        "users": [{"logon_id": "clerk", "password": "clerk-secret", "host_administrator": False}],
    }


# -- real runs -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulator_process() -> Iterator[EmulatorUrls]:
    """A reference emulator as its own process (what a vendor-like target is to the suite)."""
    process = EmbeddedEmulator()
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.mark.parametrize(
    ("target", "given_by"),
    [("embedded", "option"), ("embedded", "environment"), ("process", "environment")],
)
def test_authentication_on_a_controllable_target_with_the_password_from_outside_the_profile(
    tmp_path: Path, request: pytest.FixtureRequest, target: str, given_by: str
) -> None:
    password = f"Run-{given_by}-pw"
    profile = profile_without_passwords(tmp_path)
    environ = {**os.environ, "PYTHONPATH": str(ROOT), CLERK_ENV: "Clerk-from-variable"}
    for name in (
        ENV_PASSWORD,
        "PYTEST_ADDOPTS",
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
    ):
        environ.pop(name, None)
    command = [sys.executable, "-m", "pytest", *PLUGIN, "-q", "--om-profile", str(profile)]
    if given_by == "option":
        command += ["--om-password", password]
    else:
        environ[ENV_PASSWORD] = password
    if target == "process":
        urls: EmulatorUrls = request.getfixturevalue("emulator_process")
        command += ["--om-target-url", urls.service_url, "--om-control-url", urls.control_url]
    command += ["--junitxml", "junit.xml", "--om-no-allure", "--pyargs", *MODULES]
    done = subprocess.run(
        command, cwd=tmp_path, env=environ, capture_output=True, timeout=RUN_TIMEOUT_S
    )
    console = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, console[-4000:]
    suite = next(ET.parse(tmp_path / "junit.xml").getroot().iter("testsuite"))
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0"), console[-4000:]
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    outcomes = ("failure", "error", "skipped")
    passed = {name for name, case in cases.items() if not [c for c in case if c.tag in outcomes]}
    # authentication was on and enforced (a wrong password refused), the administrator served,
    # and tests that reset the scenario first (with the administrator in it) passed
    assert "test_host_administrator_is_served[AddRequest]" in passed
    assert "test_refused_without_valid_headers[AddRequest-wrong-password]" in passed
    assert "test_refused_without_valid_headers[AddRequest-not-host-administrator]" in passed
    assert sum(1 for name in passed if "cancel" in name) >= 5
    assert password not in console
