"""The transport against small loopback servers that misbehave in exactly one way each.

Real sockets, no mocks: the failure modes (silence, dripping, resets, floods, idle closes) only
exist on a real connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from conformance.wire.transport import Transport, TransportError

SLACK_S = 0.75
OK_BODY = b"<ok/>"


def read_request(conn: socket.socket) -> bytes:
    """Read one HTTP request (headers + Content-Length body); b"" if the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest


def ok_response(body: bytes = OK_BODY, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class RawServer:
    """A loopback TCP server running ``handler(conn, index)`` per accepted connection."""

    def __init__(self, handler: Callable[[socket.socket, int], None]) -> None:
        self.handler = handler
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/OpenMediaService"
        self.connections = 0
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            index = self.connections
            self.connections += 1
            thread = threading.Thread(target=self._run, args=(conn, index), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, conn: socket.socket, index: int) -> None:
        with conn, contextlib.suppress(OSError):
            self.handler(conn, index)

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
        for thread in self._threads:
            thread.join(timeout=2)


def serve(handler: Callable[[socket.socket, int], None]) -> Iterator[RawServer]:
    server = RawServer(handler)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def keep_alive_server() -> Iterator[RawServer]:
    server: RawServer

    def handler(conn: socket.socket, index: int) -> None:
        while True:
            request = read_request(conn)
            if not request:
                return
            server.requests.append(request)
            conn.sendall(ok_response())

    for server in serve(handler):
        yield server


def test_exchange_captures_both_sides(keep_alive_server: RawServer) -> None:
    with Transport(timeout_s=2) as transport:
        sent = transport.request(
            "POST", keep_alive_server.url, b"<x/>", [("SOAPAction", '"a"')], operation="Op"
        )
    assert (sent.status, sent.reason, sent.response_body) == (200, "OK", OK_BODY)
    assert sent.response_header("content-type") == "text/xml; charset=utf-8"
    assert sent.request_header("Content-Length") == "4"
    assert sent.request_header("Host") == f"127.0.0.1:{keep_alive_server.port}"
    assert sent.operation == "Op" and sent.elapsed_s > 0
    wire = keep_alive_server.requests[0]
    assert wire.startswith(b"POST /OpenMediaService HTTP/1.1\r\n")
    assert b'\r\nSOAPAction: "a"\r\n' in wire and wire.endswith(b"\r\n\r\n<x/>")
    assert b"Accept-Encoding" not in wire  # exactly the headers the Exchange records


def test_keep_alive_reuses_one_connection(keep_alive_server: RawServer) -> None:
    with Transport(timeout_s=2) as transport:
        for _ in range(5):
            assert transport.request("POST", keep_alive_server.url, b"x").status == 200
    assert keep_alive_server.connections == 1
    assert len(keep_alive_server.requests) == 5


def test_idle_close_by_the_server_is_reconnected_transparently() -> None:
    """The server answers one request per connection and closes, without saying so."""

    def handler(conn: socket.socket, index: int) -> None:
        if read_request(conn):
            conn.sendall(ok_response())

    for server in serve(handler):
        with Transport(timeout_s=2) as transport:
            for _ in range(3):
                assert transport.request("POST", server.url, b"x").response_body == OK_BODY
                time.sleep(0.05)  # let the FIN arrive: the idle connection is now dead
        assert server.connections == 3


def test_close_racing_the_next_request_is_retried_once() -> None:
    """Connection 0 reads the second request and closes without answering: sent again, fresh."""

    def handler(conn: socket.socket, index: int) -> None:
        if not read_request(conn):
            return
        conn.sendall(ok_response())
        if index == 0:
            read_request(conn)  # the request arrives on the kept-alive connection ...
            return  # ... and the server closes without a byte of answer
        while read_request(conn):
            conn.sendall(ok_response())

    for server in serve(handler):
        with Transport(timeout_s=2) as transport:
            assert transport.request("POST", server.url, b"1").status == 200
            assert transport.request("POST", server.url, b"2").status == 200
        assert server.connections == 2


def test_silent_server_times_out_within_the_timeout() -> None:
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.recv(1)  # silent until the client gives up and closes

    for server in serve(handler):
        start = time.monotonic()
        with pytest.raises(TransportError) as caught, Transport(timeout_s=0.5) as transport:
            transport.request("POST", server.url, b"x")
        assert time.monotonic() - start < 0.5 + SLACK_S
        assert str(caught.value) == (
            f"no answer from {server.url} within 0.5 s (timed out); "
            "check --om-target-url or raise --om-exchange-timeout"
        )


@pytest.mark.parametrize("where", ["headers", "body"])
def test_dripping_server_is_cut_at_the_deadline(where: str) -> None:
    """One byte every 50 ms never trips a socket timeout; only the deadline stops it."""
    response = ok_response(b"x" * 1000)
    start_at = 0 if where == "headers" else response.index(b"\r\n\r\n") + 4

    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(response[:start_at])
        for byte in response[start_at:]:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    for server in serve(handler):
        start = time.monotonic()
        with pytest.raises(TransportError, match="timed out"), Transport(timeout_s=0.6) as t:
            t.request("POST", server.url, b"x")
        assert time.monotonic() - start < 0.6 + SLACK_S


def test_connection_reset() -> None:
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    for server in serve(handler):
        with pytest.raises(TransportError) as caught, Transport(timeout_s=2) as transport:
            transport.request("POST", server.url, b"x")
        assert caught.value.reason in ("connection reset", "connection closed without an answer")
        assert server.connections == 1  # a fresh connection is not retried


def test_connection_refused() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    url = f"http://127.0.0.1:{port}/OpenMediaService"
    with pytest.raises(TransportError) as caught, Transport(timeout_s=2) as transport:
        transport.request("POST", url, b"x")
    assert caught.value.reason == "connection refused"
    assert str(caught.value).startswith(f"no usable answer from {url}: connection refused;")


def test_declared_oversized_response_is_refused_at_once() -> None:
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
        conn.recv(1)

    for server in serve(handler):
        start = time.monotonic()
        with pytest.raises(TransportError) as caught, Transport(timeout_s=5) as transport:
            transport.request("POST", server.url, b"x")
        assert time.monotonic() - start < 1
        assert "response larger than 8 MiB" in str(caught.value)


@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_streamed_oversized_response_is_cut_and_memory_stays_bounded(framing: str) -> None:
    cap = 1 << 20
    block = b"y" * 65536

    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        if framing == "chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n" % len(block) + block + b"\r\n"
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            chunk = block
        for _ in range(800):  # 50 MiB if nobody stops reading
            conn.sendall(chunk)

    for server in serve(handler):
        tracemalloc.start()
        try:
            with (
                pytest.raises(TransportError) as caught,
                Transport(timeout_s=5, max_response_bytes=cap) as transport,
            ):
                transport.request("POST", server.url, b"x")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert "response larger than 1 MiB" in str(caught.value)
        assert peak < 4 * cap


def test_response_exactly_at_the_cap_is_accepted() -> None:
    body = b"z" * 1000

    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(ok_response(body))

    for server in serve(handler):
        with Transport(timeout_s=2, max_response_bytes=1000) as transport:
            assert transport.request("POST", server.url, b"x").response_body == body


def test_not_an_http_url() -> None:
    with pytest.raises(TransportError, match="not an http"), Transport() as transport:
        transport.request("POST", "ftp://127.0.0.1/x")


def test_malformed_status_line() -> None:
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

    for server in serve(handler):
        with (
            pytest.raises(TransportError, match="malformed HTTP response"),
            Transport(timeout_s=2) as transport,
        ):
            transport.request("POST", server.url, b"x")


def test_password_in_url_userinfo_is_masked_in_messages() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(TransportError) as caught, Transport(timeout_s=1) as transport:
        transport.request("POST", f"http://u:hunter2@127.0.0.1:{port}/x")
    assert "hunter2" not in str(caught.value)
    assert "u:***@127.0.0.1" in str(caught.value)
