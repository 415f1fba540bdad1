"""A loopback HTTP server whose answer is whatever a behaviour does with the raw socket.

Why raw sockets and not ``http.server``: the behaviours a hostile target shows (never answering,
dripping a byte a second, resetting the connection, streaming 50 MB) live below HTTP, and a
framework would tidy them away. Each connection gets a thread; ``stop()`` ends every behaviour
within a moment, so a test never leaves a thread or a port behind. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_HEAD_LIMIT = 64 * 1024
_READ_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Request:
    """What the client sent: request line and headers (lower-case names) and the body."""

    line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stats:
    """What the server saw and did, for the test to report and assert on."""

    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    first_accept: float | None = None
    bytes_sent: int = 0
    streamed: list[int] = field(default_factory=list)
    """Per streamed answer, the bytes of body that left before it ended or the client left."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, n: int) -> None:
        with self.lock:
            self.bytes_sent += n


Behaviour = Callable[[socket.socket, Request, threading.Event, Stats], None]
"""Does something with the accepted socket after the request was read; returns to close it."""


def read_request(conn: socket.socket) -> Request | None:
    """One HTTP/1.1 request (head, then a body of Content-Length bytes); None if cut short."""
    conn.settimeout(_READ_TIMEOUT_S)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk or len(data) > _HEAD_LIMIT:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for item in lines:
            name, _, value = item.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
    except (OSError, ValueError):
        return None
    return Request(line, headers, body[:length])


class HostileServer:
    """``with HostileServer(behaviour) as server: ... server.url ...``; stops on exit."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stats = Stats()
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/OpenMediaService"

    def __enter__(self) -> HostileServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self._acceptor.join(timeout=2)
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=2)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.stats.lock:
                self.stats.connections += 1
                if self.stats.first_accept is None:
                    self.stats.first_accept = time.monotonic()
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while not self.stopping.is_set():
                request = read_request(conn)
                if request is None:
                    return
                with self.stats.lock:
                    self.stats.requests.append(request)
                self.behaviour(conn, request, self.stopping, self.stats)
                return  # every behaviour ends the connection: one answer (at most) each
        except OSError:
            return  # the client gave up: that is what the suite is meant to do
        finally:
            conn.close()


# -- behaviours --------------------------------------------------------------------------------
def never_answer(
    conn: socket.socket, request: Request, stop: threading.Event, stats: Stats
) -> None:
    """Accepts, reads the request, and says nothing until the server stops."""
    stop.wait()


def drip(payload: bytes, interval_s: float = 1.0) -> Behaviour:
    """Sends ``payload`` one byte per ``interval_s``: each read succeeds, none completes."""

    def behave(conn: socket.socket, request: Request, stop: threading.Event, stats: Stats) -> None:
        for index in range(len(payload)):
            conn.sendall(payload[index : index + 1])
            stats.sent(1)
            if stop.wait(interval_s):
                return

    return behave


def reset(conn: socket.socket, request: Request, stop: threading.Event, stats: Stats) -> None:
    """Closes with SO_LINGER 0: the kernel sends RST, the client reads ECONNRESET."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def answer(response: bytes) -> Behaviour:
    """Sends one whole, fixed HTTP response and closes."""

    def behave(conn: socket.socket, request: Request, stop: threading.Event, stats: Stats) -> None:
        conn.sendall(response)
        stats.sent(len(response))

    return behave


def answer_with(build: Callable[[Request], bytes]) -> Behaviour:
    """Sends the HTTP response ``build`` makes from the request, and closes."""

    def behave(conn: socket.socket, request: Request, stop: threading.Event, stats: Stats) -> None:
        response = build(request)
        conn.sendall(response)
        stats.sent(len(response))

    return behave


def stream(head: bytes, first: bytes, filler: bytes, total: int, chunked: bool) -> Behaviour:
    """Sends ``head``, then ``first`` and ``filler`` repeated up to ``total`` bytes of body.

    The filler is one small block sent again and again, so the server never holds the body;
    ``chunked`` frames it with Transfer-Encoding (no length known in advance), else the head
    is expected to declare Content-Length. Stops when the client hangs up.
    """

    def frame(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if chunked else data

    def behave(conn: socket.socket, request: Request, stop: threading.Event, stats: Stats) -> None:
        body_sent = 0
        try:
            conn.sendall(head + frame(first))
            stats.sent(len(head) + len(first))
            body_sent = len(first)
            framed = frame(filler)
            while body_sent < total and not stop.is_set():
                if total - body_sent < len(filler):
                    framed = frame(filler[: total - body_sent])
                conn.sendall(framed)
                size = min(total - body_sent, len(filler))
                stats.sent(size)
                body_sent += size
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        finally:
            with stats.lock:
                stats.streamed.append(body_sent)

    return behave
