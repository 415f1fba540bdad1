"""``openmedia-conformance compare RUN_A RUN_B [--html FILE]``: where two runs differ.

Each run is named by its exchange log (``reports/exchanges.jsonl.gz``), the ``reports`` folder
holding it, or the Allure results folder beside it. Prints, per requirement and test, where the
verdicts differ and, for every test both ran, the first exchange whose normalised answer differs
(``conformance.reporting.comparison``), and lists the tests only one ran. Exit 0 when the runs
agree, 1 when they differ, 2 for a usage error (a path that is no run's log, a damaged log).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.reporting.comparison import compare_logs, render_html, render_text
from conformance.reporting.exchange_log import LOG_NAME, read_log
from conformance.verdicts import UsageError

AGREE = 0
DIFFER = 1
USAGE_ERROR = 2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "compare",
        help="where two runs differ: verdicts per requirement and test, and each test's first "
        "differing answer (IDs, times and ordering noise masked)",
        description="Compare two suite runs (e.g. the reference emulator and a vendor server on "
        "one profile, or two releases of one server) from their exchange logs. Exit 0 when "
        "they agree, 1 when they differ, 2 for a usage error.",
    )
    for name in ("run_a", "run_b"):
        parser.add_argument(
            name,
            metavar=name.upper(),
            type=Path,
            help=f"a run: its {LOG_NAME}, the reports folder holding it, or the Allure results "
            "folder beside it",
        )
    parser.add_argument(
        "--html", metavar="FILE", type=Path, help="also write the comparison as one HTML page"
    )
    parser.set_defaults(handler=compare_command, subparser=parser)


def compare_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        log_a = read_log(args.run_a)
        log_b = read_log(args.run_b)
    except UsageError as exc:
        print(f"openmedia usage error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    comparison = compare_logs(log_a, log_b)
    sys.stdout.write(render_text(comparison))
    if args.html is not None:
        try:
            args.html.parent.mkdir(parents=True, exist_ok=True)
            args.html.write_text(render_html(comparison), encoding="utf-8")
        except OSError as exc:
            print(
                f"openmedia usage error: cannot write {args.html}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return USAGE_ERROR
        print(f"openmedia compare: written {args.html}")
    return AGREE if comparison.agree else DIFFER
