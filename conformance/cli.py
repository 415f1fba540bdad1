"""``openmedia-conformance``: one console command, one subcommand per job.

``main()`` only dispatches: each subcommand registers its own arguments and its handler, so
adding ``run`` or ``report`` is one more ``_register`` line and touches nothing else.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace, argparse.ArgumentParser], int]


def _register_emulator(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from conformance.emulator import command

    parser = subparsers.add_parser(
        "emulator",
        help="run the reference emulator (SOAP service + control plane)",
        description="Run the reference emulator of the Open Media Service.",
    )
    command.add_arguments(parser)
    parser.set_defaults(handler=command.run, subparser=parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openmedia-conformance",
        description="Conformance suite and reference emulator for the MiCC Enterprise Open "
        "Media Service.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _register_emulator(subparsers)
    from conformance import mutation

    mutation.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    return handler(args, args.subparser)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
