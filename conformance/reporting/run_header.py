"""The certificate's header: which suite, target, contract, profile, command and verdicts.

Kept apart from the run's hooks (``conformance.reporting.summary``) because it only *describes*
the run once it is over: it reads the settings, the fingerprint and the collected results, and
decides nothing. It holds what a second party needs to rerun the run and to know they test the
same thing: the suite version, the contract served and bundled (sha256 of each document), the
profile (path and sha256 of its bytes: not its content, which may hold a password), the
Hypothesis seed and the command line. Everything that could carry a secret (the command line)
goes through the runtime's redaction first.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.runtime import SessionRuntime
from conformance.reporting.certificate import TestResult
from conformance.reporting.reproduce import command_line, needs_password_env


def certificate_header(
    config: pytest.Config,
    runtime: SessionRuntime,
    seed: str | None,
    results: Sequence[TestResult],
    exit_status: int,
) -> dict[str, Any]:
    """The header ``build_certificate`` stamps on the document (suite, target, profile, run)."""
    from conformance import __version__
    from conformance.plugin.exit_status import translate_exit_code

    settings = runtime.settings
    baseline = settings.baseline
    command = command_line(config.invocation_params.args, seed, needs_password_env(settings))
    target = target_entry(config, runtime)
    return {
        "suite_version": __version__,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "target": target,
        "contract": contract_entry(target),
        "profile": {
            "path": str(settings.profile_path),
            "sha256": _file_sha256(settings.profile_path),
            "name": settings.profile.target.name,
            "control_features": sorted(settings.profile.control_features),
            "control_features_used": features_used(runtime, target),
            "safe_mode": settings.profile.target.safe_mode,
            "authentication": settings.profile.auth.enabled,
        },
        "run": {
            "command_line": runtime.redact(command),
            "hypothesis_seed": seed,
            "strict": settings.strict,
            "baseline": str(baseline.path) if baseline else None,
            "exit_status": translate_exit_code(exit_status),
            "test_verdicts": dict(sorted(Counter(r.verdict.value for r in results).items())),
        },
    }


def features_used(runtime: SessionRuntime, target: dict[str, Any]) -> list[str]:
    """The control features tests could use: offered by the target, and not withheld by safe
    mode (``TargetSession.usable``; in an xdist controller, from the workers' fingerprint)."""
    from conformance.plugin.settings import SAFE_MODE_WITHHELD

    session = runtime.target
    if session is not None:
        return sorted(session.usable)
    offered = set(target.get("features") or ())
    if runtime.settings.profile.target.safe_mode:
        offered -= SAFE_MODE_WITHHELD
    return sorted(offered)


def contract_entry(target: dict[str, Any]) -> dict[str, Any]:
    """sha256 of every contract document the target served (``?wsdl`` and what it names) and
    of the suite's bundled copy (moves the served documents out of ``target``)."""
    from conformance.reporting.fingerprint import bundled_contract

    served: dict[str, Any] = {}
    if target.get("wsdl_sha256"):
        served[f"{target['url']}?wsdl"] = target["wsdl_sha256"]
    served.update(target.pop("documents_sha256", None) or {})
    return {"served_sha256": served, "bundled_sha256": bundled_contract()}


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def target_entry(config: pytest.Config, runtime: SessionRuntime) -> dict[str, Any]:
    """The fingerprint ``conformance.reporting.fingerprint`` took, plus how it was reached."""
    settings = runtime.settings
    try:
        from conformance.reporting.fingerprint import fingerprints

        prints = [p.as_dict() for p in fingerprints(config)]
    except ImportError:  # pragma: no cover - only while that module is missing
        prints = []
    target: dict[str, Any] = (
        dict(prints[0])
        if prints
        else {
            "url": settings.target_url or "embedded reference emulator (not reached)",
            "wsdl_sha256": None,
            "server": None,
            "features": [],
            "problem": "no fingerprint was taken (the target was never reached)",
        }
    )
    session = runtime.target  # None in an xdist controller: the workers reached it
    own = "the embedded emulator's own /control" if settings.embedded else None
    target.update(
        control_url=session.control_url if session else settings.control_url or own,
        embedded=settings.embedded,
        emulator_faults=list(settings.emulator_faults),
    )
    if len(prints) > 1:
        target["other_fingerprints"] = prints[1:]
    return target
