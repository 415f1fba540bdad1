"""Start a loopback server process (the emulator or the floor) and read its announce line.

A process of its own, as the suite meets the emulator, so that load generators and server do
not share a GIL. Its pid is kept so that its peak RSS (VmHWM) can be read after a load.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from conformance.plugin.embedded import _child_env

ROOT = Path(__file__).resolve().parent.parent
_URL = re.compile(r"(http://127\.0\.0\.1:\d+\S*)")
START_TIMEOUT_S = 15.0


class ServerProcess:
    """``python -m MODULE ARGS``; ``url`` is the first loopback URL of its first stdout line."""

    def __init__(self, module: str, *args: str) -> None:
        self.command = [sys.executable, "-m", module, *args]
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_child_env(),
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        line = self.process.stdout.readline()  # the server prints it once bound
        found = _URL.search(line)
        if not found or time.monotonic() > deadline:
            self.close()
            raise RuntimeError(f"{' '.join(self.command)} did not announce a URL: {line!r}")
        self.url = found.group(1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_mib(self) -> float | None:
        """VmHWM of the live process (Linux); None where /proc is not available."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def emulator() -> ServerProcess:
    return ServerProcess("conformance.emulator", "--host", "127.0.0.1", "--port", "0")


def floor(body_bytes: int) -> ServerProcess:
    return ServerProcess("benchmarks.floor_server", "--body-bytes", str(body_bytes))
