"""HTTP/1.1 with keep-alive, a deadline on the whole exchange and a cap on the response size.

Why not just ``http.client`` with a socket timeout: a socket timeout bounds each read, so a
server that drips one byte a second would hold a test forever. Here the socket ``http.client``
reads from is wrapped so that every send and every read gets only the time left until the
exchange's deadline. The response body is read in chunks and abandoned as soon as it passes
``max_response_bytes``, so a runaway target cannot exhaust memory.

Connections are kept alive per (scheme, host, port). A kept-alive connection the server closed
while idle is detected before reuse (it reads as ready) and replaced; if the server closes it in
the instant between the check and the request, the request is sent once more on a fresh
connection, and only when not a byte of answer had arrived.
"""

from __future__ import annotations

import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.verdicts import SuiteError
from conformance.wire.exchange import Exchange, Headers

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_CHUNK = 64 * 1024
TIMED_OUT = "timed out"


class TransportError(SuiteError):
    """The target did not answer usably: refused, timed out, reset, malformed or too large.

    A suite error, not a conformance failure: the suite could not test. The message says what
    the server did and how to fix the command line.
    """

    def __init__(self, url: str, reason: str, timeout_s: float, hint: str = "") -> None:
        self.url = url
        self.reason = reason
        self.timeout_s = timeout_s
        if reason == TIMED_OUT:
            hint = hint or "check --om-target-url or raise --om-exchange-timeout"
            message = f"no answer from {url} within {timeout_s:g} s (timed out); {hint}"
        else:
            hint = hint or "check --om-target-url and that the server there speaks HTTP"
            message = f"no usable answer from {url}: {reason}; {hint}"
        super().__init__(message)


class _DeadlineExceeded(TimeoutError):
    pass


class _TooLarge(Exception):
    pass


class _DeadlineSocket:
    """Wraps a connected socket so every send and read is bounded by one absolute deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.raw = sock
        self.deadline: float | None = None

    def _arm(self) -> None:
        if self.deadline is None:
            self.raw.settimeout(None)
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _DeadlineExceeded("deadline passed")
        self.raw.settimeout(left)

    def sendall(self, data: Any, *flags: int) -> None:
        self._arm()
        self.raw.sendall(data, *flags)

    def recv_into(self, buffer: Any) -> int:
        self._arm()
        return self.raw.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":  # pragma: no cover - http.client only ever asks for "rb"
            raise ValueError(f"unsupported makefile mode {mode!r}")
        # The socket's own unbuffered reader keeps the file descriptor alive until the response
        # is read, even after http.client closes the connection (Connection: close).
        raw_io = self.raw.makefile("rb", buffering=0)
        return io.BufferedReader(_DeadlineReader(self, raw_io), buffer_size=_CHUNK)

    def close(self) -> None:
        self.raw.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket, raw_io: Any) -> None:
        self._sock = sock
        self._raw_io = raw_io

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock._arm()
        return int(self._raw_io.readinto(buffer) or 0)

    def close(self) -> None:
        self._raw_io.close()
        super().close()


class _OneWrite:
    """Send the head and the body of a request in one write.

    ``http.client`` writes them separately: two segments, and a server that reads the head
    first wakes twice per request. One write is cheaper for both ends and is what a SOAP stack
    such as WCF's does. (Overrides the private ``_send_output``, stable since Python 3.6.)
    """

    _buffer: list[bytes]

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        self._buffer.extend((b"", b""))
        head = b"\r\n".join(self._buffer)
        del self._buffer[:]
        if message_body is not None and not isinstance(message_body, bytes):
            raise TypeError("the transport sends bytes bodies only")
        self.send(head + (message_body or b""))  # type: ignore[attr-defined]


class _Connection(_OneWrite, http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)  # type: ignore[assignment]


class _TlsConnection(_OneWrite, http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)  # type: ignore[assignment]


def _stale(conn: http.client.HTTPConnection) -> bool:
    """True when an idle kept-alive connection is closed (or has unexpected bytes) already."""
    sock = conn.sock
    if sock is None:
        return False
    raw = sock.raw if isinstance(sock, _DeadlineSocket) else sock
    try:
        readable, _, _ = select.select([raw], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _public_url(url: str) -> str:
    """The URL with any password in its userinfo masked, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def human_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


