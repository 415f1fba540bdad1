"""``openmedia-conformance report``: one self-contained HTML file, made offline by Allure 3.

The end-to-end test makes real Allure results (a small planted suite run, no emulator needed),
then runs the command from a folder that has never held a report, and reads the page back: one
file, nothing loaded from outside it, the tests and the verdict categories inside it. It needs
``npm ci`` (Allure Report 3 in node_modules) and Node.js >= 20.19: it skips with the reason
when they are missing, and FAILS when ``CI`` is true, so a green CI run always made a report.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import build_parser
from conformance.cli.run import plugin_installed
from conformance.reporting import html_report
from conformance.reporting.categories import CATEGORIES
from conformance.reporting.html_report import ReportError, find_allure, make_self_contained

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_ARGS = [] if plugin_installed() else ["-p", "conformance.plugin"]
PLANTED = """
import pytest
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason, SuiteError

@pytest.mark.requirement("SVC-WSDL")
def test_planted_pass():
    pass

@pytest.mark.requirement("SVC-WSDL")
def test_planted_fail():
    raise ConformanceFailure("SVC-WSDL", "a planted expectation", "not met")

@pytest.mark.requirement("SVC-WSDL")
def test_planted_not_applicable():
    raise NotApplicable(NotApplicableReason.NO_CONTROL_PLANE, "router", "planted")

@pytest.mark.requirement("SVC-WSDL")
def test_planted_error():
    raise SuiteError("planted")
"""
ANALYTICS = (
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>\n'
    "    <script>\n        window.dataLayer = window.dataLayer || [];\n"
    "        function gtag(){dataLayer.push(arguments);}\n        gtag('js', new Date());\n"
    "    </script>\n"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def report_command(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", "report", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def allure_installed() -> None:
    """Skip (or fail under CI=true) unless Allure 3 can run here."""
    try:
        find_allure(ROOT)
    except ReportError as exc:
        if _in_ci():
            pytest.fail(f"{exc} (CI is true: the report must be made)", pytrace=False)
        pytest.skip(str(exc))


# -- the command --------------------------------------------------------------------------------
def test_report_is_a_subcommand_with_documented_defaults() -> None:
    args = build_parser().parse_args(["report"])
    assert args.handler is html_report.run
    assert args.results == Path("reports/allure-results")
    assert args.output == Path("reports/allure-report")


def test_without_results_it_says_to_run_the_suite_first(tmp_path: Path) -> None:
    done = report_command(tmp_path)
    assert done.returncode == 2
    assert "run the suite first" in done.stderr and "reports/allure-results" in done.stderr
    assert not (tmp_path / "reports" / "allure-report").exists()


def test_without_node_modules_it_says_to_run_npm_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_report, "PROJECT_ROOT", tmp_path / "no-project")
    with pytest.raises(ReportError) as caught:
        find_allure(tmp_path)
    assert caught.value.status == 3
    assert "npm ci" in str(caught.value) and "node_modules/allure" in str(caught.value)


def test_the_analytics_tag_is_removed_and_any_external_reference_refused() -> None:
    page = f"<html><head></head><body><div id='app'></div>{ANALYTICS}</body></html>"
    cleaned = make_self_contained(page)
    assert "googletagmanager" not in cleaned and "gtag(" not in cleaned
    assert "<div id='app'></div>" in cleaned
    for reference in (
        '<script src="https://cdn.example/app.js"></script>',
        '<link rel="stylesheet" href="//cdn.example/app.css">',
        "<style>@import url(http://fonts.example/f.css);</style>",
    ):
        with pytest.raises(ReportError, match="loads from outside itself"):
            make_self_contained(f"<html>{reference}</html>")
    inline = '<script src="data:text/javascript;base64,AAAA"></script><a href="https://x.org">'
    assert make_self_contained(inline) == inline  # data: URIs and plain links are fine


def test_the_allure_configuration_is_single_file_with_the_verdict_categories() -> None:
    config: Any = html_report._config("name")
    options = config["plugins"]["awesome"]["options"]
    assert options["singleFile"] is True and options["groupBy"] == ["epic", "feature"]
    assert [c["name"] for c in config["categories"]] == [c.name for c in CATEGORIES]


def test_package_json_pins_allure_3_beside_soap() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    dev = package["devDependencies"]
    assert re.fullmatch(r"3\.\d+\.\d+", dev["allure"]) and dev["soap"] == "1.6.1"
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/allure"]["version"] == dev["allure"]


# -- end to end ---------------------------------------------------------------------------------
def _embedded_files(page: str) -> dict[str, str]:
    """The report's data files, as the single-file page carries them (``d(name, base64)``)."""
    files = {}
    for name, value in re.findall(r'd\("([^"]+)","([A-Za-z0-9+/=]*)"\)', page):
        files[name] = base64.b64decode(value).decode("utf-8", errors="replace")
    return files


def test_report_makes_one_self_contained_page_from_a_clean_state(
    tmp_path: Path, allure_installed: None
) -> None:
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "__init__.py").write_text("")
    (tmp_path / "suite" / "test_planted.py").write_text(PLANTED)
    (tmp_path / "pytest.ini").write_text("[pytest]\nopenmedia_suite_dirs = suite\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *PLUGIN_ARGS, "-p", "no:cacheprovider", "suite"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert not (tmp_path / "reports" / "allure-report").exists()

    done = report_command(tmp_path)
    assert done.returncode == 0, done.stderr
    output = tmp_path / "reports" / "allure-report"
    assert done.stdout.strip() == f"report written: {output / 'index.html'}"
    assert [p.name for p in output.rglob("*.html")] == ["index.html"]
    assert not [p for p in output.rglob("*") if p.is_dir()]  # no assets beside the page
    page = (output / "index.html").read_text(encoding="utf-8")
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page)
    sources = [m for tag in tags for m in re.findall(r'(?:src|href)="([^"]*)"', tag)]
    assert sources and all(s.startswith("data:") for s in sources), sources
    assert "googletagmanager" not in page

    files = _embedded_files(page)
    results = [json.loads(v) for k, v in files.items() if k.startswith("data/test-results/")]
    verdicts = {
        r["name"]: [x["value"] for x in r["labels"] if x["name"] == "verdict"] for r in results
    }
    assert verdicts == {
        "test_planted_pass": ["pass"],
        "test_planted_fail": ["fail"],
        "test_planted_not_applicable": ["not applicable"],
        "test_planted_error": ["error"],
    }
    categories = files["widgets/categories.json"]
    for name in ("Product defects", "Not applicable", "Suite errors"):
        assert name in categories
