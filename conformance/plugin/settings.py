"""The run's configuration, resolved once: command line over environment over profile.

``RunSettings`` is built when pytest configures (before any test) from the option values the
plugin read (``conformance.plugin.options``: every option, its spelling and its help), so a
wrong option or a broken profile stops the run at once with a usage error.
Its profile is the run's: the logon and passwords the run was given (from whatever source) are
put into ``[auth]``, so a scenario loaded into a controllable target names the same
administrator as the suite's requests. ``secrets`` holds every password of every source, for
the masking of every output (``conformance.secrets``).
``TargetSession`` is what tests see: the settings plus what only the live target can tell (the
embedded emulator's URLs, the control features it offers). Both are frozen: a test cannot
change the run's configuration under another test's feet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conformance.plugin.options import (
    CONTROL_URL,
    DEFAULT_TIMEOUT_S,
    EMBEDDED_EMULATOR,
    EMBEDDED_MODES,
    EMULATOR_FAULT,
    ENV_LOGON_ID,
    ENV_PASSWORD,
    EXCHANGE_TIMEOUT,
    LOGON_ID,
    PASSWORD,
    SIGN_WITH,
    TARGET_URL,
    OptionValues,
)
from conformance.profile import Profile, bundled_profile, load_profile
from conformance.secrets import Secrets
from conformance.verdicts import NotApplicable, NotApplicableReason, UsageError

if TYPE_CHECKING:
    from conformance.reporting.baseline import Baseline
    from conformance.reporting.signature import SigningKey
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


class PasswordSource(Enum):
    """Where the run's (host administrator's) password came from, first found wins."""

    OPTION = PASSWORD.flag
    ENVIRONMENT = f"${ENV_PASSWORD}"
    PROFILE = "[auth] password"
    PROFILE_ENVIRONMENT = "[auth] password_env"


@dataclass(frozen=True)
class RunSettings:
    """Everything the run knows before it touches the target."""

    target_url: str | None
    control_url: str | None
    profile: Profile
    profile_path: Path
    logon_id: str | None
    password: str | None = field(repr=False)
    strict: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    emulator_faults: tuple[str, ...] = ()
    embedded_mode: str = EMBEDDED_MODES[0]
    """``--om-embedded-emulator``: the embedded emulator as a child ``process`` or a ``thread``."""
    baseline: Baseline | None = None
    """The expected-failure baseline (``--om-baseline``), checked when the run starts."""
    certificate_dir: Path | None = None
    """``--om-certificate DIR``; without it only a full-suite run writes one
    (reports/certificate)."""
    signing_key: SigningKey | None = field(default=None, repr=False)
    """``--om-sign-with KEY``: the private key that signs the certificate, read when the run starts
    (a wrong key stops it at once, not after the run)."""
    hypothesis_seed: str | None = None
    """Hypothesis' own ``--hypothesis-seed`` as given (the reporting plugin picks one if not)."""
    no_preflight: bool = False
    """``--om-no-preflight``: a run against a target URL starts without the pre-flight."""
    password_source: PasswordSource | None = None
    """Where ``password`` came from (``None``: no password given)."""
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    """Every password the run was given, from every source, used or not (masked everywhere)."""

    password_origin: str | None = None
    """Where the password came from, in words for a message (``None``: none given); never the
    value. Made by :func:`password_origin`."""

    def credentials(self) -> Credentials | None:
        """The SOAP header credentials, or ``None`` when neither part is known.

        Built on demand: importing the wire layer is not free, and the plugin reads settings in
        every pytest run, including runs that never touch a target.
        """
        if self.logon_id is None and self.password is None:
            return None
        from conformance.wire.credentials import Credentials

        return Credentials(self.logon_id, self.password)

    @property
    def embedded(self) -> bool:
        """True when the plugin starts the reference emulator itself (no target URL given)."""
        return self.target_url is None

    def header_lines(self) -> list[str]:
        """What ``pytest_report_header`` shows. Never the password (nor its length)."""
        faults = f" with faults {', '.join(self.emulator_faults)}" if self.emulator_faults else ""
        target = self.target_url or f"embedded reference emulator (loopback, on first use){faults}"
        control = self.control_url or (
            "the embedded emulator's /control" if self.embedded else "none (observable profile)"
        )
        logon = self.logon_id
        safe = "on" if self.profile.target.safe_mode else "off"
        features = ", ".join(sorted(self.profile.control_features)) or "none"
        return [
            f"openmedia target: {target}",
            f"openmedia control: {control}",
            f"openmedia profile: {self.profile_path} ({self.profile.target.name}); "
            f"logon {logon or 'none'}; safe mode {safe}",
            f"openmedia features expected: {features}; strict {'on' if self.strict else 'off'}; "
            f"exchange timeout {self.timeout_s:g} s",
        ]


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


