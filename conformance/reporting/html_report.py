"""``openmedia-conformance report``: the Allure results of a run as one self-contained HTML file.

One command, offline: Allure Report 3 (the npm package ``allure``, pinned in the project's
``package.json`` and lockfile, installed by ``npm ci``) runs from ``node_modules`` through
``npx --no-install``, so nothing is downloaded when the report is made. It reads
``reports/allure-results`` (what a suite run writes by default) and writes
``reports/allure-report/index.html``: a single file with every script, style and result inside
it, which a CI job can publish as one artifact and anybody can open from disk.

Why the post-processing: Allure 3's report template embeds a Google Analytics tag
unconditionally. A conformance report must not phone home when opened, so the tag is removed and
the page is then checked to load nothing from outside itself; a later Allure version that adds
another external reference makes this command fail rather than ship a page that leaks.

The report groups tests by epic (the description's chapter) and feature (the operation), names
the five verdicts' categories as ``categories.json`` does, and shows ``environment.properties``.
Exit status: 0 written; 2 no results to report (run the suite first); 3 Node.js or Allure missing
or failing (an environment error, as for a suite run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conformance.reporting.categories import categories_json

DEFAULT_RESULTS = Path("reports") / "allure-results"
DEFAULT_OUTPUT = Path("reports") / "allure-report"
REPORT_NAME = "Open Media Service conformance"
MIN_NODE = (20, 19)
"""Allure 3's dependencies (chokidar, p-limit, open) declare Node.js >= 20.19."""
GENERATE_TIMEOUT_S = 600
PROJECT_ROOT = Path(__file__).resolve().parents[2]

_ANALYTICS = re.compile(
    r"<script[^>]*\bsrc=\"https://www\.googletagmanager\.com/[^\"]*\"[^>]*>\s*</script>\s*"
    r"(<script>(?:(?!</script>).)*?\bgtag\((?:(?!</script>).)*?</script>)?",
    re.DOTALL,
)
_REFERENCE = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)=\"([^\"]*)\""
    r"|url\(\s*['\"]?([^'\")\s]*)|@import\s+['\"]([^'\"]*)"
)
_EXTERNAL = re.compile(r"(?i)^(https?:)?//")


class ReportError(Exception):
    """The report could not be made; ``status`` is the command's exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Allure:
    """Where Allure Report 3 is installed and how to start it."""

    project: Path
    npx: str


def find_allure(start: Path) -> Allure:
    """The project folder whose ``node_modules`` holds Allure 3; ``ReportError`` otherwise."""
    candidates = dict.fromkeys([start, *start.parents, PROJECT_ROOT])
    project = next(
        (f for f in candidates if (f / "node_modules" / "allure" / "package.json").is_file()),
        None,
    )
    if project is None:
        raise ReportError(
            f"Allure Report 3 is not installed: no node_modules/allure in {start} or its "
            f"parents, nor in {PROJECT_ROOT}; run `npm ci` in the project folder "
            "(package.json pins it)",
            3,
        )
    npx, node = shutil.which("npx"), shutil.which("node")
    needed = ".".join(map(str, MIN_NODE))
    if npx is None or node is None:
        raise ReportError(
            f"Node.js is not installed (no node/npx on PATH); Allure Report 3 needs >= {needed}",
            3,
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    found = tuple(int(n) for n in re.findall(r"\d+", version.stdout)[:2])
    if found < MIN_NODE:
        raise ReportError(
            f"Node.js {version.stdout.strip() or '(unknown version)'} is too old for Allure "
            f"Report 3 (needs >= {needed}; Debian 12 ships 18: use Debian 13, NodeSource or nvm)",
            3,
        )
    return Allure(project, npx)


def _config(name: str) -> dict[str, object]:
    return {
        "name": name,
        "plugins": {
            "awesome": {
                "options": {
                    "singleFile": True,
                    "reportName": name,
                    "reportLanguage": "en",
                    "groupBy": ["epic", "feature"],
                    "layout": "split",  # the tree beside the selected test's evidence
                }
            }
        },
        "categories": categories_json(),
    }


def make_self_contained(html: str) -> str:
    """``html`` without the analytics tag; ``ReportError`` if it still loads from outside."""
    cleaned = _ANALYTICS.sub("", html)
    references = {ref for found in _REFERENCE.findall(cleaned) for ref in found if ref}
    external = sorted(ref for ref in references if _EXTERNAL.match(ref))
    if external:
        raise ReportError(
            "the generated report loads from outside itself (" + ", ".join(external) + "); "
            "this Allure version is not supported for offline reports",
            3,
        )
    return cleaned


def build_report(results: Path, output: Path, name: str = REPORT_NAME) -> Path:
    """Generate ``output/index.html`` from ``results``; the path of the page."""
    results, output = results.resolve(), output.resolve()
    if not any(results.glob("*-result.json")):
        raise ReportError(
            f"no Allure results in {results}: run the suite first "
            "(openmedia-conformance run writes them there by default)",
            2,
        )
    allure = find_allure(Path.cwd())
    shutil.rmtree(output, ignore_errors=True)
    env = dict(os.environ, NO_COLOR="1", npm_config_offline="true")
    env["npm_config_update_notifier"] = "false"
    with tempfile.TemporaryDirectory(prefix="openmedia-allure-") as tmp:
        config = Path(tmp) / "allurerc.json"
        config.write_text(json.dumps(_config(name), indent=2), encoding="utf-8")
        command = [allure.npx, "--no-install", "allure", "generate", "--config", str(config)]
        command += ["--output", str(output), str(results)]
        try:
            done = subprocess.run(
                command,
                cwd=allure.project,
                env=env,
                capture_output=True,
                text=True,
                timeout=GENERATE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"allure generate took more than {exc.timeout:g} s", 3) from exc
    page = output / "index.html"
    if done.returncode != 0 or not page.is_file():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise ReportError(f"allure generate failed (exit {done.returncode}):\n{tail}", 3)
    page.write_text(make_self_contained(page.read_text(encoding="utf-8")), encoding="utf-8")
    return page


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="DIR",
        help=f"the Allure results to read (default: {DEFAULT_RESULTS})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help=f"where index.html goes; emptied first (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--name", default=REPORT_NAME, help="the report's title")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        page = build_report(args.results, args.output, args.name)
    except ReportError as exc:
        print(f"openmedia-conformance report: {exc}", file=sys.stderr)
        return exc.status
    print(f"report written: {page}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``openmedia-conformance report`` (called by ``conformance.cli``)."""
    parser = subparsers.add_parser(
        "report",
        help="turn reports/allure-results into one self-contained HTML file (Allure Report 3)",
        description="Generate reports/allure-report/index.html, offline, with Allure Report 3 "
        "from node_modules (run `npm ci` once). Exit status: 0 written, 2 no results, "
        "3 Node.js or Allure missing or failing.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run, subparser=parser)
