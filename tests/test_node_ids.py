"""One ID per suite test, wherever the run starts, and no stray files (issue 10, item 6).

Before, pytest rooted itself wherever the arguments pointed: a profile in another folder gave
``../test_add_request.py::test_add_by_tenant_and_group_name`` (or ``::test_...`` with no file),
wrote ``.pytest_cache`` beside the profile and ``.hypothesis`` into the working directory, and a
baseline entry ``test = "conformance/suite/..."`` neither matched nor went stale.

Each run here is a real one, in a subprocess: the embedded emulator with a planted defect that
fails one test (``add-by-name-refused``), the profile and the baseline in a folder of their own,
started the ways the README gives (``openmedia-conformance run``, ``pytest --pyargs``, ``pytest``
in the checkout), from the checkout, from a folder outside it and from a subfolder, and from a
copy of the package laid out as a wheel installs it. Every run must name the test the same in
its console (``-rA``), its JUnit file and its Allure result, match the baseline entry, and leave
nothing in its working directory (but ``reports/``) or beside the profile; ``run`` must not read
a ``pytest.ini`` or ``conftest.py`` of the folder it starts in.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.cli.run import PACKAGE_PARENT, plugin_installed
from conformance.plugin.node_ids import HYPOTHESIS_ENV
from conformance.reporting.exchange_log import LOG_NAME

ROOT = Path(__file__).resolve().parent.parent
TEST_ID = "conformance/suite/test_add_request.py::test_add_by_tenant_and_group_name"
MODULE = "conformance.suite.test_add_request"
SELECT = ("-k", "test_add_by_tenant_and_group_name")
FAULT = ("--om-emulator-fault", "add-by-name-refused")  # fails exactly that test
HISTORY_ID = "4226df63b1a000758110312797b3c23f"
"""allure-pytest's historyId of the test: a digest of its full name (and parameters)."""
PLUGIN_ARGS = () if plugin_installed() else ("-p", "conformance.plugin")
SUMMARY_LINE = re.compile(r"^(?:PASSED|FAILED|XFAIL|XPASS|ERROR|SKIPPED) (\S+)", re.M)
BASELINE = f"""[[expected]]
test = "{TEST_ID}"
reason = "ticket 1"
owner = "team@example.com"
expires = 2099-12-31
"""