def build_settings(options: OptionValues, environ: Mapping[str, str]) -> RunSettings:
    """Resolve options, environment and profile into settings; ``UsageError`` on a mistake."""
    if options.timeout_s <= 0:
        raise UsageError(f"{EXCHANGE_TIMEOUT.flag} must be positive, got {options.timeout_s:g}")
    path = Path(options.profile) if options.profile else bundled_profile("emulator")
    profile = load_profile(path)
    target_url = _url(TARGET_URL.flag, options.target_url) or _url(
        f"profile {path}: [target] url", profile.target.url
    )
    control_url = _url(CONTROL_URL.flag, options.control_url) or _url(
        f"profile {path}: [target] control_url", profile.target.control_url
    )
    if target_url is None and control_url is not None:
        raise UsageError(
            f"{CONTROL_URL.flag} needs {TARGET_URL.flag}: the embedded emulator brings its own "
            "control plane; give both URLs, or neither"
        )
    if options.emulator_faults and target_url is not None:
        raise UsageError(
            f"{EMULATOR_FAULT.flag} plants a defect in the embedded emulator and cannot be "
            f"combined with a target URL ({target_url}); drop one of them"
        )
    _check_faults(options.emulator_faults)
    if options.embedded_mode not in EMBEDDED_MODES:
        raise UsageError(
            f"{EMBEDDED_EMULATOR.flag} {options.embedded_mode!r}: "
            f"choose {' or '.join(EMBEDDED_MODES)}"
        )
    if options.embedded_mode != EMBEDDED_MODES[0] and target_url is not None:
        raise UsageError(
            f"{EMBEDDED_EMULATOR.flag} {options.embedded_mode} chooses how the embedded emulator "
            f"runs and cannot be combined with a target URL ({target_url}); drop one of them"
        )
    logon_id, password, source = _credentials(options, profile, path, environ)
    baseline = None
    if options.baseline:
        from conformance.reporting.baseline import load_baseline

        baseline = load_baseline(options.baseline)
    auth = profile.auth
    secrets = Secrets.of(
        (
            options.password,
            environ.get(ENV_PASSWORD),
            auth.resolved_password(environ),
            auth.resolved_non_admin_password(environ),
        )
    )
    origin = password_origin(source, profile, path)  # before the profile's auth is resolved
    profile = dataclasses.replace(profile, auth=auth.resolved(logon_id, password, environ))
    return RunSettings(
        target_url=target_url,
        control_url=control_url,
        profile=profile,
        profile_path=path,
        logon_id=logon_id,
        password=password,
        strict=options.strict,
        timeout_s=options.timeout_s,
        emulator_faults=options.emulator_faults,
        embedded_mode=options.embedded_mode,
        baseline=baseline,
        certificate_dir=Path(options.certificate) if options.certificate else None,
        signing_key=_signing_key(options.sign_with),
        hypothesis_seed=options.hypothesis_seed,
        no_preflight=options.no_preflight,
        password_source=source,
        password_origin=origin,
        secrets=secrets,
    )


def _signing_key(path: str | None) -> SigningKey | None:
    if not path:
        return None
    from conformance.reporting.signature import KeyFileError, load_signing_key

    try:
        return load_signing_key(path)
    except KeyFileError as exc:
        raise UsageError(f"{SIGN_WITH.flag}: {exc}") from None


def _url(what: str, value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{what} {value!r} is not an http(s) URL; give e.g. http://host:12615/OpenMediaService"
        )
    return value


def password_origin(source: PasswordSource | None, profile: Profile, path: Path) -> str | None:
    """``--om-password``, ``$OPENMEDIA_PASSWORD``, the profile's literal or its variable, named."""
    if source is PasswordSource.PROFILE:
        return f"{source.value} of profile {path}"
    if source is PasswordSource.PROFILE_ENVIRONMENT:
        return f"${profile.auth.password_env} (the profile's {source.value}, {path})"
    return None if source is None else source.value


def _credentials(
    options: OptionValues, profile: Profile, path: Path, environ: Mapping[str, str]
) -> tuple[str | None, str | None, PasswordSource | None]:
    logon_id = options.logon_id or environ.get(ENV_LOGON_ID) or profile.auth.logon_id
    auth = profile.auth
    given = (
        (options.password, PasswordSource.OPTION),
        (environ.get(ENV_PASSWORD), PasswordSource.ENVIRONMENT),
        (auth.password, PasswordSource.PROFILE),
        (environ.get(auth.password_env or ""), PasswordSource.PROFILE_ENVIRONMENT),
    )
    # the first one given; an empty one only when no other is (as ``a or b or c`` would have it)
    found = [(p, s) for p, s in given if p is not None]
    password, source = next((f for f in found if f[0]), found[-1] if found else (None, None))
    if profile.auth.enabled:
        if not logon_id:
            raise UsageError(
                f"profile {path} turns authentication on ([auth] enabled = true) but names no "
                f"logon: pass {LOGON_ID.flag}, set {ENV_LOGON_ID}, or set [auth] logon_id"
            )
        if password is None:
            via = f", or set ${profile.auth.password_env}" if profile.auth.password_env else ""
            raise UsageError(
                f"profile {path} turns authentication on ([auth] enabled = true) but no password "
                f"is given: pass {PASSWORD.flag}, set {ENV_PASSWORD}{via}"
            )
    return logon_id, password, source


def _check_faults(names: tuple[str, ...]) -> None:
    """Every ``--om-emulator-fault`` names a planted defect; else a usage error with the nearest."""
    import difflib

    from conformance.emulator.faults import FAULTS

    for name in names:
        if name not in FAULTS:
            near = difflib.get_close_matches(name, FAULTS, n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(
                f"{EMULATOR_FAULT.flag} {name!r} is not a planted defect; {hint}"
                "`openmedia-conformance emulator --help` lists them all"
            )
