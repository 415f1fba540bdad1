"""Run the emulator on uvicorn: in the foreground (the command line) or in a thread (tests).

The socket is bound here, not by uvicorn, so that ``--port 0`` can announce the port it really
got before serving. Uvicorn handles SIGINT/SIGTERM in the foreground and shuts down cleanly;
a thread is stopped through ``RunningEmulator.stop()``.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import uvicorn

from conformance.contract import namespaces as ns
from conformance.emulator.edge.app import EmulatorApp
from conformance.emulator.engine import Engine
from conformance.emulator.engine.scenario import Scenario, demo_scenario
from conformance.emulator.faults import Row

START_TIMEOUT_S = 10.0
SHUTDOWN_GRACE_S = 1
"""How long a stop waits for requests in flight (a client that never finishes its body must not
keep the emulator from stopping)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol says TCP, and without it Nagle + delayed ACK cost 40 ms per response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _authority(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


NO_CONTROL_PLANE = "without control plane"
"""How the announce line ends when ``/control`` is not served (``--no-control-plane``)."""


def announcement(base: str, *, control_plane: bool = True) -> str:
    """The one line printed on start (the embedded-emulator plugin parses it); without the
    control plane it names no control URL, and says so."""
    control = f"control {base}{ns.CONTROL_PATH}" if control_plane else NO_CONTROL_PLANE
    return f"openmedia-emulator listening on {base}{ns.SERVICE_PATH} {control}"


class _Server(uvicorn.Server):
    """Uvicorn's server, but a SIGINT/SIGTERM ends it with exit status 0.

    Uvicorn re-raises the signal after its graceful shutdown, so the process would die "killed
    by signal"; for a test double that a harness stops routinely, a clean stop is a success.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _server(engine: Engine, sock: socket.socket, *, control_plane: bool = True) -> uvicorn.Server:
    base = f"http://{_authority(sock)}"
    config = uvicorn.Config(
        EmulatorApp(engine, base, control_plane=control_plane),
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    return _Server(config)


def serve_forever(
    host: str,
    port: int,
    scenario: Scenario | None = None,
    faults: Iterable[str | Row] = (),
    *,
    control_plane: bool = True,
) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; prints the announce line first."""
    engine = Engine(scenario or demo_scenario(), faults=faults)
    sock = bind(host, port)
    server = _server(engine, sock, control_plane=control_plane)
    print(announcement(f"http://{_authority(sock)}", control_plane=control_plane), flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()


@dataclass
class RunningEmulator:
    """An emulator serving in a background thread; ``stop()`` ends it (idempotent)."""

    url: str
    control_url: str
    engine: Engine
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT_S)
        self._socket.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    scenario: Scenario | None = None,
    faults: Iterable[str | Row] = (),
) -> RunningEmulator:
    """Start an emulator in a daemon thread and return once it accepts connections."""
    engine = Engine(scenario or demo_scenario(), faults=faults)
    sock = bind(host, port)
    server = _server(engine, sock)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="openmedia-emulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
    base = f"http://{_authority(sock)}"
    return RunningEmulator(
        base + ns.SERVICE_PATH, base + ns.CONTROL_PATH, engine, server, thread, sock
    )
