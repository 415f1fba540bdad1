"""Run ``openmedia-conformance run`` in a child process with a hard wall-clock limit.

Why ``os.wait4`` and not ``subprocess.run``: it gives the resource usage of exactly this child
(its peak RSS), where ``getrusage(RUSAGE_CHILDREN)`` is the maximum over every child the test
process ever had. The child runs in its own folder, so whatever it writes (Allure results,
JUnit) is part of its outputs and nobody else's; it gets its own process group, so a run that
overstays is killed whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_POLL_S = 0.02


@dataclass(frozen=True)
class SuiteRun:
    """The outcome of one bounded run."""

    exit_code: int | None
    """The exit status; None when the wall-clock limit killed the run."""
    stdout: str
    stderr: str
    started: float
    ended: float
    peak_rss_kib: int
    cwd: Path
    files: tuple[Path, ...]

    @property
    def elapsed_s(self) -> float:
        return self.ended - self.started

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def everything(self) -> bytes:
        """Console output and every file the run wrote, as one blob to grep."""
        parts = [self.stdout.encode(), self.stderr.encode()]
        parts += [path.read_bytes() for path in self.files]
        return b"\n".join(parts)


def command(*args: str) -> list[str]:
    """``openmedia-conformance run ARGS`` through the interpreter running the tests.

    ``python -m conformance.cli`` is the console script's own ``main`` without the launcher
    (a pyenv shim is a shell script, and its start-up would count against the time limit).
    """
    return [sys.executable, "-m", "conformance.cli", "run", *args]


def run_suite(args: list[str], cwd: Path, limit_s: float, env: dict[str, str]) -> SuiteRun:
    """Run the suite with ``args`` in ``cwd``; kill it (exit_code None) after ``limit_s``."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    root = Path(__file__).resolve().parents[2]
    child_env = {**os.environ, **env}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), child_env.get("PYTHONPATH", "")) if p
    )
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            command(*args), cwd=cwd, stdout=out, stderr=err, env=child_env, start_new_session=True
        )
        exit_code, rss = _wait(process, started + limit_s)
        ended = time.monotonic()
    files = tuple(
        path
        for path in sorted(cwd.rglob("*"))
        if path.is_file() and path not in (out_path, err_path)
    )
    return SuiteRun(
        exit_code,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        started,
        ended,
        rss,
        cwd,
        files,
    )


def _wait(process: subprocess.Popen[bytes], deadline: float) -> tuple[int | None, int]:
    """(exit status or None if killed at the deadline, peak RSS in KiB) of ``process``."""
    killed = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
            return (None if killed else process.returncode), int(usage.ru_maxrss)
        if not killed and time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
        time.sleep(_POLL_S)
