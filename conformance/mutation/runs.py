"""Running the suite for the mutation matrix: one pytest subprocess, and what it recorded.

Every run is ``pytest`` with the suite's plugin and ``conformance.mutation.select`` (which
selects the tests citing one requirement, stops at the first failure citing it, and writes
``--om-mutation-json``), against an embedded emulator served from a thread of that run
(``--om-embedded-emulator thread``: no second interpreter to start per defect), or, for the
observable run, against the emulator on its own without its control plane on the observable
profile (``conformance.mutation.observable``), started with the run's faults. The CPU time of a
run is measured with ``os.wait4``, so the matrix can say what it would take on an idle machine
(an observable run's emulator process is not counted: about 0.7 s to start, little after).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.contract.paths import SUITE_PACKAGE
from conformance.mutation import observable
from conformance.plugin.embedded import EmulatorStartError
from conformance.plugin.options import EMBEDDED_EMULATOR, EMULATOR_FAULT, MUTATION_JSON, RERUNS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600.0
CLEAN_TIMEOUT_S = 1200.0


@dataclass(frozen=True)
class SuiteRun:
    """What one pytest subprocess did, read from ``--om-mutation-json``."""

    exitstatus: int
    seconds: float
    counts: dict[str, int]
    failures: tuple[dict[str, Any], ...]
    error: str = ""
    """Set when the run produced no JSON (timeout, crash): the last lines of its output."""
    cpu_seconds: float = 0.0
    """CPU time of the run (pytest and the emulator it started)."""
    tests: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Every collected test (node ID) with the requirements its markers cite."""
    not_applicable: dict[str, str] = field(default_factory=dict)
    """Every test that was *not applicable* (node ID), with its reason."""
    durations: dict[str, float] = field(default_factory=dict)
    """How long each test that ran took (setup, call and teardown), in seconds."""
    fixtures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Every collected test (node ID) with the fixtures it uses."""

    def applicable(self, requirement: str | None = None) -> list[str]:
        """The tests that applied (ran, whatever their verdict), or those citing
        ``requirement``."""
        return [
            nodeid
            for nodeid, cited in self.tests.items()
            if nodeid not in self.not_applicable and (requirement is None or requirement in cited)
        ]


PYCACHE = Path(tempfile.gettempdir()) / "openmedia-mutation-pycache"
"""Bytecode cache shared by the matrix's runs (outside the checkout): with
PYTHONDONTWRITEBYTECODE (tox sets it) every run would compile every module again."""


def _environment(on: observable.Files | None = None) -> dict[str, str]:
    env = dict(os.environ) if on is None else observable.environment(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only what the suite needs: faster start
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def _pytest(
    targets: Sequence[str], extra: Sequence[str], json_path: Path, *, embedded: bool = True
) -> list[str]:
    # the embedded emulator in a thread: no second interpreter to start for each defect
    thread = [f"{EMBEDDED_EMULATOR.flag}=thread"] if embedded else []
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "conformance.plugin",
        "-p",
        "conformance.mutation.select",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "--tb=native",  # pytest's own traceback reads and parses every frame's source file
        "--assert=plain",  # the suite fails through ConformanceFailure, not rewritten asserts
        *thread,
        f"{RERUNS.flag}=0",  # a planted defect answers the same every time: a re-run only costs
        "-p",
        "no:unraisableexception",  # its five gc.collect() per run cost more than a test
        "-o",
        "console_output_style=classic",
        *targets,
        MUTATION_JSON.flag,
        str(json_path),
        *extra,
    ]


def _run(
    command: list[str], timeout_s: float, on: observable.Files | None = None
) -> tuple[int, str, float, bool]:
    """Run ``command``; (exit code, output tail, CPU seconds of it and its children, timed out).

    The CPU time (``os.wait4``) counts the suite and the emulator it starts; unlike wall time
    it does not depend on what else the machine is doing, so it predicts a CI machine's time.
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=_environment(on), stdout=output, stderr=output
        )
        killed = threading.Event()

        def expire() -> None:
            killed.set()
            process.kill()

        timer = threading.Timer(timeout_s, expire)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        tail = "\n".join(output.read().decode("utf-8", "replace").strip().splitlines()[-15:])
    return process.returncode, tail, usage.ru_utime + usage.ru_stime, killed.is_set()


