"""Client of the JSON control plane (contract version 1, ``../shared/contracts/control-plane.md``).

It only speaks the protocol: it never decides whether a missing feature makes a test not
applicable (the plugin does, from ``discover()``). Any answer that is not 2xx raises
``ControlError``, so a test never goes on after the environment refused to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from conformance.verdicts import SuiteError
from conformance.wire.decode import parse_datetime
from conformance.wire.exchange import Exchange
from conformance.wire.transport import DEFAULT_TIMEOUT_S, Transport

CONTRACT = "openmedia-control"
_JSON = "application/json"


class ControlError(SuiteError):
    """The control plane refused a call (``status`` 4xx/5xx) or answered something unreadable."""

    def __init__(self, status: int, body: Any, what: str = "") -> None:
        self.status = status
        self.body = body
        shown = body.get("error", body) if isinstance(body, dict) else body
        super().__init__(f"control plane {what or 'call'} answered {status}: {shown}")


class ControlClient:
    """One target's control plane (``http://host:port/control``)."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        transport: Transport | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.on_exchange = on_exchange
        self.transport = transport or Transport(timeout_s=timeout_s)

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:
        return f"ControlClient({self.base_url!r})"

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        headers: tuple[tuple[str, str], ...] = (("Accept", _JSON),)
        if payload is not None:
            headers += (("Content-Type", _JSON),)
        exchange = self.transport.request(
            method, self.base_url + path, body, headers, operation=f"control {method} {path or '/'}"
        )
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        data: Any = None
        if exchange.response_body.strip():
            try:
                data = json.loads(exchange.response_body)
            except ValueError:
                data = exchange.response_body[:200].decode("utf-8", errors="replace")
                if exchange.status < 300:
                    raise ControlError(
                        exchange.status, data, f"{method} {path}: non-JSON body"
                    ) from None
        if exchange.status >= 300:
            raise ControlError(exchange.status, data, f"{method} {path or '/'}")
        return data

    def discover(self) -> frozenset[str]:
        """The features the target offers; ``ControlError`` if it speaks another contract."""
        data = self._call("GET", "")
        if not isinstance(data, dict) or data.get("contract") != CONTRACT:
            raise ControlError(200, data, "discovery (not an openmedia-control contract)")
        return frozenset(str(feature) for feature in data.get("features", ()))

    def reset(self, scenario: dict[str, Any]) -> None:
        self._call("POST", "/reset", scenario)

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/state") or {})

    def logon(self, agent: int) -> None:
        self._call("POST", f"/agents/{int(agent)}/logon")

    def logoff(self, agent: int) -> None:
        self._call("POST", f"/agents/{int(agent)}/logoff")

    def answer(self, open_media_id: int) -> None:
        self._call("POST", f"/requests/{int(open_media_id)}/answer")

    def complete(self, open_media_id: int) -> None:
        self._call("POST", f"/requests/{int(open_media_id)}/complete")

    def request(self, open_media_id: int) -> dict[str, Any] | None:
        """What an agent's desktop would be handed; ``None`` for an ID the target does not hold."""
        try:
            return dict(self._call("GET", f"/requests/{int(open_media_id)}") or {})
        except ControlError as exc:
            if exc.status == 404:
                return None
            raise

    def router(self, connected: bool) -> None:
        self._call("POST", "/router", {"connected": bool(connected)})

    def license(self, available: bool) -> None:
        self._call("POST", "/license", {"available": bool(available)})

    def group_open(self, service_group_id: int, open: bool) -> None:
        self._call("POST", f"/service-groups/{int(service_group_id)}", {"open": bool(open)})

    def tenant_enabled(self, tenant_id: int, enabled: bool) -> None:
        self._call("POST", f"/tenants/{int(tenant_id)}", {"enabled": bool(enabled)})

    def restart(self) -> None:
        self._call("POST", "/restart")

    def now(self) -> datetime:
        data = self._call("GET", "/clock")
        try:
            return parse_datetime(str(data["now"]))
        except (KeyError, TypeError, ValueError):
            raise ControlError(200, data, "GET /clock (no readable 'now')") from None

    def advance(self, seconds: float) -> None:
        self._call("POST", "/clock", {"advance_s": seconds})

    def statistics(self) -> dict[str, Any]:
        return dict(self._call("GET", "/statistics") or {})