class Transport:
    """Sends requests and captures each as an ``Exchange``; one instance per target is enough."""

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout_s = float(timeout_s)
        self.max_response_bytes = int(max_response_bytes)
        self._ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        *,
        operation: str | None = None,
        timeout_s: float | None = None,
    ) -> Exchange:
        """Send one request and capture the exchange; ``TransportError`` if no usable answer."""
        timeout = self.timeout_s if timeout_s is None else float(timeout_s)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(
                _public_url(url), "not an http(s) URL", timeout, "check --om-target-url"
            )
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rpartition("@")[2]
        sent: Headers = (("Host", host_header), *tuple(headers), ("Content-Length", str(len(body))))
        sent_at = datetime.now(timezone.utc)
        start = time.monotonic()
        deadline = start + timeout
        conn, reused = self._acquire(key, timeout)
        try:
            try:
                status, reason, got, data, keep = self._roundtrip(
                    conn, method, target, body, sent, deadline
                )
            except (
                http.client.RemoteDisconnected,
                BrokenPipeError,
                ConnectionResetError,
                ConnectionAbortedError,
            ):
                if not reused:
                    raise
                conn.close()  # the server closed the kept-alive connection: once more, fresh
                status, reason, got, data, keep = self._roundtrip(
                    conn, method, target, body, sent, deadline
                )
        except _TooLarge:
            conn.close()
            raise TransportError(
                _public_url(url),
                f"response larger than {human_size(self.max_response_bytes)}",
                timeout,
                "check --om-target-url: that is no Open Media answer",
            ) from None
        except BaseException as exc:
            conn.close()
            raise self._translate(exc, url, timeout) from None
        elapsed = time.monotonic() - start
        if keep:
            self._release(key, conn)
        else:
            conn.close()
        return Exchange(
            operation, method, url, sent, body, status, reason, got, data, elapsed, sent_at
        )

    def _acquire(
        self, key: tuple[str, str, int], timeout: float
    ) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            pool = self._idle.get(key)
            while pool:
                idle = pool.pop()
                if not _stale(idle):
                    return idle, True
                idle.close()
        scheme, host, port = key
        if scheme == "https":
            return _TlsConnection(host, port, timeout=timeout, context=self._ssl_context), False
        return _Connection(host, port, timeout=timeout), False

    def _release(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def _roundtrip(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes,
        headers: Headers,
        deadline: float,
    ) -> tuple[int, str, Headers, bytes, bool]:
        if conn.sock is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _DeadlineExceeded("deadline passed before connecting")
            conn.timeout = left
            conn.connect()
        sock = conn.sock
        assert isinstance(sock, _DeadlineSocket)
        sock.deadline = deadline
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body if body else None)
        response = conn.getresponse()
        try:
            data = self._read_body(response)
        except BaseException:
            response.close()  # with Connection: close the response alone holds the socket
            raise
        got = tuple((k, v) for k, v in response.getheaders())
        keep = not response.will_close and conn.sock is not None
        if isinstance(conn.sock, _DeadlineSocket):
            conn.sock.deadline = None
        return response.status, response.reason, got, data, keep

    def _read_body(self, response: http.client.HTTPResponse) -> bytes:
        """The body, in chunks, abandoned as soon as it passes the cap."""
        length = response.getheader("Content-Length")
        declared = length.strip() if length is not None else ""
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise _TooLarge()
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self.max_response_bytes:
                raise _TooLarge()
            chunks.append(chunk)

    def _translate(self, exc: BaseException, url: str, timeout: float) -> BaseException:
        public = _public_url(url)
        if isinstance(exc, ConnectionRefusedError):
            return TransportError(public, "connection refused", timeout)
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return TransportError(public, TIMED_OUT, timeout)
        if isinstance(exc, http.client.RemoteDisconnected):
            return TransportError(public, "connection closed without an answer", timeout)
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return TransportError(public, "connection reset", timeout)
        if isinstance(exc, http.client.IncompleteRead):
            return TransportError(public, "connection closed mid-response", timeout)
        if isinstance(exc, socket.gaierror):
            return TransportError(
                public, "host name not resolved", timeout, "check --om-target-url"
            )
        if isinstance(exc, ssl.SSLError):
            return TransportError(
                public, f"TLS error: {exc.reason or exc}", timeout, "check --om-target-url"
            )
        if isinstance(exc, http.client.HTTPException):
            return TransportError(
                public,
                f"malformed HTTP response: {type(exc).__name__}",
                timeout,
                "check --om-target-url",
            )
        if isinstance(exc, OSError):
            return TransportError(public, exc.strerror or type(exc).__name__, timeout)
        return exc
