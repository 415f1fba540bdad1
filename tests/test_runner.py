"""The three ways to run the suite give the same results and the documented exit statuses.

``openmedia-conformance run`` is exercised as ``python -m conformance.cli.run`` (the command the
lead wires into the CLI calls the same ``run_main``), always from a folder outside the checkout,
as a user would; ``pytest --pyargs conformance.suite`` likewise. Each run starts the real
embedded emulator and runs the service section (a few seconds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli.run import (
    plugin_installed,
    pytest_args,
    translate_aliases,
    translate_exit_code,
    unknown_option_line,
)
from conformance.plugin.options import SUITE_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_ARGS = [] if plugin_installed() else ["-p", "conformance.plugin"]
SERVICE_TESTS = 12  # the tests conformance/suite/test_service.py collects
MODULE = "conformance.suite.test_service"  # one module: collecting the whole suite takes long


def run(cwd: Path, *args: str, module: str = "conformance.cli.run") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for name in ("OPENMEDIA_LOGON_ID", "OPENMEDIA_PASSWORD", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", module, "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    ("pytest_code", "ours"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (4, 2), (5, 2), (99, 3)],
)
def test_exit_codes_translate(pytest_code: int, ours: int) -> None:
    assert translate_exit_code(pytest_code) == ours


def test_run_targets_the_suite_package_and_passes_options_through() -> None:
    args = pytest_args(["-x", "--om-target-url", "http://127.0.0.1:9/OpenMediaService"])
    assert args[-5:] == ["--pyargs", "conformance.suite", "-x", "--om-target-url", args[-1]]
    assert ("-p" in args) is not plugin_installed()


def test_run_translates_the_spellings_without_the_prefix() -> None:
    given = [
        "--target-url", "http://127.0.0.1:9/OpenMediaService", "--profile=p.toml", "--strict",
        "--password", "--strict", "--om-logon-id", "--logon-id", "-k", "add", "--", "--profile",
    ]  # fmt: skip
    assert translate_aliases(given) == [
        "--om-target-url", "http://127.0.0.1:9/OpenMediaService", "--om-profile=p.toml",
        "--om-strict", "--om-password", "--strict", "--om-logon-id", "--logon-id", "-k", "add",
        "--", "--profile",
    ]  # fmt: skip


def test_run_accepts_the_spellings_without_the_prefix(tmp_path: Path) -> None:
    profile = ROOT / "fixtures" / "profiles" / "emulator.toml"
    result = run(
        tmp_path, "--collect-only", "--strict", f"--profile={profile}", "--no-allure",
        "--emulator-fault", "add-by-name-refused", "--exchange-timeout", "4", MODULE,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{SERVICE_TESTS} tests collected" in result.stdout
    assert "strict on; exchange timeout 4 s" in result.stdout
    assert "with faults add-by-name-refused" in result.stdout


def test_run_of_named_suite_modules_leaves_out_the_package() -> None:
    args = pytest_args(["conformance.suite.test_service", "-q"])
    assert args[-3:] == ["--pyargs", "conformance.suite.test_service", "-q"]


def test_run_help_lists_the_openmedia_options(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    assert "usage: openmedia-conformance run" in result.stdout
    for option in ("--om-target-url", "--om-control-url", "--om-profile", "--om-logon-id",
                   "--om-password", "--om-exchange-timeout", "--om-emulator-fault",
                   "--om-embedded-emulator"):  # fmt: skip
        assert option in result.stdout


def test_run_help_starts_with_the_suites_own_options(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    options = [line.split()[0] for line in lines if line.startswith("  --")]
    assert options[: len(SUITE_OPTIONS)] == [option.flag for option in SUITE_OPTIONS]
    ours = lines.index("Open Media Service conformance options:")
    assert ours < 5
    assert ours < lines.index("general:")  # pytest's own options follow


def test_run_unknown_option_is_one_line_with_the_nearest(tmp_path: Path) -> None:
    result = run(tmp_path, "--targt-url", "http://127.0.0.1:9/OpenMediaService")
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [
        "ERROR: openmedia-conformance run: unknown option --targt-url; "
        "did you mean --om-target-url?"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_option_line_names_the_nearest_of_ours_or_pytests() -> None:
    message = "usage: pytest [options]\npytest: error: unrecognized arguments: --strikt -x=1\n"
    assert unknown_option_line(message, ["--junitxml"]) == (
        "openmedia-conformance run: unknown option --strikt; did you mean --om-strict?; "
        "unknown option -x; `openmedia-conformance run --help` lists them"
    )
    assert unknown_option_line("unrecognized arguments: --junitxm", ["--junitxml"]) == (
        "openmedia-conformance run: unknown option --junitxm; did you mean --junitxml?"
    )
    assert unknown_option_line("argument --om-embedded-emulator: invalid choice", []) is None


def test_run_against_the_embedded_emulator_from_any_folder(tmp_path: Path) -> None:
    # -W error: the command itself must cause no pytest warning (an assert-rewrite warning for
    # the package the command imported first, a record_property under xunit2 ...)
    result = run(
        tmp_path,
        "-k",
        "test_service.py",
        "--junitxml",
        "out.xml",
        "-W",
        "error::pytest.PytestWarning",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{SERVICE_TESTS} passed" in result.stdout
    assert "openmedia target: embedded reference emulator" in result.stdout
    xml = (tmp_path / "out.xml").read_text(encoding="utf-8")
    assert '<property name="requirements" value="SVC-WSDL-ADDRESS"' in xml


def test_pytest_pyargs_runs_the_same_suite(tmp_path: Path) -> None:
    result = run(
        tmp_path, *PLUGIN_ARGS, "--pyargs", MODULE,
        module="pytest",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{SERVICE_TESTS} passed" in result.stdout


def test_run_with_xdist_starts_one_emulator_per_worker(tmp_path: Path) -> None:
    result = run(tmp_path, "-n", "2", MODULE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{SERVICE_TESTS} passed" in result.stdout


def test_run_unreachable_target_exits_3(tmp_path: Path) -> None:
    result = run(
        tmp_path, "--om-target-url", "http://127.0.0.1:1/OpenMediaService",
        MODULE, "-k", "test_wsdl_declares_every_operation", "--om-exchange-timeout", "3",
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "connection refused" in result.stdout


def test_run_bad_profile_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "--om-profile", "missing.toml")
    assert result.returncode == 2
    assert "missing.toml: file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_selecting_nothing_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, MODULE, "-k", "no_test_is_called_like_this")
    assert result.returncode == 2


def test_parallel_workers_cannot_share_one_control_plane(tmp_path: Path) -> None:
    """-n with an external control plane outside safe mode: a usage error before any contact
    (each test would reset the one server under the other workers)."""
    url = "http://127.0.0.1:1"
    result = run(
        tmp_path, "-n", "2", "--om-target-url", f"{url}/OpenMediaService",
        "--om-control-url", f"{url}/control", MODULE,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "parallel workers would undo each other" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
