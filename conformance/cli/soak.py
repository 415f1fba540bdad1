"""``openmedia-conformance soak``: N clients send a random, valid mix of the twelve operations
for a while, and every answer is held to the invariants a server used by many connectors at
once must keep (``conformance.soak``).

The target is the embedded reference emulator (started as ``run`` starts it, with
``--om-emulator-fault`` planting a defect), or ``--om-target-url`` with ``--om-profile`` and the
credential options, spelt and resolved as ``run``, ``check`` and ``cleanup`` take them. A target
given by URL passes ``check``'s pre-flight first. Exit status: 0 no violation, 1 violations,
2 usage error (or the pre-flight found the credentials or the profile wrong), 3 the target is
unreachable or no Open Media service (or the soak was interrupted before its bound).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import sys
from pathlib import Path

from conformance.plugin.embedded import EmbeddedEmulator, EmulatorStartError
from conformance.plugin.options import (
    EMULATOR_FAULT,
    PROFILE,
    STRICT,
    TARGET_URL,
    add_argument,
    add_credential_arguments,
    credential_options,
)
from conformance.plugin.preflight import run_preflight
from conformance.plugin.settings import RunSettings, build_settings
from conformance.soak.session import Exit, SoakOptions, Target, soak
from conformance.verdicts import UsageError

PROG = "openmedia-conformance soak"
DEFAULT_CLIENTS = 8
MAX_CLIENTS = 64
DEFAULT_DURATION_S = 60.0
MAX_DURATION_S = 24 * 3600.0
MAX_REQUESTS = 10_000_000
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def duration(text: str) -> float:
    """``60s``, ``90``, ``2m``, ``1h`` → seconds; more than 0, at most a day."""
    found = _DURATION.match(text)
    if not found:
        raise argparse.ArgumentTypeError(
            f"{text!r} is no duration: write a positive number of seconds, or one with a unit "
            "(60s, 2m, 1h)"
        )
    seconds = float(found.group(1)) * _UNIT_S[found.group(2)]
    if not 0 < seconds <= MAX_DURATION_S:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a soak lasts more than 0 s and at most {MAX_DURATION_S / 3600:g} h"
        )
    return seconds


def _bounded_int(low: int, high: int, what: str) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is no whole number of {what}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} {what}: give {low} to {high:,}")
        return value

    parse.__name__ = what  # argparse names the type in its message
    return parse  # type: ignore[return-value]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "soak",
        help="N clients send a random valid mix of the 12 operations for a while; every answer "
        "is held to the concurrency invariants (exit 0, 1, 2 or 3)",
        description="Soak a target: N clients (default 8) send a random, valid mix of the 12 "
        "operations for a duration or a number of requests, checking continuously that every "
        "OpenMediaID is new, every created request is listed, statuses only move forward, "
        "polling by time with the TimeStamp fed back neither skips nor repeats an event, and "
        "no undeclared fault, HTTP error or missing answer occurs. Target: the embedded "
        f"emulator, or {TARGET_URL.flag} with {PROFILE.flag}. In safe mode (a vendor "
        "profile's default) the pace holds across all clients and every request created is "
        "cancelled at the end (DoNotReport), with the leak audit. Exit status: 0 no violation, "
        "1 violations, 2 usage error, 3 target unreachable or not the service, or interrupted.",
    )
    add_argument(
        parser, TARGET_URL, help="the SOAP endpoint to soak (default: the embedded emulator)"
    )
    add_credential_arguments(parser)
    add_argument(
        parser,
        EMULATOR_FAULT,
        help=f"plant a defect in the embedded emulator (repeatable; not with {TARGET_URL.flag})",
    )
    add_argument(
        parser, STRICT, help="count SHOULD-level violations as failures (by default warnings)"
    )
    parser.add_argument(
        "--clients",
        type=_bounded_int(1, MAX_CLIENTS, "clients"),
        default=DEFAULT_CLIENTS,
        metavar="N",
        help=f"concurrent clients, each with its own connection (default {DEFAULT_CLIENTS}, "
        f"at most {MAX_CLIENTS})",
    )
    parser.add_argument(
        "--duration",
        type=duration,
        metavar="TIME",
        help=f"how long: 60s, 2m, 1h (default {DEFAULT_DURATION_S:g}s unless --requests is "
        "given; with both, whichever comes first)",
    )
    parser.add_argument(
        "--requests",
        type=_bounded_int(1, MAX_REQUESTS, "requests"),
        metavar="N",
        help=f"how many requests in all (at most {MAX_REQUESTS:,})",
    )
    parser.add_argument(
        "--seed",
        type=_bounded_int(0, 2**31 - 1, "seed"),
        metavar="N",
        help="seed of the random mix (default: a new one, printed)",
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE"
    )
    parser.set_defaults(handler=run, subparser=parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        options = dataclasses.replace(
            credential_options(args, target_url=args.target_url),
            strict=bool(args.strict),
            emulator_faults=tuple(args.emulator_fault or ()),
        )
        settings = build_settings(options, os.environ)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return Exit.USAGE
    duration_s: float | None = args.duration
    if duration_s is None and args.requests is None:
        duration_s = DEFAULT_DURATION_S
    soak_options = SoakOptions(
        clients=args.clients,
        duration_s=duration_s,
        requests=args.requests,
        seed=random.randrange(2**31) if args.seed is None else args.seed,
        strict=bool(args.strict),
        json_path=args.json,
    )
    try:
        if settings.target_url is None:
            return _embedded(settings, soak_options)
        outcome = run_preflight(settings, lambda line: print(line, flush=True))
        if outcome.stopped:
            print(f"{PROG}: pre-flight stopped: {outcome.message}", file=sys.stderr)
            return int(outcome.code)
        target = Target(settings.target_url, settings.target_url, embedded=False)
        return soak(settings, target, soak_options, sys.stdout)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return Exit.USAGE
    except KeyboardInterrupt:  # outside the clients' run (the pre-flight, the emulator's start)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return Exit.NOT_RUN


def _embedded(settings: RunSettings, options: SoakOptions) -> int:
    """Start the reference emulator (loopback, a free port), load the profile's world into it,
    soak it, stop it."""
    from conformance.wire import ControlClient, ControlError

    emulator = EmbeddedEmulator(settings.emulator_faults)
    try:
        urls = emulator.start()
    except EmulatorStartError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return Exit.NOT_RUN
    try:
        if urls.control_url is None:  # started without --no-control-plane: never happens
            print(f"{PROG}: the embedded emulator serves no control plane", file=sys.stderr)
            return Exit.NOT_RUN
        control = ControlClient(urls.control_url, settings.timeout_s)
        try:
            control.reset(settings.profile.to_scenario(os.environ))
        except ControlError as exc:
            print(
                f"{PROG}: the embedded emulator refused the profile's world: {exc}", file=sys.stderr
            )
            return Exit.USAGE
        finally:
            control.close()
        faults = f" with {', '.join(settings.emulator_faults)}" if settings.emulator_faults else ""
        name = f"the embedded emulator{faults} ({urls.service_url})"
        return soak(settings, Target(urls.service_url, name, embedded=True), options, sys.stdout)
    finally:
        emulator.stop()
