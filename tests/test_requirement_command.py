"""``openmedia-conformance requirement ID``: one hop from a requirement to its tests, its
implementation in the emulator and the planted defects that break it (issue 12).

Driven as a user runs it (the console command in a subprocess, from a folder outside the
checkout), and every place it names is opened and checked: a citing test's line holds a test
function, an emulator place names the requirement, each defect is planted against it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.contract.paths import PACKAGE_PARENT
from conformance.emulator.faults import DEFECTS


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", "requirement", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        check=False,
    )


def test_a_length_limit_requirement_leads_to_its_tests_code_and_defects(tmp_path: Path) -> None:
    done = _run("ADD-LIMIT-LABEL", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["level"] == "MUST" and found["sources"]
    # the dedicated cases get their marker from a table (length_params): a text search misses them
    assert len(found["tests"]) >= 8, found["tests"]
    for test in found["tests"]:
        path, line = test["at"].rsplit(":", 1)
        source = (PACKAGE_PARENT / path).read_text(encoding="utf-8").splitlines()
        assert source[int(line) - 1].lstrip().startswith(("def test_", "async def test_")), test
        assert test["id"].startswith(path + "::")
    assert found["emulator"], "no emulator code names ADD-LIMIT-LABEL"
    for where in found["emulator"]:
        path, line = where.rsplit(":", 1)
        text = (PACKAGE_PARENT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        assert "ADD-LIMIT-LABEL" in text, where
    planted = {d.name for d in DEFECTS if d.requirement == "ADD-LIMIT-LABEL"}
    assert planted and {d["name"] for d in found["defects"]} == planted


def test_the_text_form_names_every_part(tmp_path: Path) -> None:
    done = _run("can-queued-cancels", cwd=tmp_path)  # any case: IDs are written upper-case
    assert done.returncode == 0, done.stderr
    for part in ("CAN-", "sources:", "tests citing it", "emulator code", "planted defects"):
        assert part in done.stdout


def test_an_unknown_id_is_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    done = _run("ADD-LIMIT-LABLE", cwd=tmp_path)
    assert done.returncode == 2
    assert "ADD-LIMIT-LABEL" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
