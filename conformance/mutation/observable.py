"""The observable profile: the reference emulator standing in for a vendor server.

Issue 13 asks how much of the description a server without a control plane gets tested, and
whether the tests that apply there can fail. Both need the same target, defined once here:

* the emulator on its own (``python -m conformance.emulator --no-control-plane``), started in a
  scenario written from ``fixtures/scenarios/demo.json`` with DataExpiration 1 minute,
  authentication on (its own users ``admin`` and ``clerk``) and two open groups no agent serves
  (14, and 15 with session priority), planted defects given as ``--fault``;
* a profile written outside the checkout from ``fixtures/profiles/emulator.toml``: safe mode off
  (``Observable.safe_mode``: a test system set aside for the suite, which may send SetOptions —
  how issue 13 counted its 131; safe mode withholds the SetOptions tests, see the README),
  ``max_requests_per_second = 1000``, no control feature, authentication on with the
  administrator and the non-admin user whose passwords come from environment variables
  (``passwords()``), groups 14 and 15 marked ``agentless = true``;
* the suite run with ``--om-real-time``.

``Observable`` switches each of issue 13's items off on its own (the local-clock "now" has no
switch), so that a self-test can measure what each adds. The mutation matrix's observable run
(``conformance.mutation.matrix``) uses the profile with every item on, and so does the figures
self-test (``tests/test_observable_figures.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.contract.paths import fixtures_dir
from conformance.plugin.embedded import EmbeddedEmulator
from conformance.plugin.options import NO_PREFLIGHT, PROFILE, TARGET_URL

ADMIN_PASSWORD_ENV = "OPENMEDIA_OBSERVABLE_ADMIN_PASSWORD"
NON_ADMIN_PASSWORD_ENV = "OPENMEDIA_OBSERVABLE_CLERK_PASSWORD"
DATA_EXPIRATION_MINUTES = 1
REAL_TIME_FLAG = "--om-real-time"
"""The cache tier that waits for DataExpiration in real time (issue 13 item 3)."""
AGENTLESS_GROUPS = (
    {"id": 14, "name": "Unstaffed", "session_priority": False},
    {"id": 15, "name": "Unstaffed priority", "session_priority": True},
)
"""Open groups of tenant 1 that no agent serves (issue 13 item 1): a plain one, and one with
session priority for the SessionPriority queue order."""


@dataclass(frozen=True)
class Observable:
    """Which of issue 13's items the observable profile has on (all by default)."""

    agentless: bool = True
    """Item 1: the profile marks groups 14 and 15 ``agentless = true`` (without it they are
    listed as plain open groups)."""
    real_time: bool = True
    """Item 3: the run has ``--om-real-time``."""
    authentication: bool = True
    """Item 4: the server checks the LogonID/Password headers and the profile says so."""
    safe_mode: bool = False
    """The profile's ``[target] safe_mode`` (not one of issue 13's items): on, the suite sends
    no SetOptions and cancels each request as its test ends, as on a production server."""

    @property
    def name(self) -> str:
        """``all-on``, or the items switched off (``no-agentless-no-auth``), ``-safe-mode``
        appended when safe mode is on."""
        off = [
            label
            for label, on in (
                ("agentless", self.agentless),
                ("real-time", self.real_time),
                ("auth", self.authentication),
            )
            if not on
        ]
        name = "-".join(f"no-{label}" for label in off) or "all-on"
        return f"{name}-safe-mode" if self.safe_mode else name


ALL_ON = Observable()


def _users() -> dict[str, str]:
    """The scenario's users, by LogonID: their passwords (the demo scenario's own)."""
    demo = json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text(encoding="utf-8"))
    return {u["logon_id"]: u["password"] for u in demo["authentication"]["users"]}


def passwords() -> dict[str, str]:
    """The environment variables the profile names for the two users' passwords."""
    users = _users()
    return {ADMIN_PASSWORD_ENV: users["admin"], NON_ADMIN_PASSWORD_ENV: users["clerk"]}


def environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` for a suite run against the observable emulator: the passwords added, and no
    ``OPENMEDIA_*`` or ``PYTEST_*`` variable of the caller's (an ``OPENMEDIA_PASSWORD`` would
    outrank the profile's ``password_env``)."""
    kept = {k: v for k, v in base.items() if not k.startswith(("OPENMEDIA_", "PYTEST_"))}
    return kept | passwords()


def scenario(variant: Observable = ALL_ON) -> dict[str, Any]:
    """The emulator's start-up state: the demo scenario, DataExpiration 1 minute, the
    agentless groups, authentication as ``variant`` says."""
    data: dict[str, Any] = json.loads(
        (fixtures_dir() / "scenarios" / "demo.json").read_text(encoding="utf-8")
    )
    data["data_expiration_minutes"] = DATA_EXPIRATION_MINUTES
    data["authentication"]["enabled"] = variant.authentication
    data["service_groups"] += [
        {
            "id": group["id"],
            "tenant_id": 1,
            "name": group["name"],
            "open_media": True,
            "open": True,
            "preferred_agent": False,
            "session_priority": group["session_priority"],
        }
        for group in AGENTLESS_GROUPS
    ]
    return data


def _replace(pattern: str, replacement: str, text: str) -> str:
    """``re.sub`` of one line of ``emulator.toml``, which must be there."""
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise ValueError(f"fixtures/profiles/emulator.toml has no line matching {pattern!r}")
    return new


def profile(variant: Observable = ALL_ON) -> str:
    """The profile (TOML) describing the emulator as a vendor server."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text(encoding="utf-8")
    text = _replace(
        r"^data_expiration_minutes = .*$",
        f"data_expiration_minutes = {DATA_EXPIRATION_MINUTES}",
        text,
    )
    text = _replace(r"^name = \"reference emulator\".*$", 'name = "observable emulator"', text)
    safe_mode = f"safe_mode = {str(variant.safe_mode).lower()}\nmax_requests_per_second = 1000"
    text = _replace(r"^safe_mode = .*$", safe_mode, text)
    text = _replace(r"^enabled = .*$", f"enabled = {str(variant.authentication).lower()}", text)
    text = _replace(r"^password = .*$", f'password_env = "{ADMIN_PASSWORD_ENV}"', text)
    text = _replace(
        r"^non_admin_password = .*$", f'non_admin_password_env = "{NON_ADMIN_PASSWORD_ENV}"', text
    )
    text = _replace(r"^features = \[.*\]$", "features = []", text)
    for group in AGENTLESS_GROUPS:
        text += (
            f'\n[[groups]]\nid = {group["id"]}\nname = "{group["name"]}"\nrole = "open"\n'
            f"session_priority = {str(group['session_priority']).lower()}\n"
        )
        if variant.agentless:
            text += "agentless = true\n"
    return text


@dataclass(frozen=True)
class Files:
    """The scenario and profile of one variant, written into a folder."""

    variant: Observable
    scenario: Path
    profile: Path


def write(folder: Path, variant: Observable = ALL_ON) -> Files:
    """Write the variant's scenario and profile into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario_path = folder / "scenario.json"
    scenario_path.write_text(json.dumps(scenario(variant), indent=1), encoding="utf-8")
    profile_path = folder / "profile.toml"
    profile_path.write_text(profile(variant), encoding="utf-8")
    return Files(variant, scenario_path, profile_path)


def emulator(files: Files, faults: tuple[str, ...] = ()) -> EmbeddedEmulator:
    """The emulator process of ``files`` without its control plane (not started yet)."""
    extra = ("--no-control-plane", "--scenario", str(files.scenario))
    return EmbeddedEmulator(faults, extra_args=extra)


def suite_options(files: Files, service_url: str, *, preflight: bool = True) -> list[str]:
    """The suite's options for a run against the variant's emulator at ``service_url``."""
    options = [TARGET_URL.flag, service_url, PROFILE.flag, str(files.profile)]
    if files.variant.real_time:
        options.append(REAL_TIME_FLAG)
    if not preflight:
        options.append(NO_PREFLIGHT.flag)
    return options
