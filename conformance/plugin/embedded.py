"""Start and stop the reference emulator as a separate process for one test session.

A process, not an imported server object: the suite must treat the emulator exactly as it
treats a vendor server (the architecture forbids the suite importing the emulator), and a
process boundary is the only way to be sure it does. Port 0 lets the emulator pick a free
loopback port, so parallel sessions (pytest-xdist workers) never collide; the emulator
announces the port it got in one line on stdout.

stdout and stderr go to temporary files rather than pipes: nobody reads a pipe after start-up,
and an emulator that logs a lot would block once a pipe's buffer filled.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from conformance.verdicts import SuiteError

if TYPE_CHECKING:
    from conformance.emulator.edge.server import RunningEmulator

START_TIMEOUT_S = 15.0
_ANNOUNCE = re.compile(
    r"openmedia-emulator listening on (\S+) (?:control (\S+)|without control plane)"
)
_LOOPBACK = frozenset({"127.0.0.1", "::1", "[::1]", "localhost"})


class EmulatorStartError(SuiteError):
    """The embedded emulator did not come up; the message carries its stderr."""


@dataclass(frozen=True)
class EmulatorUrls:
    """What the emulator announced: its SOAP endpoint and its control plane base URL (None:
    started with ``--no-control-plane``)."""

    service_url: str
    control_url: str | None


class EmbeddedEmulator:
    """One emulator process: ``start()`` returns its URLs, ``stop()`` ends it (idempotent)."""

    def __init__(
        self,
        faults: tuple[str, ...] = (),
        *,
        host: str = "127.0.0.1",
        start_timeout_s: float = START_TIMEOUT_S,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"the embedded emulator binds loopback only, not {host!r}")
        self.faults = faults
        self.host = host
        self.start_timeout_s = start_timeout_s
        self.extra_args = extra_args
        self.urls: EmulatorUrls | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "conformance.emulator", "--host", self.host, "--port", "0"]
        for fault in self.faults:
            cmd += ["--fault", fault]
        return cmd + list(self.extra_args)

    def start(self) -> EmulatorUrls:
        """Start the process and wait for its announce line (at most ``start_timeout_s``)."""
        if self.urls is not None:
            return self.urls
        # Closed in stop(): they outlive this method, so no ``with`` block.
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=self._stderr,
            env=_child_env(),
        )
        try:
            self.urls = self._await_announce()
        except BaseException:
            self.stop()
            raise
        return self.urls

    def _await_announce(self) -> EmulatorUrls:
        assert self._process is not None and self._stdout is not None
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            # Poll before reading: a process that exited after announcing is told apart from
            # one that never announced (the order matters only in that race).
            status = self._process.poll()
            match = _ANNOUNCE.search(_read(self._stdout))
            if match and status is not None:
                raise EmulatorStartError(
                    f"the embedded emulator announced itself and then exited with status "
                    f"{status}; command: {' '.join(self.command)}\n{self._diagnostics()}"
                )
            if match:
                urls = EmulatorUrls(match.group(1), match.group(2))
                for url in filter(None, (urls.service_url, urls.control_url)):
                    if urlsplit(url).hostname not in _LOOPBACK:
                        raise EmulatorStartError(f"the emulator announced a non-loopback {url}")
                return urls
            if status is not None:
                raise EmulatorStartError(
                    f"the embedded emulator exited with status {status} before announcing "
                    f"itself; command: {' '.join(self.command)}\n{self._diagnostics()}"
                )
            if time.monotonic() >= deadline:
                raise EmulatorStartError(
                    f"the embedded emulator did not announce itself within "
                    f"{self.start_timeout_s:g} s; command: {' '.join(self.command)}\n"
                    f"{self._diagnostics()}"
                )
            time.sleep(0.02)

    def _diagnostics(self) -> str:
        err = _read(self._stderr).strip() if self._stderr else ""
        out = _read(self._stdout).strip() if self._stdout else ""
        tail = "\n".join(err.splitlines()[-30:]) or "(nothing)"
        text = f"its stderr:\n{tail}"
        if out:
            text += "\nits stdout:\n" + "\n".join(out.splitlines()[-10:])
        return text

    def stderr_text(self) -> str:
        """What the emulator has written to stderr so far (for reports of a failed session)."""
        return _read(self._stderr) if self._stderr else ""

    def stop(self, grace_s: float = 5.0) -> None:
        """Terminate, wait, kill if needed; close the log files. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(grace_s)
        for handle in (self._stdout, self._stderr):
            if handle is not None:
                handle.close()
        self._stdout = self._stderr = None
        self.urls = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> EmbeddedEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ThreadEmulator:
    """The emulator served from a thread of this process (``--om-embedded-emulator thread``).

    Same interface as :class:`EmbeddedEmulator`. It shares the suite's interpreter (and GIL), so
    it is less isolated, but it starts without a new interpreter and its imports: the mutation
    matrix, which starts one emulator per planted defect, runs this way.
    """

    def __init__(self, faults: tuple[str, ...] = (), *, host: str = "127.0.0.1") -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"the embedded emulator binds loopback only, not {host!r}")
        self.faults = faults
        self.host = host
        self.urls: EmulatorUrls | None = None
        self._running: RunningEmulator | None = None

    def start(self) -> EmulatorUrls:
        if self.urls is not None:
            return self.urls
        from conformance.emulator.edge.server import serve_in_thread

        try:
            self._running = serve_in_thread(self.host, 0, faults=self.faults)
        except (OSError, RuntimeError, ValueError) as exc:
            raise EmulatorStartError(
                f"the embedded emulator (thread) did not start: {exc}"
            ) from exc
        self.urls = EmulatorUrls(self._running.url, self._running.control_url)
        return self.urls

    def stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.stop()
        self.urls = None

    @property
    def running(self) -> bool:
        return self._running is not None


def _read(handle: IO[bytes] | None) -> str:
    if handle is None:
        return ""
    handle.flush()
    handle.seek(0)
    return handle.read().decode("utf-8", errors="replace")


def _child_env() -> dict[str, str]:
    """The parent's environment, with this checkout first on the path.

    A checkout run without ``pip install`` imports ``conformance`` from the working directory;
    the child may start elsewhere, so it is told where the package lives.
    """
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
