"""``openmedia-conformance``: one console command, one subcommand per job.

``main()`` only dispatches: each subcommand registers its own arguments and its handler, so
adding ``run`` or ``report`` is one more ``_register`` line and touches nothing else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace, argparse.ArgumentParser], int]
INTERRUPTED = 3
"""The documented status of an interrupted run (a suite or environment error)."""


def _register_emulator(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from conformance.emulator import command

    parser = subparsers.add_parser(
        "emulator",
        help="run the reference emulator (SOAP service + control plane)",
        description="Run the reference emulator of the Open Media Service.",
    )
    command.add_arguments(parser)
    parser.set_defaults(handler=command.run, subparser=parser)


def _register_run(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Listed for ``--help`` only: ``main`` hands ``run``'s arguments to pytest untouched."""
    subparsers.add_parser(
        "run",
        help="run the conformance suite (default: against the embedded emulator); "
        "every further option goes to pytest; `run --help` lists them",
        add_help=False,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openmedia-conformance",
        description="Conformance suite and reference emulator for the MiCC Enterprise Open "
        "Media Service.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _register_run(subparsers)
    _register_emulator(subparsers)
    from conformance.mutation import matrix as mutation
    from conformance.plugin import preflight

    mutation.register(subparsers)
    preflight.register(subparsers)
    from conformance.reporting import html_report

    html_report.register(subparsers)
    from conformance.reporting import certificate

    certificate.register(subparsers)
    from conformance.cli import cleanup, requirement

    cleanup.register(subparsers)
    requirement.register(subparsers)
    from conformance.cli import soak

    soak.register(subparsers)

    from conformance.cli import compare

    compare.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch; a Ctrl-C that reaches here (while Python modules load, before a command has
    its own handling) ends with one line and the status of an interrupted run, no traceback."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] == "run":
            from conformance.cli.run import run_main

            return run_main(argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Handler = args.handler
        return handler(args, args.subparser)
    except KeyboardInterrupt:
        print("openmedia-conformance: interrupted", file=sys.stderr, flush=True)
        return INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
