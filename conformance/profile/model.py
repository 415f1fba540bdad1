"""The target profile: what the suite must know about a target that the wire cannot tell it.

A vendor server cannot be asked which tenant is enabled, which group is closed or which agent
belongs where; the profile (a TOML file) says so, and every test reads it from here rather than
from literals. On a controllable target the profile is also the scenario: ``to_scenario()``
builds the control plane's ``/reset`` body from it, so the suite sets the target up itself.

Values are frozen dataclasses and the cross-checks every profile must pass (``validate``), also
for a test's variant (``Profile.with_changes``); reading TOML lives in
``conformance.profile.loading``, so this module stays the vocabulary a test author reads.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from conformance.secrets import PLACEHOLDER
from conformance.verdicts import NotApplicable, NotApplicableReason, UsageError

ROLES = ("open", "closed", "not-open-media")
"""A group's part in the suite: an open Open Media group, a closed one, or not Open Media."""

CONTROL_FEATURES = ("scenario", "agents", "router", "license", "restart", "clock", "statistics")
"""The feature names of control plane v1 (``../shared/contracts/control-plane.md``)."""

SAFE_MODE_RATE = 20.0
"""Requests per second in safe mode when the profile sets no ``max_requests_per_second``."""

DEFAULT_CLOCK_TOLERANCE_S = 5.0
"""``[target] clock_tolerance_s`` when the profile sets none: two NTP-synchronised hosts agree
far better than this, and a TimeStamp off by more is not "now"."""
REAL_TIME_MARGIN_S = 25.0
"""``[target] real_time_margin_s`` when the profile sets none: how far before and after
DataExpiration the real-time cache tier looks. A server may age its cache out on a timer rather
than at the exact moment: .NET's System.Runtime.Caching and the ASP.NET cache sweep expired
entries every 20 s (an entry read by key leaves at once, a listing may show it until the sweep),
and the Open Media Service is a .NET (WCF) service; 5 s more for the exchanges themselves."""
REAL_TIME_MAX_MINUTES = 5
"""The largest DataExpiration the real-time tier waits for (``--om-real-time``): beyond it a run
would wait longer than the rest of the suite takes many times over, so it is refused."""


@dataclass(frozen=True)
class TargetInfo:
    """``[target]``: a name for reports, optional URLs, and whether destructive tests may run."""

    name: str
    url: str | None = None
    control_url: str | None = None
    safe_mode: bool = True
    max_requests_per_second: float | None = None
    """SOAP requests per second the suite may send (``None``: the default for the mode)."""
    max_request_bytes: int | None = None
    """The largest request body the server accepts, when the profile states it (WCF's
    ``maxReceivedMessageSize``): ROB-OVERSIZED-BODY sends one byte more. No source fixes a cap,
    so without it the probe uses ``max_body_bytes`` of ``schemas/constraints.toml``."""
    clock_tolerance_s: float = DEFAULT_CLOCK_TOLERANCE_S
    """How far a server time may lie from "now" by the local clock (outside the exchange's
    send/receive window) when no control-plane clock says what "now" is on the target."""
    real_time: bool = False
    """``[target] real_time``: the data cache is tested by waiting DataExpiration in real time
    (as ``--om-real-time``), on a target without a controllable clock."""
    real_time_margin_s: float = REAL_TIME_MARGIN_S
    """``[target] real_time_margin_s``: the real-time tier checks a terminated request present
    this long before terminal + DataExpiration and gone this long after."""

    @property
    def rate_limit(self) -> float | None:
        """The pace the suite keeps: as configured, else ``SAFE_MODE_RATE`` in safe mode.

        A production server is shared with real traffic; outside safe mode (a throw-away
        emulator) the suite runs as fast as the target answers.
        """
        if self.max_requests_per_second is not None:
            return self.max_requests_per_second
        return SAFE_MODE_RATE if self.safe_mode else None


