"""The emulator's ASGI application: the SOAP endpoint, its metadata and the control plane.

A raw ASGI callable (no framework): three routes do not need one, and every exchange stays a
few function calls from the socket. The engine's calls take microseconds, so they run on the
event loop itself: requests arriving together are served one after another, never interleaved
(section ``concurrency``). Only a planted race (``Engine.racing``) has them served in parallel
threads, so that they can overlap. A body larger than the limit is refused with 413 before it
is read whole; anything the emulator cannot read is a SOAP fault or a 4xx, never a crash or a
hang.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from conformance.contract import namespaces as ns
from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator.edge import control, metadata, service
from conformance.emulator.engine import Engine
from conformance.emulator.faults import Defect

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = int(CONSTRAINTS.defaults["max_body_bytes"])
_LOG = logging.getLogger("conformance.emulator")
_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_SOAP = ns.SOAP11_CONTENT_TYPE.encode()
_LATIN1 = b"text/xml; charset=iso-8859-1"  # fault hook content-type-latin1 only
BUSY_DWELL_S = 0.02
"""Fault hooks ``Defect.BUSY_*``: how long a SOAP request waits before it looks whether others
are in progress (long enough that a burst of clients overlaps, never a sequential client)."""
BUSY_AT = 3
"""Fault hooks ``Defect.BUSY_*``: this many SOAP requests in progress at once is "too busy"."""
_BUSY_FAULT = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
    b"<faultcode>s:Server</faultcode><faultstring>The server is too busy.</faultstring>"
    b'<detail><ServerTooBusyFault xmlns="http://schemas.datacontract.org/2004/07/'
    b'Solidus.OpenMedia.Contracts.Faults"/></detail></s:Fault></s:Body></s:Envelope>'
)
_HELP = (
    b"<html><body><h1>OpenMediaService</h1><p>The reference emulator of the MiCC Enterprise "
    b"Open Media Service. The WSDL is at <a href='?wsdl'>?wsdl</a>.</p></body></html>"
)


class BodyTooLarge(Exception):
    """The request body is over ``MAX_BODY_BYTES``."""


class EmulatorApp:
    """ASGI app over one engine; ``own_base`` is ``http://host:port`` as bound.

    ``control_plane=False`` (``--no-control-plane``): ``/control`` is not served at all (404
    like any unknown path), so the emulator stands in for a vendor server that has none.
    """

    def __init__(self, engine: Engine, own_base: str, *, control_plane: bool = True) -> None:
        self.engine = engine
        self.own_base = own_base
        self.in_progress = 0
        """SOAP requests being served now (read by the ``Defect.BUSY_*`` hooks only)."""
        self.busy_hooks = bool(engine.faults)
        """Whether ``_busy`` can refuse anything (no defect planted: it is never called)."""
        self.control_plane = control_plane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._http(scope, receive, send)
        except BodyTooLarge:
            # implements ROB-OVERSIZED-STATUS
            status = 400 if Defect.OVERSIZED_BODY_400 in self.engine.faults else 413
            await _reply(send, status, _TEXT, b"request body too large\n", close=True)
        # implements CONC-NO-HTTP-ERROR
        except Exception:  # never let one request take the server down
            _LOG.exception("internal error serving %s %s", scope.get("method"), scope.get("path"))
            await _reply(send, 500, _TEXT, b"internal error\n", close=True)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path == ns.SERVICE_PATH:
            # implements SVC-ENDPOINT
            if method == "POST" and Defect.ENDPOINT_REFUSES_SOAP in self.engine.faults:
                await _reply(send, 404, _TEXT, b"not found\n")
            elif method == "POST":
                # implements ROB-OVERSIZED-BODY
                unlimited = Defect.OVERSIZED_BODY_ACCEPTED in self.engine.faults
                body = await _read_body(receive, headers, unlimited)
                if self.busy_hooks and await self._busy(send):
                    return
                action = headers.get("soapaction")
                if self.engine.racing:  # a planted race: requests must overlap to meet it
                    status, payload = await asyncio.to_thread(
                        service.exchange, self.engine, body, action
                    )
                else:
                    status, payload = service.exchange(self.engine, body, action)
                # implements WIRE-CONTENT-TYPE
                latin1 = Defect.CONTENT_TYPE_LATIN1 in self.engine.faults
                await _reply(send, status, _LATIN1 if latin1 else _SOAP, payload)
            elif method in ("GET", "HEAD"):
                await self._metadata(scope, headers, send)
            else:
                await _reply(send, 405, _TEXT, b"method not allowed\n", allow=b"GET, POST")
        elif self.control_plane and (
            path == ns.CONTROL_PATH or path.startswith(ns.CONTROL_PATH + "/")
        ):
            body = await _read_body(receive, headers)
            status, result = control.handle(self.engine, method, path[len(ns.CONTROL_PATH) :], body)
            payload = b"" if result is None else json.dumps(result).encode()
            await _reply(send, status, _JSON if payload else _TEXT, payload)
        else:
            await _reply(send, 404, _TEXT, b"not found\n")

    async def _busy(self, send: Send) -> bool:
        """Fault hooks: a request arriving while others are in progress is refused as "too
        busy" (HTTP 503, or an undeclared fault); True when it was."""
        faults = self.engine.faults
        # implements CONC-NO-HTTP-ERROR
        http_503 = Defect.BUSY_HTTP_503 in faults
        # implements CONC-DECLARED-FAULTS-ONLY
        undeclared = Defect.BUSY_UNDECLARED_FAULT in faults
        if not (http_503 or undeclared):
            return False
        self.in_progress += 1
        try:
            await asyncio.sleep(BUSY_DWELL_S)
            busy = self.in_progress >= BUSY_AT
        finally:
            self.in_progress -= 1
        if busy and http_503:
            await _reply(send, 503, _TEXT, b"service unavailable: too busy\n")
        elif busy:
            await _reply(send, 500, _SOAP, _BUSY_FAULT)
        return busy

    async def _metadata(self, scope: Scope, headers: dict[str, str], send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        name = metadata.requested(query)
        if name is None:
            if query:
                await _reply(send, 404, _TEXT, b"no such metadata document\n")
            else:
                await _reply(send, 200, b"text/html; charset=utf-8", _HELP)
            return
        base = metadata.base_url(headers.get("host"), self.own_base)
        document = metadata.document(name, base, self.engine.faults)
        if document is None:
            await _reply(send, 404, _TEXT, b"no such metadata document\n")
        else:
            await _reply(send, 200, _SOAP, document, head=scope["method"] == "HEAD")


async def _read_body(receive: Receive, headers: dict[str, str], unlimited: bool = False) -> bytes:
    """The whole body; ``BodyTooLarge`` past the limit (``unlimited``: a fault hook)."""
    limit = float("inf") if unlimited else MAX_BODY_BYTES
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _reply(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    *,
    close: bool = False,
    head: bool = False,
    allow: bytes | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    if allow:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