def run_suite(
    targets: Sequence[str],
    extra: Sequence[str],
    timeout_s: float,
    *,
    faults: Sequence[str] = (),
    on: observable.Files | None = None,
) -> SuiteRun:
    """Run pytest on ``targets`` with ``extra`` options against an emulator with ``faults``
    planted: the embedded one, or ``on`` the observable profile an emulator of its own without
    control plane; read what the run recorded."""
    if on is None:
        planted = [arg for name in faults for arg in (EMULATOR_FAULT.flag, name)]
        return _run_pytest(targets, [*extra, *planted], timeout_s)
    emulator = observable.emulator(on, tuple(faults))
    started = time.monotonic()
    try:
        urls = emulator.start()
    except EmulatorStartError as exc:
        seconds = time.monotonic() - started
        return SuiteRun(-1, seconds, {}, (), f"the observable emulator did not start: {exc}")
    try:
        options = observable.suite_options(on, urls.service_url, preflight=False)
        return _run_pytest(targets, [*extra, *options], timeout_s, on)
    finally:
        emulator.stop()


def _run_pytest(
    targets: Sequence[str],
    extra: Sequence[str],
    timeout_s: float,
    on: observable.Files | None = None,
) -> SuiteRun:
    with tempfile.TemporaryDirectory(prefix="openmedia-mutation-") as tmp:
        json_path = Path(tmp) / "run.json"
        started = time.monotonic()
        command = _pytest(targets, extra, json_path, embedded=on is None)
        code, tail, cpu, timed_out = _run(command, timeout_s, on)
        seconds = time.monotonic() - started
        if timed_out:
            return SuiteRun(-1, seconds, {}, (), f"timed out after {timeout_s}s", cpu)
        if not json_path.exists():
            return SuiteRun(code, seconds, {}, (), tail or "no output", cpu)
        data = json.loads(json_path.read_text(encoding="utf-8"))
    error = "" if data["collected"] else f"no test collected: {tail}"
    return SuiteRun(
        int(data["exitstatus"]),
        seconds,
        dict(data["counts"]),
        tuple(data["failures"]),
        error,
        cpu,
        {item["nodeid"]: tuple(item["requirements"]) for item in data["collected"]},
        dict(data.get("not_applicable", {})),
        dict(data.get("durations", {})),
        {item["nodeid"]: tuple(item.get("fixtures", ())) for item in data["collected"]},
    )


def collect_citations() -> tuple[dict[str, tuple[str, ...]], float]:
    """Requirement ID -> the suite modules (file paths) holding a test that cites it; and the
    CPU seconds the collection took."""
    with tempfile.TemporaryDirectory(prefix="openmedia-mutation-") as tmp:
        json_path = Path(tmp) / "collect.json"
        command = _pytest(["--pyargs", SUITE_PACKAGE], ["--collect-only"], json_path)
        code, tail, cpu, _ = _run(command, RUN_TIMEOUT_S)
        if not json_path.exists():
            raise RuntimeError(f"the suite does not collect (exit {code}):\n{tail}")
        data = json.loads(json_path.read_text(encoding="utf-8"))
    modules: dict[str, dict[str, None]] = {}
    for item in data["collected"]:
        for rid in item["requirements"]:
            modules.setdefault(rid, {})[item["path"]] = None
    return {rid: tuple(paths) for rid, paths in modules.items()}, cpu


def run_clean(on: observable.Files | None = None) -> SuiteRun:
    """The whole suite against the emulator with no fault (``on`` the observable profile): it
    must pass."""
    return run_suite(["--pyargs", SUITE_PACKAGE], [], CLEAN_TIMEOUT_S, on=on)


def counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing ran"
