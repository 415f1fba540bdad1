"""``openmedia-conformance cleanup [AUDIT]``: cancel what a safe-mode run left behind.

A run whose cleanup was abandoned (the third Ctrl-C), cut short (a silent target, the budget)
or refused (a fault) lists what it left in its leak audit (``reports/leak-audit.json``), with
the target the requests are on. This command cancels them there as the run would have
(CancelIfAllocated, DoNotReport, newest first, paced like safe mode: the profile's
``max_requests_per_second``, else ``SAFE_MODE_RATE``), with the same progress and the same
Ctrl-C rules, and rewrites the audit: *left behind* is then empty, or lists what is still left
and why. Credentials come from the run's own resolution (``settings.build_settings``):
``--om-logon-id``/``--om-password``, ``OPENMEDIA_LOGON_ID``/``OPENMEDIA_PASSWORD``,
``--om-profile`` (each also in its spelling without the prefix).
"""

from __future__ import annotations

import argparse
import enum
import json
import os
import sys
from pathlib import Path
from typing import Any

from conformance.plugin.options import (
    ENV_LOGON_ID,
    ENV_PASSWORD,
    LOGON_ID,
    PASSWORD,
    PROFILE,
    add_credential_arguments,
    credential_options,
)
from conformance.plugin.safe_mode import AUDIT_FILE
from conformance.plugin.settings import build_settings
from conformance.profile import SAFE_MODE_RATE
from conformance.safemode.audit import Audit
from conformance.safemode.cleanup import Cleanup
from conformance.safemode.interrupts import GUARD
from conformance.safemode.ledger import Ledger
from conformance.safemode.transport import RateLimiter
from conformance.verdicts import UsageError

PROG = "openmedia-conformance cleanup"
AUTH_FAULTS = ("InvalidUserFault",)
"""A refusal that is the user's to fix (the credentials), not the target's."""


class Status(enum.IntEnum):
    """The command's exit status."""

    NOTHING_LEFT = 0
    SOME_LEFT = 1
    USAGE = 2
    """No, an unreadable or a malformed audit; a wrong option or profile."""
    UNREACHABLE = 3
    """The target gave no answer at all: nothing was cancelled."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "cleanup",
        help="cancel the requests a safe-mode run left behind (listed in its leak audit)",
        description="Cancel (CancelIfAllocated, DoNotReport) the requests a safe-mode run's "
        "leak audit lists as left behind, on the target the audit names, and rewrite the "
        "audit. Exit status: 0 nothing left, 1 some still left, 2 usage error, 3 target "
        "unreachable.",
    )
    parser.add_argument(
        "audit",
        nargs="?",
        type=Path,
        default=AUDIT_FILE,
        help=f"the run's leak audit (default {AUDIT_FILE})",
    )
    add_credential_arguments(parser)  # the profile also gives max_requests_per_second
    parser.set_defaults(handler=run, subparser=parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    path: Path = args.audit
    try:
        audit, raw = read_audit(path)
        if not audit.left_behind:
            print(f"{PROG}: nothing to cancel: {path} lists nothing left behind")
            return Status.NOTHING_LEFT
        if audit.target is None:
            raise UsageError(
                f"{path} does not name the target its requests are on (an audit written "
                "before the cleanup command existed): cancel them by hand"
            )
        options = credential_options(args, target_url=audit.target)
        settings = build_settings(options, os.environ)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return Status.USAGE

    ledger = Ledger(url=audit.target)
    for oid in sorted(audit.left_behind):
        ledger.note("created", oid)
    rate = settings.profile.target.max_requests_per_second or SAFE_MODE_RATE
    cleanup = Cleanup([ledger], sys.stdout)
    GUARD.install()
    try:
        cleanup.run(settings.credentials(), settings.timeout_s, RateLimiter(rate), GUARD)
    finally:
        GUARD.restore()

    after = audit.after(ledger)
    if cleanup.answered == 0 and cleanup.unreachable is not None and not cleanup.abandoned:
        print(
            f"{PROG}: cannot reach {audit.target}: {cleanup.unreachable}; nothing was cancelled "
            f"and {path} still lists {len(audit.left_behind)}: check that the server is up "
            "(and the audit's target), then run this again",
            file=sys.stderr,
        )
        return Status.UNREACHABLE
    written = _rewrite(path, raw, after)
    if not after.left_behind:
        print(f"{PROG}: nothing left behind on {audit.target}; {written}")
        return Status.NOTHING_LEFT
    print(f"{PROG}: {len(after.left_behind)} still left behind on {audit.target}; {written}:")
    for oid, why in sorted(after.left_behind.items()):
        print(f"  {oid}: {why}")
    if any(fault in why for why in after.left_behind.values() for fault in AUTH_FAULTS):
        print(
            f"the target refused the credentials: pass the run's {PROFILE.flag}, or "
            f"{LOGON_ID.flag} and {PASSWORD.flag} (or ${ENV_LOGON_ID} and ${ENV_PASSWORD})"
        )
    return Status.SOME_LEFT


def read_audit(path: Path) -> tuple[Audit, dict[str, Any]]:
    """The audit at ``path`` and its raw content (a rewrite keeps keys it does not know)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"no leak audit at {path}: a safe-mode run writes {AUDIT_FILE} in the folder it "
            "was started from; name the file if it is elsewhere"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read {path}: {why}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__}, not an object")
        return Audit.from_dict(data), data
    except (ValueError, TypeError, KeyError) as exc:
        what = f"no {exc.args[0]!r} entry" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(
            f"{path} is not a leak audit ({what}); give the {AUDIT_FILE.name} a safe-mode run wrote"
        ) from None


def _rewrite(path: Path, raw: dict[str, Any], audit: Audit) -> str:
    """Write ``audit`` over ``path``; say what became of the file."""
    try:
        path.write_text(json.dumps({**raw, **audit.as_dict()}, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return f"{path} could not be rewritten ({exc.strerror or exc})"
    return f"{path} rewritten"
