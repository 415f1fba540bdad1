"""The certificate's header: which suite, target, contract, profile, command and verdicts.

It only *describes* the run once it is over: it reads the settings, the fingerprint and the
collected results, and decides nothing. It holds what a second party needs to rerun the run and
to know they test the same thing: the suite version, the contract served and bundled (sha256 of
each document), the profile (path and sha256 of its bytes: not its content, which may hold a
password), the Hypothesis seed and the command line (its secrets masked by the caller).
``conformance.plugin.summary`` hands it the run's values (``RunRecord``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from conformance.reporting.certificate import TestResult
from conformance.reporting.fingerprint import TargetFingerprint, bundled_contract
from conformance.reporting.run_description import RunDescription


@dataclass(frozen=True)
class RunRecord:
    """What is known of a finished run beyond its settings."""

    command_line: str
    """The command as typed (its secrets masked)."""
    seed: str | None
    exit_status: int
    """The documented exit status (``conformance.plugin.exit_status``)."""
    fingerprints: tuple[TargetFingerprint, ...] = ()
    """One per process that reached the target (xdist: per worker)."""
    reached: bool = False
    """This process reached the target (an xdist controller does not: its workers do)."""
    control_url: str | None = None
    """The control plane the target was reached with, where ``reached``."""
    usable_features: frozenset[str] = frozenset()
    """The control features tests could use, where ``reached``."""
    withheld_features: frozenset[str] = frozenset()
    """The control features safe mode withholds."""


def certificate_header(
    settings: RunDescription, run: RunRecord, results: Sequence[TestResult]
) -> dict[str, Any]:
    """The header ``build_certificate`` stamps on the document (suite, target, profile, run)."""
    from conformance import __version__

    baseline = settings.baseline
    target = target_entry(settings, run)
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
            "control_features_used": features_used(settings, run, target),
            "safe_mode": settings.profile.target.safe_mode,
            "authentication": settings.profile.auth.enabled,
        },
        "run": {
            "command_line": run.command_line,
            "hypothesis_seed": run.seed,
            "strict": settings.strict,
            "reruns": settings.reruns,
            "baseline": str(baseline.path) if baseline else None,
            "exit_status": run.exit_status,
            "test_verdicts": dict(sorted(Counter(r.verdict.value for r in results).items())),
        },
    }


def features_used(settings: RunDescription, run: RunRecord, target: dict[str, Any]) -> list[str]:
    """The control features tests could use: offered by the target, and not withheld by safe
    mode (``TargetSession.usable``; in an xdist controller, from the workers' fingerprint)."""
    if run.reached:
        return sorted(run.usable_features)
    offered = set(target.get("features") or ())
    if settings.profile.target.safe_mode:
        offered -= run.withheld_features
    return sorted(offered)


def contract_entry(target: dict[str, Any]) -> dict[str, Any]:
    """sha256 of every contract document the target served (``?wsdl`` and what it names) and
    of the suite's bundled copy (moves the served documents out of ``target``)."""
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


def target_entry(settings: RunDescription, run: RunRecord) -> dict[str, Any]:
    """The fingerprint the run took, plus how the target was reached."""
    prints = [p.as_dict() for p in run.fingerprints]
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
    own = "the embedded emulator's own /control" if settings.embedded else None
    target.update(
        control_url=run.control_url if run.reached else settings.control_url or own,
        embedded=settings.embedded,
        emulator_faults=list(settings.emulator_faults),
    )
    if len(prints) > 1:
        target["other_fingerprints"] = prints[1:]
    return target
