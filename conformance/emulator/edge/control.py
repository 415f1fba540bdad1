"""The control plane v1 (``/control``): JSON in, JSON out, mapped onto the engine.

Statuses as the contract says: 200 with a body or 204, 400 for a malformed body, 404 for an
unknown id or path, 409 with ``{"error": why}`` when the request does not fit the state. Routes
are a small table of (method, pattern) so that the whole contract can be read in one screen.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from conformance.emulator.engine import Engine
from conformance.emulator.engine.clock import format_wire
from conformance.emulator.engine.errors import ControlError
from conformance.emulator.engine.scenario import ScenarioError, parse_scenario

CONTRACT = "openmedia-control"
VERSION = 1
FEATURES = ("scenario", "agents", "router", "license", "restart", "clock", "statistics")

Reply = tuple[int, Any]
"""HTTP status and a JSON-able body (``None`` for 204)."""
Route = Callable[[Engine, re.Match[str], Any], Reply]
_NO_CONTENT: Reply = (204, None)


def _flag(body: Any, key: str) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get(key), bool):
        raise ControlError(400, f'the body must be {{"{key}": true|false}}')
    return bool(body[key])


def _advance(engine: Engine, _: re.Match[str], body: Any) -> Reply:
    seconds = body.get("advance_s") if isinstance(body, dict) else None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not (math.isfinite(seconds) and seconds >= 0)
    ):
        raise ControlError(400, 'the body must be {"advance_s": <seconds, not negative>}')
    try:
        return 200, {"now": format_wire(engine.advance(seconds))}
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def _reset(engine: Engine, _: re.Match[str], body: Any) -> Reply:
    try:
        engine.reset(parse_scenario({} if body is None else body))
    except ScenarioError as exc:
        raise ControlError(400, str(exc)) from None
    return _NO_CONTENT


def _done(action: Callable[[], None]) -> Reply:
    action()
    return _NO_CONTENT


def _id(match: re.Match[str]) -> int:
    return int(match.group(1))


ROUTES: tuple[tuple[str, re.Pattern[str], Route], ...] = tuple(
    (method, re.compile(f"^{pattern}$"), route)
    for method, pattern, route in (
        (
            "GET",
            "",
            lambda e, m, b: (
                200,
                {"contract": CONTRACT, "version": VERSION, "features": list(FEATURES)},
            ),
        ),
        ("POST", "/reset", _reset),
        ("GET", "/state", lambda e, m, b: (200, e.state())),
        ("POST", r"/agents/([0-9]+)/logon", lambda e, m, b: _done(lambda: e.logon(_id(m)))),
        ("POST", r"/agents/([0-9]+)/logoff", lambda e, m, b: _done(lambda: e.logoff(_id(m)))),
        ("POST", r"/requests/([0-9]+)/answer", lambda e, m, b: _done(lambda: e.answer(_id(m)))),
        ("POST", r"/requests/([0-9]+)/complete", lambda e, m, b: _done(lambda: e.complete(_id(m)))),
        ("GET", r"/requests/([0-9]+)", lambda e, m, b: (200, e.request_view(_id(m)))),
        ("POST", "/router", lambda e, m, b: _done(lambda: e.set_router(_flag(b, "connected")))),
        ("POST", "/license", lambda e, m, b: _done(lambda: e.set_license(_flag(b, "available")))),
        (
            "POST",
            r"/service-groups/([0-9]+)",
            lambda e, m, b: _done(lambda: e.set_group_open(_id(m), _flag(b, "open"))),
        ),
        (
            "POST",
            r"/tenants/([0-9]+)",
            lambda e, m, b: _done(lambda: e.set_tenant_enabled(_id(m), _flag(b, "enabled"))),
        ),
        ("POST", "/restart", lambda e, m, b: _done(e.restart)),
        ("GET", "/clock", lambda e, m, b: (200, {"now": format_wire(e.now())})),
        ("POST", "/clock", _advance),
        ("GET", "/statistics", lambda e, m, b: (200, e.statistics())),
    )
)


def handle(engine: Engine, method: str, subpath: str, body: bytes) -> Reply:
    """Serve one control-plane call; ``subpath`` is the path after ``/control``."""
    subpath = subpath.rstrip("/")
    allowed = False
    for route_method, pattern, route in ROUTES:
        match = pattern.match(subpath)
        if match is None:
            continue
        if route_method != method:
            allowed = True
            continue
        try:
            return route(engine, match, _json(body))
        except ControlError as exc:
            return exc.status, {"error": exc.message}
    if allowed:
        return 405, {"error": f"{method} is not allowed on /control{subpath}"}
    return 404, {"error": f"no control endpoint /control{subpath}"}


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ControlError(400, f"the body is not JSON: {exc}") from None
