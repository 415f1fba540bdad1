"""The scenario: the configuration a control-plane ``/reset`` (or ``--scenario``) installs.

It is the JSON shape of control plane v1, checked strictly here so that a typo in a scenario is a
400 with a reason rather than a puzzling routing outcome later. Values are frozen; what changes
at run time (a group opened, a tenant disabled, an agent logged on) lives in the engine's state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.paths import fixtures_dir

DEFAULT_PREFERRED_AGENT_TIMEOUT_S = 30
"""Preferred-agent wait when a scenario gives none: the control plane's own example value."""


class ScenarioError(ValueError):
    """The scenario JSON does not have the control plane's shape (HTTP 400)."""


@dataclass(frozen=True)
class Tenant:
    id: int
    enabled: bool


@dataclass(frozen=True)
class ServiceGroup:
    id: int
    tenant_id: int
    name: str
    open_media: bool
    open: bool
    preferred_agent: bool
    preferred_agent_timeout_s: float
    session_priority: bool


@dataclass(frozen=True)
class Agent:
    id: int
    tenant_id: int
    logon_id: str
    service_groups: tuple[int, ...]


@dataclass(frozen=True)
class User:
    logon_id: str
    password: str
    host_administrator: bool


@dataclass(frozen=True)
class Scenario:
    tenants: tuple[Tenant, ...] = ()
    service_groups: tuple[ServiceGroup, ...] = ()
    agents: tuple[Agent, ...] = ()
    data_expiration_minutes: float = float(CONSTRAINTS.defaults["data_expiration_minutes"])
    authentication_enabled: bool = False
    users: tuple[User, ...] = ()
    license_available: bool = True
    router_connected: bool = True


def _get(
    raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any, where: str
) -> Any:
    value = raw.get(key, default)
    if value is default:
        return value
    if isinstance(value, bool) and bool not in _kinds(kind):
        raise ScenarioError(f"{where}.{key} must be {_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise ScenarioError(f"{where}.{key} must be {_name(kind)}, got {type(value).__name__}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _kinds(kind))


def _required_int(raw: Mapping[str, Any], key: str, where: str) -> int:
    if key not in raw:
        raise ScenarioError(f"{where}.{key} is required")
    value: int = _get(raw, key, int, None, where)
    return value


def _objects(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = _get(raw, key, list, [], "scenario")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ScenarioError(f"scenario.{key}[{index}] must be an object")
    return items


def _number(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = _get(raw, key, (int, float), default, where)
    if not (math.isfinite(value) and value >= 0):
        raise ScenarioError(f"{where}.{key} must be a finite number, not negative")
    return float(value)


def parse_scenario(raw: Any) -> Scenario:
    """Check and convert a scenario object; raises ``ScenarioError`` with the reason."""
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario must be a JSON object")
    tenants = {}
    for index, item in enumerate(_objects(raw, "tenants")):
        where = f"tenants[{index}]"
        tenant = Tenant(_required_int(item, "id", where), _get(item, "enabled", bool, True, where))
        if tenant.id in tenants:
            raise ScenarioError(f"{where}: duplicate tenant id {tenant.id}")
        tenants[tenant.id] = tenant
    groups = _groups(raw)
    agents = _agents(raw, groups)
    for tenant_id in sorted({g.tenant_id for g in groups.values()} - set(tenants)):
        tenants[tenant_id] = Tenant(tenant_id, True)  # named by a group: implicitly enabled
    auth = _get(raw, "authentication", dict, {}, "scenario")
    users = []
    for index, item in enumerate(_get(auth, "users", list, [], "authentication")):
        where = f"authentication.users[{index}]"
        if not isinstance(item, dict):
            raise ScenarioError(f"{where} must be an object")
        users.append(
            User(
                _get(item, "logon_id", str, "", where),
                _get(item, "password", str, "", where),
                _get(item, "host_administrator", bool, False, where),
            )
        )
    return Scenario(
        tenants=tuple(tenants[key] for key in sorted(tenants)),
        service_groups=tuple(groups[key] for key in sorted(groups)),
        agents=tuple(agents[key] for key in sorted(agents)),
        data_expiration_minutes=_number(
            raw, "data_expiration_minutes", Scenario.data_expiration_minutes, "scenario"
        ),
        authentication_enabled=_get(auth, "enabled", bool, False, "authentication"),
        users=tuple(users),
        license_available=_get(raw, "license_available", bool, True, "scenario"),
        router_connected=_get(raw, "router_connected", bool, True, "scenario"),
    )


def _groups(raw: Mapping[str, Any]) -> dict[int, ServiceGroup]:
    groups: dict[int, ServiceGroup] = {}
    for index, item in enumerate(_objects(raw, "service_groups")):
        where = f"service_groups[{index}]"
        group_id = _required_int(item, "id", where)
        if group_id in groups:
            raise ScenarioError(f"{where}: duplicate service group id {group_id}")
        groups[group_id] = ServiceGroup(
            id=group_id,
            tenant_id=_get(item, "tenant_id", int, 1, where),
            name=_get(item, "name", str, f"Group{group_id}", where),
            open_media=_get(item, "open_media", bool, True, where),
            open=_get(item, "open", bool, True, where),
            preferred_agent=_get(item, "preferred_agent", bool, False, where),
            preferred_agent_timeout_s=_number(
                item, "preferred_agent_timeout_s", DEFAULT_PREFERRED_AGENT_TIMEOUT_S, where
            ),
            session_priority=_get(item, "session_priority", bool, False, where),
        )
    return groups


def _agents(raw: Mapping[str, Any], groups: Mapping[int, ServiceGroup]) -> dict[int, Agent]:
    agents: dict[int, Agent] = {}
    logons: set[str] = set()
    for index, item in enumerate(_objects(raw, "agents")):
        where = f"agents[{index}]"
        agent_id = _required_int(item, "id", where)
        if agent_id in agents:
            raise ScenarioError(f"{where}: duplicate agent id {agent_id}")
        member_of = _get(item, "service_groups", list, [], where)
        for group_id in member_of:
            if isinstance(group_id, bool) or not isinstance(group_id, int):
                raise ScenarioError(f"{where}.service_groups must hold group ids")
            if group_id not in groups:
                raise ScenarioError(f"{where}: unknown service group {group_id}")
        logon_id = _get(item, "logon_id", str, str(agent_id), where)
        if logon_id in logons:
            raise ScenarioError(f"{where}: duplicate logon_id {logon_id!r}")
        logons.add(logon_id)
        agents[agent_id] = Agent(
            agent_id,
            _get(item, "tenant_id", int, 1, where),
            logon_id,
            tuple(sorted(set(member_of))),
        )
    return agents


def load_scenario_file(path: Path) -> Scenario:
    """Read a scenario JSON file (``--scenario``); raises ``ScenarioError`` with the reason."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ScenarioError(f"scenario {path} is not JSON: {exc}") from None
    return parse_scenario(raw)


def demo_scenario() -> Scenario:
    """The scenario the emulator starts with: ``fixtures/scenarios/demo.json``."""
    return load_scenario_file(fixtures_dir() / "scenarios" / "demo.json")