@dataclass(frozen=True)
class Auth:
    """``[auth]``: whether the target wants the LogonID/Password headers (R16), and whose.

    A password is given literally (fine for the emulator's throw-away users) or by the name of
    an environment variable (``password_env``), so a vendor's secret never sits in a file.
    """

    enabled: bool = False
    logon_id: str | None = None
    password: str | None = field(default=None, repr=False)
    password_env: str | None = None
    non_admin_logon_id: str | None = None
    non_admin_password: str | None = field(default=None, repr=False)
    non_admin_password_env: str | None = None

    def resolved_password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The host administrator's password: literal, else from ``password_env``."""
        return _resolve(self.password, self.password_env, environ)

    def resolved_non_admin_password(self, environ: Mapping[str, str] | None = None) -> str | None:
        return _resolve(self.non_admin_password, self.non_admin_password_env, environ)

    def resolved(
        self, logon_id: str | None, password: str | None, environ: Mapping[str, str]
    ) -> Auth:
        """The logon the run was given (from an option, the environment or this profile), and
        both passwords as literals: what a scenario loaded into a controllable target carries,
        so its administrator is the one the suite's requests name (``Profile.to_scenario``)."""
        return dataclasses.replace(
            self,
            logon_id=logon_id,
            password=password,
            password_env=None,
            non_admin_password=self.resolved_non_admin_password(environ),
            non_admin_password_env=None,
        )

    def __repr__(self) -> str:
        shown = PLACEHOLDER if self.password is not None else None
        return (
            f"Auth(enabled={self.enabled!r}, logon_id={self.logon_id!r}, password={shown!r}, "
            f"password_env={self.password_env!r}, non_admin_logon_id={self.non_admin_logon_id!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class Tenant:
    """``[tenant]``: the enabled tenant the suite works in, and optionally a disabled one."""

    id: int
    disabled_id: int | None = None


@dataclass(frozen=True)
class Group:
    """``[[groups]]``: one service group as the target is configured."""

    id: int
    name: str
    tenant_id: int
    role: str
    preferred_agent: bool = False
    preferred_agent_timeout_s: int = 30
    session_priority: bool = False
    agentless: bool = False
    """No agent serves the group (none is a member, or none ever logs on while the suite runs):
    its queue only grows by requests and shrinks by cancels and diverts, so a target without a
    control plane can still be judged on queue order, QueuePositions and EWT there, relative to
    the suite's own requests. Only an open group can be agentless."""

    @property
    def is_open_media(self) -> bool:
        return self.role != "not-open-media"

    @property
    def is_open(self) -> bool:
        return self.role != "closed"


@dataclass(frozen=True)
class Agent:
    """``[[agents]]``: an agent, its logon ID and the groups it serves."""

    id: int
    logon_id: str
    groups: tuple[int, ...]


@dataclass(frozen=True)
class ServerOptions:
    """One ``[[overwrite_server_options]]`` entry: a SetOptions the suite may send in safe mode.

    SetOptions is global (how every agent of the server receives work), and SOAP can neither
    read the options back nor restore them. So in safe mode the suite sends SetOptions only when
    the profile opts in by naming entries like this one, and then only these exact members:
    written as the values the server already runs with, re-setting them changes nothing.
    """

    members: tuple[tuple[str, int | bool], ...]
    """Wire member names of ``SetOptionsRequest`` and their values, in the file's order."""

    def request(self) -> dict[str, int | bool]:
        """The members as ``OpenMediaClient.set_options`` takes them."""
        return dict(self.members)

    def describe(self) -> str:
        """``TypeOfSession 0: MaxNumberOfSessions 4``, as the leak audit lists it."""
        return describe_options(self.request())


def describe_options(members: Mapping[str, object]) -> str:
    """A SetOptions call in a line: its TypeOfSession (absent: all types), then the values."""
    rest = ", ".join(f"{k} {_shown(v)}" for k, v in members.items() if k != "TypeOfSession")
    kind = members.get("TypeOfSession", "absent")
    return f"TypeOfSession {_shown(kind)}: {rest or 'no values'}"


def _shown(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Profile:
    """The whole profile. ``source`` is the file it came from (named in every error)."""

    target: TargetInfo
    tenant: Tenant
    auth: Auth = Auth()
    groups: tuple[Group, ...] = ()
    agents: tuple[Agent, ...] = ()
    data_expiration_minutes: int = 30
    control_features: frozenset[str] = frozenset()
    overwrite_server_options: tuple[ServerOptions, ...] = ()
    """The opt-in to SetOptions in safe mode, with the only values it may send (see
    ``ServerOptions``); empty: safe mode sends no SetOptions at all."""
    source: Path | None = None

    # -- queries a test uses -------------------------------------------------------------
    def group(self, group_id: int) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(f"profile {self.source}: no group with id {group_id}")

    def groups_with(
        self, role: str | None = None, *, tenant_id: int | None = None, **flags: bool
    ) -> tuple[Group, ...]:
        """Groups matching a role, a tenant and flags (``preferred_agent=True`` …).

        Without ``tenant_id`` only groups of the enabled tenant are returned: a test that asks
        for "an open group" means one it can add requests to.
        """
        tenant = self.tenant.id if tenant_id is None else tenant_id
        return tuple(
            g
            for g in self.groups
            if (role is None or g.role == role)
            and g.tenant_id == tenant
            and all(getattr(g, k) == v for k, v in flags.items())
        )

    def group_with(
        self, role: str | None = None, *, tenant_id: int | None = None, **flags: bool
    ) -> Group:
        """The first matching group; *not applicable* when the profile has none."""
        found = self.groups_with(role, tenant_id=tenant_id, **flags)
        if not found:
            parts = [f"role={role}"] if role else []
            wanted = ", ".join(parts + [f"{k}={v}" for k, v in flags.items()])
            raise NotApplicable(
                NotApplicableReason.NOT_IN_PROFILE,
                f"profile group ({wanted or 'any'})",
                f"none in {self.source}",
            )
        return found[0]

    def agent(self, agent_id: int) -> Agent:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(f"profile {self.source}: no agent with id {agent_id}")

    def agents_in(self, group_id: int) -> tuple[Agent, ...]:
        return tuple(a for a in self.agents if group_id in a.groups)

    def with_changes(self, **overrides: Any) -> Profile:
        """A copy with some fields replaced, validated like a loaded profile.

        ``make_scenario(data_expiration_minutes=1)`` and friends go through here, so a test's
        variant can never describe a scenario the loader would refuse.
        """
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"Profile has no field(s) {sorted(unknown)}")
        changed = dataclasses.replace(self, **overrides)
        validate(changed)
        return changed

    # -- the control plane's /reset body --------------------------------------------------
    def to_scenario(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The scenario (control plane v1, ``POST /control/reset``) this profile describes."""
        tenants = [{"id": self.tenant.id, "enabled": True}]
        if self.tenant.disabled_id is not None:
            tenants.append({"id": self.tenant.disabled_id, "enabled": False})
        group_tenant = {g.id: g.tenant_id for g in self.groups}
        users = []
        password = self.auth.resolved_password(environ)
        if self.auth.logon_id is not None and password is not None:
            users.append(
                {"logon_id": self.auth.logon_id, "password": password, "host_administrator": True}
            )
        other = self.auth.resolved_non_admin_password(environ)
        if self.auth.non_admin_logon_id is not None and other is not None:
            users.append(
                {
                    "logon_id": self.auth.non_admin_logon_id,
                    "password": other,
                    "host_administrator": False,
                }
            )
        return {
            "tenants": tenants,
            "service_groups": [
                {
                    "id": g.id,
                    "tenant_id": g.tenant_id,
                    "name": g.name,
                    "open_media": g.is_open_media,
                    "open": g.is_open,
                    "preferred_agent": g.preferred_agent,
                    "preferred_agent_timeout_s": g.preferred_agent_timeout_s,
                    "session_priority": g.session_priority,
                }
                for g in self.groups
            ],
            "agents": [
                {
                    "id": a.id,
                    "tenant_id": group_tenant.get(a.groups[0], self.tenant.id)
                    if a.groups
                    else self.tenant.id,
                    "logon_id": a.logon_id,
                    "service_groups": list(a.groups),
                }
                for a in self.agents
            ],
            "data_expiration_minutes": self.data_expiration_minutes,
            "authentication": {"enabled": self.auth.enabled, "users": users},
            "license_available": True,
            "router_connected": True,
        }


def _resolve(
    literal: str | None, env_name: str | None, environ: Mapping[str, str] | None
) -> str | None:
    if literal is not None:
        return literal
    if env_name is None:
        return None
    return (os.environ if environ is None else environ).get(env_name)


def validate(profile: Profile) -> None:
    """Cross-checks between tables: IDs unique, every reference names something declared."""
    source = str(profile.source) if profile.source is not None else "<profile>"

    def fail(where: str, problem: str, fix: str) -> NoReturn:
        raise UsageError(f"profile {source}: {where}: {problem}; {fix}")

    tenants = {profile.tenant.id} | (
        set() if profile.tenant.disabled_id is None else {profile.tenant.disabled_id}
    )
    if profile.tenant.disabled_id == profile.tenant.id:
        fail("[tenant] disabled_id", "equals id", "name a different, disabled tenant")
    seen: set[int] = set()
    for n, group in enumerate(profile.groups, 1):
        where = f"[[groups]] #{n}"
        if group.id in seen:
            fail(f"{where} id", f"group {group.id} is declared twice", "give each group its own id")
        seen.add(group.id)
        if group.role not in ROLES:
            fail(
                f"{where} role",
                f"{group.role!r} is not a role",
                f"use one of {', '.join(repr(r) for r in ROLES)}",
            )
        if group.agentless and group.role != "open":
            fail(
                f"{where} agentless",
                f"a {group.role!r} group takes no requests, so its queue says nothing",
                'mark an open group (role = "open") agentless, or remove the key',
            )
        if group.tenant_id not in tenants:
            fail(
                f"{where} tenant_id",
                f"tenant {group.tenant_id} is not declared in [tenant]",
                f"use {profile.tenant.id} or declare it as [tenant] disabled_id",
            )
    agent_ids: set[int] = set()
    for n, agent in enumerate(profile.agents, 1):
        where = f"[[agents]] #{n}"
        if agent.id in agent_ids:
            fail(f"{where} id", f"agent {agent.id} is declared twice", "give each agent its own id")
        agent_ids.add(agent.id)
        for group_id in agent.groups:
            if group_id not in seen:
                fail(
                    f"{where} groups",
                    f"group {group_id} is not declared in [[groups]]",
                    f"declare it or use one of {sorted(seen)}",
                )
    if profile.data_expiration_minutes < 1:
        fail("data_expiration_minutes", "must be at least 1", "give the minutes in force")
    unknown = profile.control_features - set(CONTROL_FEATURES)
    if unknown:
        fail("[control] features", f"unknown {sorted(unknown)}", f"use {CONTROL_FEATURES}")
