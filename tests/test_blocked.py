"""A failure blocks, it does not break: the README's baseline example gates CI with exit 0.

The README's example baseline lists ADD-LIMIT-LABEL. Against an emulator whose AddRequest
accepts an over-long Label (planted defect ``add-label-over-limit-accepted``), the tests of that
limit fail, and so does every wire test whose refused AddRequest was carried out instead: they
are *blocked* by ADD-LIMIT-LABEL, a failure of that requirement (never a suite error, which no
baseline could cover). So the baseline entry covers them all and the run exits 0; without it,
exit 1 with no error at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = """[[expected]]
requirement = "ADD-LIMIT-LABEL"
reason = "vendor ticket OM-1234"
owner = "integration-team@example.com"
expires = 2099-01-31
"""
MODULES = ("conformance.suite.test_wire_contract", "conformance.suite.test_add_request_limits")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "OPENMEDIA_PASSWORD")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli.run", *MODULES, "--om-no-allure",
         "--om-emulator-fault", "add-label-over-limit-accepted", "--om-embedded-emulator", "thread",
         "-p", "no:cacheprovider", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_a_baseline_entry_covers_the_tests_its_failure_blocks(tmp_path: Path) -> None:
    (tmp_path / "baseline.toml").write_text(BASELINE, encoding="utf-8")
    done = run(tmp_path, "--om-baseline", "baseline.toml")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    blocked = re.findall(
        r"test_wire_contract\.py::\S+\[AddRequest-data\] \(requirement ADD-LIMIT-LABEL\)", out
    )
    assert len(blocked) >= 5, out[-4000:]  # the wire tests of the refused AddRequest
    verdicts = re.search(r"verdicts: (.*)", out)
    assert verdicts is not None and "error" not in verdicts.group(1), out[-2000:]


def test_without_the_entry_the_blocked_tests_fail_and_none_errs(tmp_path: Path) -> None:
    done = run(tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-4000:]
    assert "blocked: the refused AddRequest this test inspects failed ADD-LIMIT-LABEL" in out
    verdicts = re.search(r"verdicts: (.*)", out)
    assert verdicts is not None and "error" not in verdicts.group(1), out[-2000:]