def run(
    cwd: Path,
    *args: str,
    module: str = "conformance.cli.run",
    path: Path = ROOT,
    hypothesis_dir: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """A run as a user starts it: no pytest option or Hypothesis folder from the environment
    (unless ``hypothesis_dir`` names one)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(path), env.get("PYTHONPATH")) if p)
    for name in ("OPENMEDIA_LOGON_ID", "OPENMEDIA_PASSWORD", "PYTEST_ADDOPTS", HYPOTHESIS_ENV):
        env.pop(name, None)
    if hypothesis_dir is not None:
        env[HYPOTHESIS_ENV] = str(hypothesis_dir)
    if module != "conformance.cli.run":  # `run` blocks it (run.ini): another plugin's files
        args = ("-p", "no:benchmark", *args)  # (pytest-benchmark's .benchmarks) are not ours
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass(frozen=True)
class Places:
    """The profile and baseline in a folder of their own; the reports in another."""

    elsewhere: Path
    out: Path

    @property
    def profile(self) -> Path:
        return self.elsewhere / "profile.toml"

    @property
    def baseline(self) -> Path:
        return self.elsewhere / "baseline.toml"

    def report_args(self) -> tuple[str, ...]:
        return (
            "-rA",
            f"--junitxml={self.out / 'junit.xml'}",
            f"--alluredir={self.out / 'allure'}",
        )

    def ids(self, result: subprocess.CompletedProcess[str]) -> dict[str, object]:
        """The test's name in each output: console summary, JUnit, Allure."""
        junit = (self.out / "junit.xml").read_text(encoding="utf-8")
        cases = re.findall(r'<testcase classname="([^"]*)" name="([^"]*)"', junit)
        allure = [
            json.loads(p.read_text(encoding="utf-8"))
            for p in (self.out / "allure").glob("*-result.json")
        ]
        return {
            "console": SUMMARY_LINE.findall(result.stdout),
            "junit": cases,
            # every result names the test alike (a failed test's re-run is a result of its own)
            "allure": sorted({(a["fullName"], a["historyId"]) for a in allure}),
        }


@pytest.fixture
def places(tmp_path: Path) -> Places:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(ROOT / "fixtures" / "profiles" / "emulator.toml", elsewhere / "profile.toml")
    (elsewhere / "baseline.toml").write_text(BASELINE, encoding="utf-8")
    return Places(elsewhere, tmp_path / "out")


def assert_left_nothing(folder: Path, *allowed: str) -> None:
    """Nothing in ``folder`` but (some of) ``allowed``."""
    assert {p.name for p in folder.iterdir()} <= set(allowed), folder


def wheel_layout(site: Path) -> Path:
    """The package as a wheel installs it: ``site/conformance`` with schemas and fixtures in
    ``conformance/_data`` (pyproject's force-include), outside any checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE_PARENT / "conformance", site / "conformance", ignore=ignore)
    for name in ("schemas", "fixtures"):
        shutil.copytree(ROOT / name, site / "conformance" / "_data" / name, ignore=ignore)
    return site


WAYS = {
    # name: (module, arguments before the selection, cwd: "outside" | "deep" | "checkout")
    "run outside the checkout": ("conformance.cli.run", (MODULE,), "outside"),
    "run in a subfolder, relative paths": ("conformance.cli.run", (MODULE,), "deep"),
    "run in the checkout": ("conformance.cli.run", (MODULE,), "checkout"),
    "pytest --pyargs outside the checkout": (
        "pytest",
        (*PLUGIN_ARGS, "--pyargs", MODULE),
        "outside",
    ),
    "pytest in the checkout": ("pytest", PLUGIN_ARGS, "checkout"),
}


@pytest.mark.parametrize("way", list(WAYS))
def test_one_id_whatever_the_folder_and_the_baseline_entry_matches(
    way: str, places: Places, tmp_path: Path
) -> None:
    module, first, where = WAYS[way]
    cwd = {"outside": tmp_path / "cwd", "deep": tmp_path / "cwd" / "a" / "b", "checkout": ROOT}[
        where
    ]
    cwd.mkdir(parents=True, exist_ok=True)
    hostile = module == "conformance.cli.run" and where != "checkout"
    if hostile:  # a user's own pytest setup in the folder: run reads none of it
        (cwd / "pytest.ini").write_text("[pytest]\naddopts = --collect-only\n", encoding="utf-8")
        (cwd / "conftest.py").write_text("raise SystemExit('conftest.py loaded')\n", "utf-8")
    profile, baseline = (
        (os.path.relpath(places.profile, cwd), os.path.relpath(places.baseline, cwd))
        if where == "deep"
        else (str(places.profile), str(places.baseline))
    )
    cache_before = (ROOT / ".pytest_cache").exists()
    result = run(
        cwd, *first, *SELECT, *FAULT, "--om-profile", profile, "--om-baseline", baseline,
        *places.report_args(), module=module,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 expected failure(s) (baseline)" in result.stdout
    assert places.ids(result) == {
        "console": [TEST_ID],
        "junit": [("conformance.suite.test_add_request", "test_add_by_tenant_and_group_name")],
        "allure": [
            ("conformance.suite.test_add_request#test_add_by_tenant_and_group_name", HISTORY_ID)
        ],
    }
    assert f"{TEST_ID.split('::')[0]} x" in result.stdout  # pytest's progress line
    assert_left_nothing(places.elsewhere, "profile.toml", "baseline.toml")
    if where == "checkout":
        assert (ROOT / ".pytest_cache").exists() <= cache_before
    else:
        own = ("pytest.ini", "conftest.py") if hostile else ()
        assert_left_nothing(tmp_path / "cwd", "reports", "a", *own)
        assert_left_nothing(cwd, "reports", *own)
        if (cwd / "reports").exists():  # the exchange log stays there, like the leak audit
            assert_left_nothing(cwd / "reports", ".hypothesis", LOG_NAME)


def test_one_id_from_a_wheel_install_and_the_entry_goes_stale_once_the_test_passes(
    places: Places, tmp_path: Path
) -> None:
    site = wheel_layout(tmp_path / "site-packages")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = run(
        cwd, MODULE, *SELECT, "--om-profile", str(places.profile), "--om-baseline",
        str(places.baseline), *places.report_args(), path=site,
    )  # fmt: skip
    assert f"rootdir: {site}" in result.stdout  # the copy ran, not the checkout
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"stale baseline entry (test {TEST_ID})" in result.stdout
    assert places.ids(result)["console"] == [TEST_ID]
    assert_left_nothing(site, "conformance")
    assert_left_nothing(places.elsewhere, "profile.toml", "baseline.toml")
    assert_left_nothing(cwd, "reports")


def test_the_rerun_command_works_from_any_folder(places: Places, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    relative = os.path.relpath(places.profile, first)
    result = run(first, MODULE, *SELECT, *FAULT, "--om-profile", relative, "-rA", "--om-no-allure")
    assert result.returncode == 1, result.stdout + result.stderr
    assert SUMMARY_LINE.findall(result.stdout) == [TEST_ID]
    lines = result.stdout.splitlines()
    command = shlex.split(lines[lines.index("re-run this test alone:") + 1])
    assert command[:2] == ["openmedia-conformance", "run"]
    assert str(places.profile) in command  # absolute: the relative path meant nothing elsewhere
    again = run(second, *command[2:], "-rA", "--om-no-allure")
    assert again.returncode == 1, again.stdout + again.stderr
    assert SUMMARY_LINE.findall(again.stdout) == [TEST_ID]
    assert "1 failed" in again.stdout


@pytest.mark.parametrize("named", [False, True], ids=["reports", "a folder the user names"])
def test_hypothesis_keeps_its_files_under_reports_or_where_named(
    named: bool, places: Places, tmp_path: Path
) -> None:
    cwd, folder = tmp_path / "cwd", tmp_path / "named"
    cwd.mkdir()
    result = run(
        cwd, "conformance.suite.test_add_request_limits", "-k", "test_valid_side_is_accepted",
        "--om-profile", str(places.profile), "--hypothesis-seed=1", "--om-no-allure",
        hypothesis_dir=folder if named else None,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    if named:
        assert_left_nothing(cwd)
    else:
        assert_left_nothing(cwd, "reports")
        assert_left_nothing(cwd / "reports", ".hypothesis")
        folder = cwd / "reports" / ".hypothesis"
    assert any(folder.iterdir())  # Hypothesis wrote (its constants cache at least) there
    assert_left_nothing(places.elsewhere, "profile.toml", "baseline.toml")
