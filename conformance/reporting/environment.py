"""``environment.properties``: what a reader needs to know which run a report shows.

Allure shows the file as the report's environment. It names the target (URL, the sha256 of the
WSDL it served, its Server header), the suite's version, the profile, the control features and
the Hypothesis seed, so that a report read weeks later still says what was tested with what.
Written in the Java properties format both Allure 2 (ISO-8859-1 reader) and Allure 3 read:
anything outside ASCII is escaped as ``\\uXXXX``.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.reporting.fingerprint import TargetFingerprint
    from conformance.reporting.run_description import RunDescription

NOT_FIXED_SEED = "not fixed (each test draws its own; pass --hypothesis-seed=N to fix it)"


def _escape(text: str, *, key: bool) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[char])
        elif (key and char in " =:#!") or (char == " " and index == 0):
            out.append("\\" + char)
        elif ord(char) > 0x7E or ord(char) < 0x20:
            data = char.encode("utf-16-be")
            out += [f"\\u{data[i]:02x}{data[i + 1]:02x}" for i in range(0, len(data), 2)]
        else:
            out.append(char)
    return "".join(out)


def render_properties(values: Mapping[str, str]) -> str:
    """``key=value`` lines, escaped; keys in the given order."""
    lines = [f"{_escape(k, key=True)}={_escape(v, key=False)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def environment_values(
    *,
    version: str,
    settings: RunDescription,
    fingerprints: Iterable[TargetFingerprint],
    seed: object,
) -> dict[str, str]:
    """The values of ``environment.properties`` (several fingerprints: one per xdist worker)."""
    prints = list(fingerprints)
    url = " ".join(dict.fromkeys(p.url for p in prints)) or (
        settings.target_url or "embedded reference emulator (not started)"
    )
    sha = " ".join(dict.fromkeys(p.wsdl_sha256 or f"unknown ({p.problem})" for p in prints))
    servers = " ".join(dict.fromkeys(p.server or "none" for p in prints))
    features = sorted({feature for p in prints for feature in p.features})
    return {
        "suite.version": version,
        "target.url": url,
        "target.embedded": "yes" if settings.embedded else "no",
        "target.wsdl.sha256": sha or "unknown (the target was never reached)",
        "target.server": servers or "unknown",
        "target.control.features": ", ".join(features) or "none known",
        "profile": str(settings.profile_path),
        "profile.name": settings.profile.target.name,
        "strict": "yes" if settings.strict else "no",
        "reruns": str(settings.reruns),
        "hypothesis.seed": NOT_FIXED_SEED if seed is None else str(seed),
        "python": platform.python_version(),
    }
