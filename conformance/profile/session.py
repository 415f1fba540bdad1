"""The target as a session's tests see it: URLs, profile, control features, credentials, and
what safe mode withholds from them (the ``target`` fixture hands a ``TargetSession`` over).

Built once by the plugin (``conformance.plugin.settings.RunSettings.session``); here, below the
suite, so that tests and their support can name its type without importing the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from conformance.profile.model import Profile
from conformance.verdicts import NotApplicable, NotApplicableReason

if TYPE_CHECKING:
    from conformance.wire.credentials import Credentials

SAFE_MODE_WITHHELD = frozenset({"scenario", "agents", "router", "license", "restart", "clock"})
"""Control features that change the server: never used in safe mode, even when the target offers
them. A production server serves real traffic meanwhile: a reset would wipe its cache, an agent
logged on by the suite would get real work, and router, licence, restart and clock fault or age
all of it. Only ``statistics`` (read-only) stays. This is the one place safe mode is enforced:
a test needing a withheld feature is *not applicable* through its ``requires_control`` marker
(or the fixture that needs it) before it sends anything."""

OPTIONS_OPT_IN = "[[overwrite_server_options]]"
"""The profile table that lets safe mode send SetOptions, and only with the values it names."""


class OptionsSent(str, Enum):
    """What a test sends SetOptions with: the argument of its ``sets_options`` marker."""

    IN_FORCE = "in-force"
    """Only the profile's values in force (``every_operation.sample_for`` takes them)."""
    OWN = "own"
    """Values of the test's own choosing: ranges, refusals, random ones, routing effects."""


@dataclass(frozen=True)
class TargetSession:
    """The target as tests see it (the ``target`` fixture)."""

    url: str
    control_url: str | None
    profile: Profile
    features: frozenset[str]
    strict: bool
    timeout_s: float
    credentials: Credentials | None
    embedded: bool

    @property
    def safe_mode(self) -> bool:
        return self.profile.target.safe_mode

    @property
    def usable(self) -> frozenset[str]:
        """The features tests may use: in safe mode none that disturbs the whole server."""
        if self.safe_mode:
            return self.features - SAFE_MODE_WITHHELD
        return self.features

    def has(self, *features: str) -> bool:
        return all(f in self.usable for f in features)

    def missing(self, *features: str) -> tuple[str, ...]:
        return tuple(f for f in features if f not in self.usable)

    def options_allowed(self) -> tuple[dict[str, int | bool], ...]:
        """The SetOptions a safe-mode run may send: the profile's values in force, if any."""
        return tuple(entry.request() for entry in self.profile.overwrite_server_options)

    def why_no_set_options(self, sent: OptionsSent) -> str | None:
        """Why a test that sends SetOptions (``sent``) may not run here; ``None``: it may.

        SetOptions is global (how every agent receives work) and SOAP can neither read options
        back nor restore them, so on a production server only an explicit opt-in allows it, and
        then only with the values the server runs with: re-setting them changes nothing.
        """
        if not self.safe_mode:
            return None
        if not self.profile.overwrite_server_options:
            return (
                "SetOptions would change the server's global configuration for good "
                "(SOAP can neither read nor restore it); to allow it with the values your server "
                f"runs with, name them in the profile's {OPTIONS_OPT_IN}"
            )
        if sent is OptionsSent.OWN:
            return (
                f"SetOptions is sent only with the profile's {OPTIONS_OPT_IN} values, "
                "and this test needs values of its own"
            )
        return None

    def why_missing(self, feature: str) -> NotApplicableReason:
        """Why a control feature the test needs is missing: no control plane at all comes
        first (safe mode only withholds what a control plane offers), then safe mode."""
        if self.control_url is None:
            return NotApplicableReason.NO_CONTROL_PLANE
        if self.safe_mode and feature in SAFE_MODE_WITHHELD:
            return NotApplicableReason.SAFE_MODE
        return NotApplicableReason.CONTROL_FEATURE_MISSING

    def lacking(self, feature: str) -> NotApplicable:
        """The *not applicable* verdict of a test that needs ``feature`` (one it lacks)."""
        return NotApplicable(self.why_missing(feature), feature)
