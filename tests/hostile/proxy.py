"""A loopback HTTP proxy that makes a correct server intermittently wrong, for the flaky verdict.

It forwards every request to the real server (the emulator, as its own process) and passes the
answer back, except for the first ``times`` requests of one SOAP operation (by ``SOAPAction``),
which it *trips*:

* ``Trip.LATE``: the request is never forwarded and never answered until well after the
  client's exchange timeout (``hold_s``): the client times out, and the server never saw it;
* ``Trip.SOAP12``: the server's answer comes back in the SOAP 1.2 envelope namespace, which a
  SOAP 1.1 client must refuse (WIRE-ENVELOPE, a MUST).

``times=None`` trips every request of the operation: a target that is consistently wrong.
"""

from __future__ import annotations

import http.client
import threading
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

SOAP11_ENV = b"http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = b"http://www.w3.org/2003/05/soap-envelope"


class Trip(Enum):
    LATE = "late"
    SOAP12 = "soap12"


class FlakyProxy:
    """``with FlakyProxy(upstream, "GetServiceGroupStatus", Trip.LATE) as proxy: proxy.url``."""

    def __init__(
        self,
        upstream: str,
        operation: str,
        trip: Trip,
        *,
        times: int | None = 1,
        hold_s: float = 3.0,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.path = parts.path
        self.operation = operation
        self.trip = trip
        self.times = times
        self.hold_s = hold_s
        self.tripped = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def _should_trip(self, action: str) -> bool:
        if not action.strip('"').endswith("/" + self.operation):
            return False
        with self._lock:
            if self.times is not None and self.tripped >= self.times:
                return False
            self.tripped += 1
            return True

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            with self._lock:
                self.forwarded += 1
            return answer.status, answer.reason, kept, data
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = self.headers.get("SOAPAction") or ""
                tripped = proxy._should_trip(action)
                if tripped and proxy.trip is Trip.LATE:
                    proxy._stop.wait(proxy.hold_s)  # the client gives up first
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                status, reason, kept, data = proxy._forward(self.command, self.path, headers, body)
                if tripped:
                    data = data.replace(SOAP11_ENV, SOAP12_ENV, 1)
                self.send_response(status, reason)
                for name, value in kept:
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _relay
            do_GET = _relay

        return Handler


_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
