"""Items 1, 4, 5 and the suite's memory: the suite, one test and the matrix, each timed as a
subprocess, exactly as a user starts them.

Exchanges are counted from the run's Allure results: the suite attaches the request and the
response of every exchange of every test (SOAP and control plane alike), so each attached
response is one exchange the target answered. Peak RSS is ``wait4``'s: the largest resident set
of the command or of any process it waited for (the pytest process or the emulator), in MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from benchmarks.servers import ROOT
from conformance.plugin.embedded import _child_env

CLI = [sys.executable, "-m", "conformance.cli"]
SUITE_TIMEOUT_S = 600.0
MATRIX_TIMEOUT_S = 1800.0
CACHE_TEST = "test_default_data_expiration"


@dataclass(frozen=True)
class Timed:
    wall_s: float
    exit_code: int
    peak_rss_mib: float
    output_tail: str


def timed(command: list[str], timeout_s: float) -> Timed:
    """Run ``command`` to its end (killed at ``timeout_s``); wall time, status, peak RSS."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        killer = threading.Timer(timeout_s, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        tail = log.read().decode("utf-8", "replace").splitlines()[-3:]
    return Timed(wall, process.returncode, usage.ru_maxrss / 1024, "\n".join(tail))


def _junit(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    return {
        key: sum(int(s.get(key, 0)) for s in suites)
        for key in ("tests", "failures", "errors", "skipped")
    }


def _exchanges(allure_dir: Path) -> dict[str, int]:
    """Attached responses in the Allure results: all, and those of the control plane."""
    total = control = 0

    def walk(node: dict) -> None:  # type: ignore[type-arg]
        nonlocal total, control
        for attachment in node.get("attachments", []):
            name = attachment.get("name", "")
            if ": response" in name:
                total += 1
                control += "control" in name.split(": response")[0]
        for step in node.get("steps", []):
            walk(step)

    for result in allure_dir.glob("*-result.json"):
        walk(json.loads(result.read_text()))
    return {"exchanges": total, "control_exchanges": control, "soap_exchanges": total - control}


def full_run(workers: int = 0, allure: bool = True) -> dict[str, object]:
    """``openmedia-conformance run`` (``-n workers`` when > 0) at the default profile.

    Allure results are on by default in a run, so they are on here; ``allure=False`` shows
    what writing them costs (no exchange count then: the count comes from them).
    """
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        junit = Path(tmp) / "junit.xml"
        allure_dir = Path(tmp) / "allure"
        command = [
            *CLI,
            "run",
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml",
            str(junit),
            *(["--alluredir", str(allure_dir)] if allure else ["--om-no-allure"]),
            "--om-certificate",
            str(Path(tmp) / "cert"),
        ]
        if workers:
            command += ["-n", str(workers)]
        result = timed(command, SUITE_TIMEOUT_S)
        counts = _junit(junit) if junit.exists() else {}
        exchanges = _exchanges(allure_dir) if allure_dir.exists() else {"exchanges": 0}
    return {
        "workers": workers or 1,
        "allure_results": allure,
        "wall_s": round(result.wall_s, 2),
        "exit_code": result.exit_code,
        **counts,
        **exchanges,
        "exchanges_per_s": round(exchanges["exchanges"] / result.wall_s, 1),
        "peak_rss_mib_largest_process": round(result.peak_rss_mib, 1),
        "tail": result.output_tail,
    }


def cache_expiry() -> dict[str, object]:
    """The one test proving the default 30-minute expiry: its call time (JUnit) and the
    command's wall time (emulator start and collection included)."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [
            *CLI,
            "run",
            "conformance.suite.test_data_cache",
            "-k",
            CACHE_TEST,
            "-q",
            "-p",
            "no:cacheprovider",
            "--om-no-allure",
            "--junitxml",
            str(junit),
            "-o",
            "junit_duration_report=call",
        ]
        result = timed(command, SUITE_TIMEOUT_S)
        cases = ET.parse(junit).getroot().iter("testcase") if junit.exists() else iter(())
        calls = {case.get("name", ""): float(case.get("time", "nan")) for case in cases}
    return {
        "test": f"conformance/suite/test_data_cache.py::{CACHE_TEST}",
        "call_s": calls.get(CACHE_TEST),
        "command_wall_s": round(result.wall_s, 2),
        "exit_code": result.exit_code,
    }


def matrix(jobs: int | None = None) -> dict[str, object]:
    """``openmedia-conformance mutation``: every planted defect plus the clean run."""
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        command = [*CLI, "mutation", "--quiet", "--output", tmp]
        if jobs:
            command += ["--jobs", str(jobs)]
        result = timed(command, MATRIX_TIMEOUT_S)
    return {
        "wall_s": round(result.wall_s, 1),
        "exit_code": result.exit_code,
        "peak_rss_mib_largest_process": round(result.peak_rss_mib, 1),
        "tail": result.output_tail,
    }


if __name__ == "__main__":
    print(json.dumps(cache_expiry(), indent=1))
