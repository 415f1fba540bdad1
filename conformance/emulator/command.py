"""The ``emulator`` command line, shared by ``openmedia-conformance emulator`` and
``python -m conformance.emulator``.

Usage errors (an unreadable scenario, an unknown fault flag) exit 2 through argparse, before
anything is bound.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.emulator.engine.scenario import ScenarioError, load_scenario_file
from conformance.emulator.faults import FAULTS, UnknownFault, validate

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12615
"""The port the vendor's service listens on (wire-facts §1)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}; keep it loopback: the "
        "control plane has no authentication)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to bind (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE.json",
        help="scenario to start with (default: fixtures/scenarios/demo.json)",
    )
    parser.add_argument(
        "--no-control-plane",
        dest="control_plane",
        action="store_false",
        help="serve no control plane (/control answers 404 like any unknown path): the "
        "emulator then stands in for a vendor server, which has none",
    )
    known = ", ".join(sorted(FAULTS)) or "none defined yet"
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help=f"plant a defect (repeatable); known: {known}",
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Check the arguments, then serve until interrupted."""
    from conformance.emulator.edge.server import serve_forever

    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port")
    try:
        faults = validate(args.fault)
        scenario = load_scenario_file(args.scenario) if args.scenario else None
    except (UnknownFault, ScenarioError) as exc:
        parser.error(str(exc))
    try:
        serve_forever(args.host, args.port, scenario, faults, control_plane=args.control_plane)
    except OSError as exc:
        parser.exit(
            1,
            f"openmedia-emulator: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}\n",
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.emulator",
        description="The reference emulator of the Open Media Service, with its control plane "
        "(unless --no-control-plane).",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
