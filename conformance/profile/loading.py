"""Reading a profile from TOML, strictly: a typo must stop the run, never pass silently.

Every error is a ``UsageError`` whose message names the file, the key (``[[groups]] #2 role``)
and how to fix it, because the person reading it is configuring a vendor server and has only the
message to go on. Unknown keys are errors, with a "did you mean" when one is close.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from conformance.profile.model import (
    CONTROL_FEATURES,
    DEFAULT_CLOCK_TOLERANCE_S,
    REAL_TIME_MARGIN_S,
    ROLES,
    Agent,
    Auth,
    Group,
    Profile,
    ServerOptions,
    TargetInfo,
    Tenant,
    validate,
)
from conformance.verdicts import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_TOP_KEYS = (
    "target",
    "auth",
    "tenant",
    "groups",
    "agents",
    "data_expiration_minutes",
    "control",
    "overwrite_server_options",
)
_OPTIONS_TYPE = "SetOptionsRequest"
_TARGET_KEYS = (
    "name",
    "url",
    "control_url",
    "safe_mode",
    "max_requests_per_second",
    "max_request_bytes",
    "clock_tolerance_s",
    "real_time",
    "real_time_margin_s",
)
_AUTH_KEYS = (
    "enabled",
    "logon_id",
    "password",
    "password_env",
    "non_admin_logon_id",
    "non_admin_password",
    "non_admin_password_env",
)
_GROUP_KEYS = (
    "id",
    "name",
    "tenant_id",
    "role",
    "preferred_agent",
    "preferred_agent_timeout_s",
    "session_priority",
    "agentless",
)


class _Table:
    """One TOML table being read: typed getters that fail with the key's full name."""

    def __init__(self, data: Any, where: str, source: str, keys: tuple[str, ...]) -> None:
        self.where = where
        self.source = source
        if not isinstance(data, dict):
            self.fail("", f"must be a table, got {_kind(data)}", f"write it as {where}")
        self.data: dict[str, Any] = data
        self._refuse_unknown(keys)

    def fail(self, key: str, problem: str, fix: str) -> NoReturn:
        name = f"{self.where} {key}".strip()
        raise UsageError(f"profile {self.source}: {name}: {problem}; {fix}")

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                self.fail(key, "is missing", f"add `{key} = ...` to {self.where}")
            return None
        return self.data[key]

    def str_(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is not None and not isinstance(value, str):
            self.fail(key, f"must be a string, got {_kind(value)}", f'write {key} = "..."')
        return value

    def int_(self, key: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be an integer, got {_kind(value)}", f"write {key} = 10")
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}, got {value}", "correct the number")
        return value

    def bool_(self, key: str, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {_kind(value)}", f"write {key} = true")
        return value

    def list_(self, key: str, item: type, *, required: bool = False) -> list[Any]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(
            isinstance(v, item) and not (item is int and isinstance(v, bool)) for v in value
        ):
            example = "[10, 11]" if item is int else '["agents", "clock"]'
            self.fail(key, f"must be a list of {item.__name__}, got {value!r}", f"write {example}")
        return value

    def _refuse_unknown(self, keys: tuple[str, ...]) -> None:
        """Refuse keys the table does not have, before reading any: a misspelt key must be
        reported as what it is, not as the missing key it was meant to be."""
        for key in self.data:
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "remove it"
                self.fail(key, "is not a known key", f"{hint} (known: {', '.join(keys)})")


def load(path: Path) -> Profile:
    """Parse and validate a profile file."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"profile {source}: file not found; pass --om-profile with an existing TOML file"
        ) from None
    except OSError as exc:
        raise UsageError(f"profile {source}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"profile {source}: not valid TOML ({exc}); fix the syntax") from None
    return parse(data, path)


def parse(data: dict[str, Any], path: Path | None) -> Profile:
    """Build a ``Profile`` from already-decoded TOML, checking every key."""
    source = str(path) if path is not None else "<profile>"
    top = _Table(data, "(top level)", source, _TOP_KEYS)
    if "target" not in data:
        top.fail("[target]", "is missing", 'add a [target] table with name = "..."')
    if "tenant" not in data:
        top.fail("[tenant]", "is missing", "add a [tenant] table with id = 1")
    target = _target(_Table(data["target"], "[target]", source, _TARGET_KEYS), path)
    auth = _auth(_Table(data.get("auth", {}), "[auth]", source, _AUTH_KEYS))
    tenant_t = _Table(data["tenant"], "[tenant]", source, ("id", "disabled_id"))
    tenant = Tenant(
        id=_req_int(tenant_t, "id"), disabled_id=tenant_t.int_("disabled_id", minimum=0)
    )
    groups = tuple(
        _group(_Table(g, f"[[groups]] #{n}", source, _GROUP_KEYS), tenant, path, n)
        for n, g in enumerate(_array(top, data, "groups"), 1)
    )
    agents = tuple(
        _agent(_Table(a, f"[[agents]] #{n}", source, ("id", "logon_id", "groups")))
        for n, a in enumerate(_array(top, data, "agents"), 1)
    )
    expiration = top.int_("data_expiration_minutes", minimum=1)
    control_t = _Table(data.get("control", {}), "[control]", source, ("features",))
    features = control_t.list_("features", str)
    for feature in features:
        if feature not in CONTROL_FEATURES:
            control_t.fail(
                "features",
                f"{feature!r} is not a control feature",
                f"use names from {', '.join(CONTROL_FEATURES)}",
            )
    options = tuple(
        _server_options(n, o, source)
        for n, o in enumerate(_array(top, data, "overwrite_server_options"), 1)
    )
    profile = Profile(
        target=target,
        tenant=tenant,
        auth=auth,
        groups=groups,
        agents=agents,
        data_expiration_minutes=30 if expiration is None else expiration,
        control_features=frozenset(features),
        overwrite_server_options=options,
        source=path,
    )
    validate(profile)
    return profile


MIN_REQUEST_LIMIT = 4096
"""The smallest ``max_request_bytes`` a profile may state: below it valid requests do not fit."""


def _target(t: _Table, path: Path | None) -> TargetInfo:

    is_emulator = path is not None and path.resolve() == bundled_profile("emulator").resolve()
    info = TargetInfo(
        name=_req_str(t, "name"),
        url=t.str_("url"),
        control_url=t.str_("control_url"),
        safe_mode=t.bool_("safe_mode", default=not is_emulator),
        max_requests_per_second=_rate(t),
        max_request_bytes=t.int_("max_request_bytes", minimum=MIN_REQUEST_LIMIT),
        clock_tolerance_s=_seconds(t, "clock_tolerance_s", DEFAULT_CLOCK_TOLERANCE_S, zero=True),
        real_time=t.bool_("real_time", default=False),
        real_time_margin_s=_seconds(t, "real_time_margin_s", REAL_TIME_MARGIN_S),
    )
    return info


def _seconds(t: _Table, key: str, default: float, *, zero: bool = False) -> float:
    """A number of seconds, positive (or, with ``zero``, zero or more); ``default`` if absent."""
    value = t.data.get(key)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value < 0
        or (value == 0 and not zero)
    ):
        least = "zero or more" if zero else "more than zero"
        t.fail(
            key,
            f"must be a number of seconds, {least}, got {value!r}",
            f"write {key} = {default:g}",
        )
    return float(value)


def _rate(t: _Table) -> float | None:
    value = t.data.get("max_requests_per_second")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        t.fail(
            "max_requests_per_second",
            f"must be a positive number, got {value!r}",
            "write max_requests_per_second = 20",
        )
    return float(value)


def _auth(t: _Table) -> Auth:
    auth = Auth(
        enabled=t.bool_("enabled", default=False),
        logon_id=t.str_("logon_id"),
        password=t.str_("password"),
        password_env=t.str_("password_env"),
        non_admin_logon_id=t.str_("non_admin_logon_id"),
        non_admin_password=t.str_("non_admin_password"),
        non_admin_password_env=t.str_("non_admin_password_env"),
    )
    for prefix in ("", "non_admin_"):
        if t.data.get(f"{prefix}password") is not None and t.data.get(f"{prefix}password_env"):
            t.fail(
                f"{prefix}password",
                f"both {prefix}password and {prefix}password_env are given",
                "keep one (password_env keeps the secret out of the file)",
            )
    return auth


def _group(t: _Table, tenant: Tenant, path: Path | None, n: int) -> Group:
    role = _req_str(t, "role")
    if role not in ROLES:
        close = difflib.get_close_matches(role, ROLES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        t.fail("role", f"{role!r} is not a role", f"{hint}use one of {', '.join(ROLES)}")
    agentless = t.bool_("agentless", default=False)
    if agentless and role != "open":
        where = t.source if path is None else profile_line(path, "groups", "agentless", n - 1)
        raise UsageError(
            f"profile {where}: {t.where} agentless: only an open group can be agentless, and "
            f"this one is {role!r} (it takes no requests, so its queue says nothing); mark a "
            'group with role = "open" agentless, or remove the key'
        )
    tenant_id = t.int_("tenant_id", minimum=0)
    timeout = t.int_("preferred_agent_timeout_s", minimum=0)
    group = Group(
        id=_req_int(t, "id"),
        name=_req_str(t, "name"),
        tenant_id=tenant.id if tenant_id is None else tenant_id,
        role=role,
        preferred_agent=t.bool_("preferred_agent", default=False),
        preferred_agent_timeout_s=30 if timeout is None else timeout,
        session_priority=t.bool_("session_priority", default=False),
        agentless=agentless,
    )
    return group


def _agent(t: _Table) -> Agent:
    agent = Agent(
        id=_req_int(t, "id"),
        logon_id=_req_str(t, "logon_id"),
        groups=tuple(t.list_("groups", int, required=True)),
    )
    return agent


def _server_options(n: int, data: Any, source: str) -> ServerOptions:
    """One ``[[overwrite_server_options]]`` entry: SetOptions members the server accepts.

    The members are the integer options of ``SetOptionsRequest`` (their ranges, and which values
    need a TypeOfSession, from ``schemas/constraints.toml``, loaded only when the table is
    there). ResetAllOptions is no value in force (it restores the defaults), so it is refused.
    """
    from conformance.contract.constraints import CONSTRAINTS

    ranges = {r.field: r for r in CONSTRAINTS.ranges_for(_OPTIONS_TYPE)}
    where = f"[[overwrite_server_options]] #{n}"
    if isinstance(data, dict) and "ResetAllOptions" in data:
        raise UsageError(
            f"profile {source}: {where} ResetAllOptions: restores the defaults, which is no value "
            "in force; remove it and name the values the server runs with"
        )
    t = _Table(data, where, source, tuple(ranges))
    members: dict[str, int | bool] = {}
    for field in t.data:
        span = ranges[field]
        value = t.int_(field)
        assert value is not None
        if field == "TypeOfSession" and value in span.not_given:
            value = 0  # R5: 0 or -1 is "not given", which SetOptions reads as all types
        elif value in span.not_given:
            t.fail(
                field,
                f"{value} means the option is not given",
                "leave the key out, or write the value the server runs with",
            )
        if not span.accepts(value):
            upper = f" and at most {span.max}" if span.max is not None else ""
            t.fail(
                field,
                f"must be at least {span.min}{upper}, got {value}",
                "write the value the server runs with",
            )
        members[field] = value
    if not set(members) - {"TypeOfSession"}:
        t.fail("", "names no option", "add the option values in force, e.g. MaxNumberOfSessions")
    for need in CONSTRAINTS.requires_type_of_session:
        if members.get(need.field) in need.values and not members.get("TypeOfSession"):
            t.fail(
                need.field,
                f"{need.field} {members[need.field]} acts per type and needs a TypeOfSession "
                "other than 0",
                "add TypeOfSession = <the type it is in force for>",
            )
    return ServerOptions(tuple(members.items()))


def _array(top: _Table, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        top.fail(key, f"must be an array of tables, got {_kind(value)}", f"write [[{key}]] blocks")
    return value


def _req_int(t: _Table, key: str) -> int:
    value = t.int_(key, required=True, minimum=0)
    assert value is not None
    return value


def _req_str(t: _Table, key: str) -> str:
    value = t.str_(key, required=True)
    assert value is not None
    return value


def _kind(value: Any) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


# -- where a profile says something (for messages that send the user to the line to fix) --------
def profile_line(path: Path, table: str, key: str | None = None, index: int = 0) -> str:
    """``file:line`` of ``[table] key`` (or of the ``index``-th ``[[table]]`` entry)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return str(path)
    current, seen, header_line = "", -1, 0
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\[?\s*([\w.-]+)\s*\]\]?", line)
        if header:
            current = header.group(1)
            if current == table and line.startswith("[["):
                seen += 1
            if current == table and seen in (-1, index):
                header_line = number
            continue
        if current != table or seen not in (-1, index):
            continue
        if key is not None and re.match(rf"{re.escape(key)}\s*=", line):
            return f"{path}:{number}"
    return f"{path}:{header_line}" if header_line else str(path)


def group_line(profile: Profile, group: Group) -> str:
    """``file:line`` of a group's ``[[groups]]`` entry (the file name alone if unknown)."""
    if profile.source is None:
        return "the profile"
    return profile_line(profile.source, "groups", index=profile.groups.index(group))


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile file; a mistake raises ``UsageError`` naming file and key."""
    return load(Path(path))


def bundled_profile(name: str) -> Path:
    """The path of a profile shipped with the project (``emulator``, ``vendor-example``)."""
    from conformance.contract.paths import fixtures_dir

    return fixtures_dir() / "profiles" / f"{name}.toml"
