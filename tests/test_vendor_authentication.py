"""A vendor server with authentication on gets every authentication test, with no control plane.

Issue 13 item 4. The emulator runs on its own, as a vendor's server would, without its control
plane (``--no-control-plane``), started in a scenario whose authentication is on
(``conformance.mutation.observable``: the demo scenario with its users ``admin`` and
``clerk``). The profile, written outside the checkout, says what a vendor's would: safe mode,
no control feature, ``[auth] enabled = true`` with the administrator and the non-admin user,
each password named by ``password_env``, and the SetOptions values in force
(``[[overwrite_server_options]]``, so that SetOptions is one of the twelve operations too).

``openmedia-conformance run -k authentication`` against it:

* with nothing planted, passes, and every authentication test applies but those that cannot on
  such a server, each for its own reason: the authentication-off tests (authentication is on),
  and the no-effect checks of ModifyRequest and SetOptions (only an agent sees their effect);
* with each authentication defect planted that a server with authentication on can show,
  fails, and a failing test cites the defect's requirement.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.contract.operations import OPERATIONS
from conformance.emulator.faults import DEFECTS
from conformance.mutation import observable
from conformance.plugin.embedded import EmbeddedEmulator

RUN_TIMEOUT_S = 300
MODULE = "conformance/suite/test_authentication.py"
VARIANT = observable.Observable(
    agentless=False, real_time=False, authentication=True, safe_mode=True
)
"""Authentication on; the other items of issue 13 play no part in these tests."""
OPT_IN = "\n[[overwrite_server_options]]\nTypeOfSession = 0\nMaxNumberOfSessions = 1\n"
"""The emulator's options in force (schemas/constraints.toml [defaults])."""
OBSERVABLE_AUTH_DEFECTS = sorted(
    d.name
    for d in DEFECTS
    if d.requirement.startswith("AUTH-") and d.requirement != "AUTH-OFF-IGNORED"
)
"""Every authentication defect but the one that shows only with authentication off."""
NOT_APPLICABLE_HERE = {
    "test_headers_ignored_when_off": "authentication on in the profile",
    "test_refused_call_has_no_effect[ModifyRequest]": "control feature 'agents'",
    "test_refused_call_has_no_effect[SetOptions]": "'SetOptions'",
}
"""The authentication tests that cannot apply on a server without a control plane whose
authentication is on, and (part of) the reason each gives."""


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    verdicts: dict[str, tuple[str, str, tuple[str, ...]]]
    """Test name (without module) -> (verdict, skip message, cited requirements)."""


def _junit(path: Path) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    verdicts = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        skipped = case.find("skipped")
        message = skipped.get("message", "") if skipped is not None else ""
        requirements = tuple(props.get("requirements", "").replace(",", " ").split())
        verdicts[case.get("name", "")] = (props.get("verdict", ""), message, requirements)
    return verdicts


@pytest.fixture
def files(tmp_path: Path) -> observable.Files:
    written = observable.write(tmp_path / "target", VARIANT)
    written.profile.write_text(written.profile.read_text() + OPT_IN)
    return written


def run_authentication(
    folder: Path,
    files: observable.Files,
    faults: tuple[str, ...],
    *,
    select: str = "authentication",
    unset: tuple[str, ...] = (),
) -> Outcome:
    """The emulator with ``faults``, then ``openmedia-conformance run -k SELECT`` against it
    from ``folder`` (outside the checkout), without the environment variables ``unset``."""
    folder.mkdir(parents=True, exist_ok=True)
    junit = folder / "junit.xml"
    with EmbeddedEmulator(faults, extra_args=_emulator_args(files)) as emulator:
        assert emulator.urls is not None and emulator.urls.control_url is None
        command = [
            sys.executable, "-m", "conformance.cli", "run", "-q", "-rs", "--om-no-allure",
            *observable.suite_options(files, emulator.urls.service_url),
            "-k", select, "--junitxml", str(junit),
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=folder,
            env={k: v for k, v in observable.environment(os.environ).items() if k not in unset},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    output = done.stdout + done.stderr
    if junit.exists():
        output += junit.read_text(encoding="utf-8")  # checked for passwords too
    return Outcome(done.returncode, output, _junit(junit) if junit.exists() else {})


def _emulator_args(files: observable.Files) -> tuple[str, ...]:
    return ("--no-control-plane", "--scenario", str(files.scenario))


@pytest.fixture
def clean(tmp_path: Path, files: observable.Files) -> Outcome:
    return run_authentication(tmp_path / "clean", files, ())


def _reason(name: str) -> str | None:
    for prefix, reason in NOT_APPLICABLE_HERE.items():
        if name == prefix or name.startswith(prefix + "["):
            return reason
    return None


def test_every_authentication_test_applies_and_passes(clean: Outcome) -> None:
    assert clean.returncode == 0, clean.output[-4000:]
    assert clean.verdicts, clean.output[-2000:]
    wrong = {}
    for name, (verdict, message, _) in clean.verdicts.items():
        reason = _reason(name)
        if reason is None and verdict != "pass":
            wrong[name] = f"{verdict}: {message}"
        elif reason is not None and (verdict != "not applicable" or reason not in message):
            wrong[name] = f"{verdict} (expected not applicable for {reason!r}): {message}"
    assert wrong == {}, wrong
    passed = [name for name, (verdict, _, _) in clean.verdicts.items() if verdict == "pass"]
    modes = 9  # test_authentication.MODES
    assert len(passed) == len(OPERATIONS) * (1 + modes) + 3, sorted(passed)
    # the non-admin user of the profile, on all twelve operations
    assert sum("not-host-administrator" in name for name in passed) == len(OPERATIONS)
    for password in observable.passwords().values():  # from password_env, never shown
        assert not re.search(rf"\b{re.escape(password)}\b", clean.output), password


@pytest.mark.parametrize("fault", OBSERVABLE_AUTH_DEFECTS)
def test_a_planted_authentication_defect_fails_the_run(
    tmp_path: Path, files: observable.Files, fault: str
) -> None:
    requirement = next(d.requirement for d in DEFECTS if d.name == fault)
    outcome = run_authentication(tmp_path / fault, files, (fault,))
    assert outcome.returncode == 1, outcome.output[-4000:]
    failing = [
        name
        for name, (verdict, _, requirements) in outcome.verdicts.items()
        if verdict == "fail" and requirement in requirements
    ]
    assert failing, f"no failing test cites {requirement}:\n{outcome.output[-3000:]}"


def test_a_non_admin_user_without_password_is_named(
    tmp_path: Path, files: observable.Files
) -> None:
    """The profile names the non-admin user, but its password_env is not set: those tests are
    *not applicable*, and say what is missing (not that the profile names no such user)."""
    outcome = run_authentication(
        tmp_path / "no-clerk-password",
        files,
        (),
        select="test_refused_without_valid_headers and administrator",
        unset=(observable.NON_ADMIN_PASSWORD_ENV,),
    )
    assert outcome.returncode == 0, outcome.output[-3000:]
    assert len(outcome.verdicts) == len(OPERATIONS), sorted(outcome.verdicts)
    for name, (verdict, message, _) in outcome.verdicts.items():
        assert verdict == "not applicable", (name, verdict)
        assert "names the non-admin user 'clerk' but no password reached the run" in message
